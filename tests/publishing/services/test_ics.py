import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import translation
from icalendar import Calendar

from tribu.channels.models import Channel
from tribu.publishing.models import Post, PostStatus, PostVariant, PublishingSettings
from tribu.publishing.services.ics import (
    calendar_feed,
    ensure_token,
    rotate_token,
    workspace_for_token,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_base_url(settings):
    """UIDs then end in "@tribu"; tests that need links set a base URL themselves."""
    settings.TRIBU_BASE_URL = ""


@pytest.fixture
def publishing(workspace):
    return PublishingSettings.objects.create(workspace=workspace)


@pytest.fixture
def channel(workspace):
    return Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        name="Brand",
        base_url="https://mastodon.example",
        account_id="1",
    )


def make_post(workspace, publish_at, channels=(), **fields):
    post = Post.objects.create(workspace=workspace, publish_at=publish_at, **fields)
    for channel in channels:
        PostVariant.objects.create(post=post, channel=channel)
    return post


def events(feed):
    calendar = Calendar.from_ical(feed)
    return calendar, {str(event["uid"]): event for event in calendar.walk("VEVENT")}


# Tokens --------------------------------------------------------------------------------


def test_ensure_token_creates_one_secret_token_and_keeps_it(publishing, workspace):
    token = ensure_token(publishing)

    assert len(token) >= 43  # 32 random bytes, base64url
    assert ensure_token(publishing) == token
    stored = PublishingSettings.objects.get(pk=publishing.pk)
    assert stored.ics_token == token
    assert stored.ics_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert ensure_token(stored) == token
    assert workspace_for_token(token) == workspace


def test_the_token_is_stored_encrypted(publishing):
    token = ensure_token(publishing)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ics_token FROM publishing_publishingsettings WHERE workspace_id = %s",
            [publishing.pk],
        )
        [raw] = cursor.fetchone()
    assert raw
    assert token not in raw


def test_two_first_uses_at_once_agree_on_one_token(publishing):
    # Two requests loaded the settings before either created the token.
    other = PublishingSettings.objects.get(pk=publishing.pk)
    first = ensure_token(publishing)
    second = ensure_token(other)
    assert first == second
    assert workspace_for_token(first) == publishing.workspace


def test_rotation_invalidates_the_old_token(publishing, workspace):
    old = ensure_token(publishing)
    new = rotate_token(publishing)

    assert new != old
    assert workspace_for_token(old) is None
    assert workspace_for_token(new) == workspace
    assert ensure_token(PublishingSettings.objects.get(pk=publishing.pk)) == new


@pytest.mark.parametrize("token", ["", None, "not-a-token", "x" * 5000, 42])
def test_an_unknown_token_finds_nothing(publishing, token):
    ensure_token(publishing)
    assert workspace_for_token(token) is None


def test_a_workspace_without_token_is_not_found_by_an_empty_hash(publishing):
    assert publishing.ics_token_hash == ""
    assert workspace_for_token("") is None


def test_tokens_are_per_workspace(publishing, make_workspace):
    other = PublishingSettings.objects.create(workspace=make_workspace())
    assert workspace_for_token(ensure_token(other)) == other.workspace
    assert workspace_for_token(ensure_token(publishing)) == publishing.workspace


# The feed ------------------------------------------------------------------------------


def test_the_feed_has_one_event_per_post_in_the_window(settings, workspace, channel):
    settings.TRIBU_BASE_URL = "https://tribu.example.com"
    inside = make_post(
        workspace, NOW + timedelta(days=2), [channel], title="Tuesday tip",
        text="Le conseil du mardi\nsecond line", status=PostStatus.SCHEDULED,
    )  # fmt: skip
    recent = make_post(workspace, NOW - timedelta(days=29), text="Old but recent")
    make_post(workspace, NOW - timedelta(days=31), text="Too old")
    make_post(workspace, NOW + timedelta(days=181), text="Too far")
    make_post(workspace, None, text="No date yet")

    calendar, found = events(calendar_feed(workspace, now=NOW))

    host = "tribu.example.com"
    assert set(found) == {f"post-{inside.pk}@{host}", f"post-{recent.pk}@{host}"}
    event = found[f"post-{inside.pk}@{host}"]
    start = event.decoded("dtstart")
    assert start == NOW + timedelta(days=2)
    assert start.utcoffset() == timedelta(0)
    assert event.to_ical().decode().count("DTSTART:20260312T120000Z") == 1
    assert event.decoded("duration") == timedelta(minutes=15)
    assert event.decoded("last-modified") == inside.updated_at.replace(microsecond=0)
    assert "dtstamp" in event
    assert str(event["url"]) == f"https://tribu.example.com/w/acme/publishing/posts/{inside.pk}/"
    description = str(event["description"])
    assert "Le conseil du mardi\nsecond line" in description
    assert "Brand (Mastodon)" in description
    assert str(calendar["x-wr-calname"]) == workspace.name
    assert str(calendar["x-wr-timezone"]) == workspace.timezone
    assert str(calendar["version"]) == "2.0"
    assert "prodid" in calendar


def test_the_summary_is_the_status_and_the_title_in_the_workspace_language(workspace):
    titled = make_post(workspace, NOW, title="Tuesday tip", status=PostStatus.SCHEDULED)
    untitled = make_post(workspace, NOW, text="\n  " + "word " * 40 + "\nsecond line")
    _, found = events(calendar_feed(workspace, now=NOW))
    summaries = {uid.split("@")[0]: str(event["summary"]) for uid, event in found.items()}

    with translation.override(workspace.language):
        scheduled = str(PostStatus.SCHEDULED.label)
        draft = str(PostStatus.DRAFT.label)
    assert summaries[f"post-{titled.pk}"].startswith(scheduled)
    assert summaries[f"post-{titled.pk}"].endswith("Tuesday tip")
    summary = summaries[f"post-{untitled.pk}"]
    assert summary.startswith(draft)
    assert summary.endswith("…")
    assert "word word" in summary
    assert "second line" not in summary
    assert len(summary) < len(draft) + 70


def test_the_feed_speaks_english_for_an_english_workspace(make_workspace):
    english = make_workspace(language="en")
    post = make_post(english, NOW, title="Launch", status=PostStatus.IN_REVIEW)
    _, found = events(calendar_feed(english, now=NOW))
    assert str(found[f"post-{post.pk}@tribu"]["summary"]) == "In review: Launch"


def test_uids_are_stable_and_follow_the_post_when_it_moves(workspace):
    post = make_post(workspace, NOW + timedelta(days=1), title="Moving")
    _, before = events(calendar_feed(workspace, now=NOW))
    Post.objects.filter(pk=post.pk).update(
        publish_at=NOW + timedelta(days=3), updated_at=NOW + timedelta(minutes=5)
    )
    _, after = events(calendar_feed(workspace, now=NOW))

    uid = f"post-{post.pk}@tribu"
    assert set(before) == set(after) == {uid}
    assert after[uid].decoded("dtstart") == NOW + timedelta(days=3)
    assert after[uid].decoded("last-modified") == NOW + timedelta(minutes=5)
    assert "url" not in after[uid]  # no TRIBU_BASE_URL, no link


def test_the_feed_of_a_workspace_shows_only_its_posts(workspace, make_workspace):
    mine = make_post(workspace, NOW, title="Mine")
    make_post(make_workspace(), NOW, title="Theirs")
    _, found = events(calendar_feed(workspace, now=NOW))
    assert [str(event["uid"]) for event in found.values()] == [f"post-{mine.pk}@tribu"]


def test_an_empty_calendar_is_still_a_valid_calendar(workspace):
    feed = calendar_feed(workspace, now=NOW)
    assert feed.startswith(b"BEGIN:VCALENDAR")
    calendar, found = events(feed)
    assert found == {}
    assert str(calendar["x-wr-calname"]) == workspace.name
