"""Rituals pages: the list, creating a ritual from a preset or a rule of one's own, its coming
occurrences (drafts in the calendar), editing it, skipping one occurrence, and the roles."""

import re
import secrets
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tribu.channels.models import Channel
from tribu.core.roles import Role
from tribu.publishing.models import Post, PostStatus, Ritual
from tribu.publishing.services import rituals

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 1 October 2030, 10:00 in Paris; the clocks go back on Sunday 27 October.
NOW = datetime(2030, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def channel(workspace):
    return Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        name="Acme on Mastodon",
        account_id=secrets.token_hex(4),
        base_url="https://mastodon.example",
    )


def url(workspace, name, *args):
    return reverse(f"publishing:{name}", args=[workspace.slug, *args])


def form_data(channel=None, **changes):
    data = {
        "name": "#MardiConseil",
        "frequency": "weekly",
        "weekdays": ["TU"],
        "nth": "1",
        "nth_weekday": "TU",
        "month_day": "",
        "rule": "",
        "starts_on": "2030-10-01",
        "at_time": "09:00",
        "channels": [channel.pk] if channel else [],
        "template": "Notre conseil du mardi : ",
        "active": "on",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def local_times(posts):
    return [post.publish_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") for post in posts]


TUESDAYS_AT_9 = [
    "2030-10-08 09:00",
    "2030-10-15 09:00",
    "2030-10-22 09:00",
    "2030-10-29 09:00",
    "2030-11-05 09:00",
    "2030-11-12 09:00",
    "2030-11-19 09:00",
]


def create(client, workspace, **data):
    response = client.post(url(workspace, "ritual_new"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Ritual.objects.get(workspace=workspace), response


# Creating ------------------------------------------------------------------------------


def test_a_weekly_ritual_creates_its_drafts_for_eight_weeks(owner_client, workspace, channel):
    ritual, response = create(owner_client, workspace, **form_data(channel))
    assert response.url == url(workspace, "ritual", ritual.pk)
    assert (ritual.rule, ritual.at_time, ritual.template) == (
        "FREQ=WEEKLY;BYDAY=TU",
        time(9),
        "Notre conseil du mardi : ",
    )
    posts = list(Post.objects.filter(ritual=ritual).order_by("publish_at"))
    # 9:00 on the wall clock on both sides of the change of time (07:00, then 08:00 UTC).
    assert local_times(posts) == TUESDAYS_AT_9
    assert {post.status for post in posts} == {PostStatus.DRAFT}
    assert all(
        list(post.variants.values_list("channel", flat=True)) == [channel.pk] for post in posts
    )
    followed = owner_client.get(response.url).content.decode()
    assert "7 drafts were added to the calendar" in followed


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"frequency": "daily"}, "FREQ=DAILY"),
        ({"frequency": "weekly", "weekdays": ["TH", "MO"]}, "FREQ=WEEKLY;BYDAY=MO,TH"),
        ({"frequency": "biweekly", "weekdays": ["MO"]}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
        ({"frequency": "monthly_nth", "nth": "2", "nth_weekday": "TU"}, "FREQ=MONTHLY;BYDAY=2TU"),
        ({"frequency": "monthly_nth", "nth": "-1", "nth_weekday": "FR"}, "FREQ=MONTHLY;BYDAY=-1FR"),
        ({"frequency": "monthly_day", "month_day": "15"}, "FREQ=MONTHLY;BYMONTHDAY=15"),
        (
            {"frequency": "advanced", "rule": "rrule:freq=monthly;byday=mo;bysetpos=-1"},
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1",
        ),
    ],
)
def test_each_preset_builds_its_rule(owner_client, workspace, changes, rule):
    ritual, _response = create(owner_client, workspace, **form_data(**changes))
    assert ritual.rule == rule
    # The ritual page offers the same preset back for editing.
    body = owner_client.get(url(workspace, "ritual", ritual.pk)).content.decode()
    assert re.search(rf'value="{changes["frequency"]}"[^>]*checked', body)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"weekdays": []}, "weekdays", "Tick at least one day of the week"),
        ({"frequency": "monthly_day", "month_day": ""}, "month_day", "Enter the day of the month"),
        ({"frequency": "advanced", "rule": ""}, "rule", "Write the recurrence rule"),
        (
            {"frequency": "advanced", "rule": "DTSTART:20301001;FREQ=DAILY"},
            "rule",
            "Leave DTSTART out of the rule",
        ),
        ({"frequency": "advanced", "rule": "FREQ=HOURLY"}, "rule", "at most once a day"),
        ({"frequency": "advanced", "rule": "every tuesday"}, "rule", "is not a recurrence rule"),
        (
            {"frequency": "advanced", "rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"},
            "rule",
            "This rule never happens",
        ),
        ({"starts_on": "soon"}, "starts_on", "Enter a date such as"),
    ],
)
def test_a_ritual_that_cannot_work_is_refused_with_the_fix(
    owner_client, workspace, changes, field, message
):
    response = owner_client.post(url(workspace, "ritual_new"), form_data(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    assert not Ritual.objects.exists() and not Post.objects.exists()


def test_another_workspaces_channel_cannot_be_chosen(owner_client, workspace, make_workspace):
    other = make_workspace()
    foreign = Channel.objects.create(
        workspace=other,
        network="mastodon",
        name="Theirs",
        account_id="9",
        base_url="https://m.example",
    )
    response = owner_client.post(url(workspace, "ritual_new"), form_data(foreign))
    assert response.status_code == 400 and "channels" in response.context["form"].errors


# Reading -------------------------------------------------------------------------------


def test_the_list_describes_each_ritual(client_for, make_member, workspace, channel):
    Ritual.objects.create(
        workspace=workspace,
        name="#MardiConseil",
        rule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=NOW.date(),
        at_time=time(9),
    )
    Ritual.objects.create(
        workspace=workspace,
        name="Bilan",
        rule="FREQ=MONTHLY;BYDAY=-1FR",
        starts_on=NOW.date(),
        at_time=time(17, 30),
        active=False,
    )
    viewer = client_for(make_member(workspace, Role.VIEWER))
    body = viewer.get(url(workspace, "rituals")).content.decode()
    assert "Every week on Tuesday, at 09:00" in body
    assert "Next: Tuesday 8 October 2030, 09:00" in body
    assert "Every month on the last Friday, at 17:30" in body and "Inactive" in body
    assert url(workspace, "ritual_new") not in body  # viewers cannot create one


def test_the_ritual_page_lists_coming_occurrences_with_their_posts(
    owner_client, workspace, channel
):
    ritual, _response = create(owner_client, workspace, **form_data(channel))
    first = Post.objects.filter(ritual=ritual).order_by("publish_at").first()
    body = owner_client.get(url(workspace, "ritual", ritual.pk)).content.decode()
    assert body.count('name="occurrence"') == 7
    assert reverse("publishing:post", args=[workspace.slug, first.pk]) in body
    assert "Tuesday 29 October 2030" in body  # after the change of time, still listed at 09:00
    assert body.count("<td>09:00</td>") == 7


def test_occurrence_posts_show_in_the_calendar_with_the_ritual_name(
    owner_client, workspace, channel
):
    ritual, _response = create(owner_client, workspace, **form_data(channel, name="Conseil"))
    post = Post.objects.filter(ritual=ritual).order_by("publish_at").first()
    calendar = reverse("publishing:calendar", args=[workspace.slug]) + "?date=2030-10-08"
    body = owner_client.get(calendar).content.decode()
    chip = body[body.index(f'id="cal-post-{post.pk}"') :]
    assert "Conseil" in chip[: chip.index("</a>") + 400]


# Editing -------------------------------------------------------------------------------


def test_editing_moves_untouched_drafts_and_keeps_edited_ones(owner_client, workspace, channel):
    ritual, _response = create(owner_client, workspace, **form_data(channel))
    drafts = list(Post.objects.filter(ritual=ritual).order_by("publish_at"))
    edited, moved = drafts[0], drafts[1]
    Post.objects.filter(pk=edited.pk).update(text="Written by hand")
    Post.objects.filter(pk=moved.pk).update(publish_at=moved.publish_at.replace(hour=12))
    response = owner_client.post(
        url(workspace, "ritual_edit", ritual.pk),
        form_data(channel, at_time="10:30", template="Nouveau modèle"),
    )
    assert response.status_code == 302
    ritual.refresh_from_db()
    assert ritual.at_time == time(10, 30)
    remaining = Post.objects.filter(ritual=ritual).order_by("publish_at", "id")
    kept = [post for post in remaining if post.pk in (edited.pk, moved.pk)]
    assert len(kept) == 2  # nobody's work is deleted
    fresh = [post for post in remaining if post.pk not in (edited.pk, moved.pk)]
    # 10:30 today is still to come (it is 10:00 in Paris), so today has a draft too.
    expected = ["2030-10-01 10:30"] + [when.replace("09:00", "10:30") for when in TUESDAYS_AT_9]
    assert local_times(fresh) == expected
    assert {post.text for post in fresh} == {"Nouveau modèle"}


def test_editing_the_template_and_channels_updates_untouched_drafts(
    owner_client, workspace, channel
):
    ritual, _response = create(owner_client, workspace, **form_data(channel))
    before = set(Post.objects.filter(ritual=ritual).values_list("pk", flat=True))
    titled = Post.objects.filter(ritual=ritual).first()
    Post.objects.filter(pk=titled.pk).update(title="Spécial rentrée")
    other = Channel.objects.create(
        workspace=workspace,
        network="bluesky",
        name="Acme on Bluesky",
        account_id="b",
        base_url="https://bsky.example",
    )
    owner_client.post(
        url(workspace, "ritual_edit", ritual.pk),
        form_data(other, template="Autre texte", name="Conseil"),
    )
    posts = list(Post.objects.filter(ritual=ritual))
    assert {post.pk for post in posts} == before  # same drafts, same times
    assert {(post.text, post.title) for post in posts if post.pk != titled.pk} == {
        ("Autre texte", "Conseil")
    }
    # A title of its own is kept.
    titled.refresh_from_db()
    assert (titled.text, titled.title) == ("Autre texte", "Spécial rentrée")
    assert {tuple(post.variants.values_list("channel", flat=True)) for post in posts} == {
        (other.pk,)
    }


def test_deactivating_removes_untouched_drafts(owner_client, workspace, channel):
    ritual, _response = create(owner_client, workspace, **form_data(channel))
    edited = Post.objects.filter(ritual=ritual).first()
    Post.objects.filter(pk=edited.pk).update(text="Keep me")
    owner_client.post(url(workspace, "ritual_edit", ritual.pk), form_data(channel, active=None))
    ritual.refresh_from_db()
    assert not ritual.active
    assert list(Post.objects.filter(ritual=ritual)) == [edited]
    body = owner_client.get(url(workspace, "ritual", ritual.pk)).content.decode()
    assert "This ritual is inactive" in body


def test_an_invalid_edit_shows_the_page_with_the_error(owner_client, workspace, channel):
    ritual, _response = create(owner_client, workspace, **form_data(channel))
    response = owner_client.post(
        url(workspace, "ritual_edit", ritual.pk),
        form_data(channel, frequency="advanced", rule="FREQ=SECONDLY"),
    )
    assert response.status_code == 400
    assert "at most once a day" in response.content.decode()
    ritual.refresh_from_db()
    assert ritual.rule == "FREQ=WEEKLY;BYDAY=TU"


# Skipping ------------------------------------------------------------------------------


def test_skipping_an_occurrence_removes_its_untouched_draft(owner_client, workspace, channel):
    ritual, _response = create(owner_client, workspace, **form_data(channel))
    post = Post.objects.get(ritual=ritual, occurrence_at=datetime(2030, 10, 29, 8, tzinfo=UTC))
    response = owner_client.post(
        url(workspace, "ritual_skip", ritual.pk), {"occurrence": "2030-10-29T09:00:00+01:00"}
    )
    assert response.status_code == 302
    assert not Post.objects.filter(pk=post.pk).exists()
    ritual.refresh_from_db()
    assert ritual.skipped == ["2030-10-29T09:00:00"]
    body = owner_client.get(response.url).content.decode()
    assert "The occurrence of Tuesday 29 October 2030, 09:00 is skipped." in body
    assert 'datetime="2030-10-29' not in body and 'datetime="2030-11-05' in body
    # Saving the ritual again does not bring the skipped occurrence back.
    owner_client.post(url(workspace, "ritual_edit", ritual.pk), form_data(channel))
    assert not Post.objects.filter(ritual=ritual, occurrence_at=post.occurrence_at).exists()


def test_skipping_keeps_an_edited_post_and_says_so(owner_client, workspace, channel):
    ritual, _response = create(owner_client, workspace, **form_data(channel))
    post = Post.objects.filter(ritual=ritual).order_by("publish_at").first()
    Post.objects.filter(pk=post.pk).update(text="Already written")
    response = owner_client.post(
        url(workspace, "ritual_skip", ritual.pk), {"occurrence": post.occurrence_at.isoformat()}
    )
    assert Post.objects.filter(pk=post.pk).exists()
    assert (
        "its post was already edited, so it was kept"
        in owner_client.get(response.url).content.decode()
    )


@pytest.mark.parametrize("value", ["", "tomorrow", "2030-10-30T09:00:00+01:00", "2030-10-29T09:00"])
def test_skipping_something_that_is_not_an_occurrence_changes_nothing(
    owner_client, workspace, value
):
    ritual, _response = create(owner_client, workspace, **form_data())
    count = Post.objects.filter(ritual=ritual).count()
    response = owner_client.post(url(workspace, "ritual_skip", ritual.pk), {"occurrence": value})
    assert "is not part of this ritual" in owner_client.get(response.url).content.decode()
    ritual.refresh_from_db()
    assert ritual.skipped == [] and Post.objects.filter(ritual=ritual).count() == count


# Roles and isolation -------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER, Role.CONTRIBUTOR])
def test_only_schedulers_change_rituals(client_for, make_member, workspace, channel, role):
    ritual = Ritual.objects.create(
        workspace=workspace, name="R", rule="FREQ=DAILY", starts_on=NOW.date(), at_time=time(9)
    )
    rituals.materialize(ritual, NOW + rituals.MATERIALIZE_HORIZON, now=NOW)
    client = client_for(make_member(workspace, role))
    page = client.get(url(workspace, "ritual", ritual.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="occurrence"' not in body and url(workspace, "ritual_edit", ritual.pk) not in body
    assert client.get(url(workspace, "ritual_new")).status_code == 403
    assert client.post(url(workspace, "ritual_new"), form_data()).status_code == 403
    assert client.post(url(workspace, "ritual_edit", ritual.pk), form_data()).status_code == 403
    occurrence = Post.objects.filter(ritual=ritual).first().occurrence_at.isoformat()
    skip = client.post(url(workspace, "ritual_skip", ritual.pk), {"occurrence": occurrence})
    assert skip.status_code == 403
    ritual.refresh_from_db()
    assert (ritual.name, ritual.skipped) == ("R", [])


def test_another_workspaces_ritual_is_not_found(owner_client, workspace, make_workspace):
    other = make_workspace()
    ritual = Ritual.objects.create(
        workspace=other, name="Theirs", rule="FREQ=DAILY", starts_on=NOW.date(), at_time=time(9)
    )
    for name in ("ritual", "ritual_edit", "ritual_skip"):
        assert owner_client.post(url(workspace, name, ritual.pk), form_data()).status_code == 404
    assert owner_client.get(url(workspace, "ritual", ritual.pk)).status_code == 404
    ritual.refresh_from_db()
    assert ritual.rule == "FREQ=DAILY"


def test_ritual_pages_answer_only_their_methods(owner_client, workspace):
    ritual, _response = create(owner_client, workspace, **form_data())
    assert owner_client.post(url(workspace, "ritual", ritual.pk)).status_code == 405
    assert owner_client.get(url(workspace, "ritual_edit", ritual.pk)).status_code == 405
    assert owner_client.get(url(workspace, "ritual_skip", ritual.pk)).status_code == 405
    assert owner_client.get(url(workspace, "rituals")).status_code == 200
    assert owner_client.post(url(workspace, "rituals")).status_code == 405
