"""The Mastodon client against the write-side fake, over real HTTP on loopback."""

import io
import json
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from PIL import Image

from tribu.channels.networks import mastodon
from tribu.channels.networks.base import CannotTell, Content, NotFound, Published, PublishError
from tribu.listening.fetch.http import send
from tribu.testing.fakes.mastodon import TOKEN, MastodonPublishFake, iso
from tribu.testing.fakes.schemas import (
    mastodon_openapi,
    mastodon_operation,
    mastodon_parameters,
    mastodon_properties,
    validate_openapi,
)
from tribu.testing.publishing import Stages

KEY = "delivery-key-1"


def client_for(fake, *, token=TOKEN, timeout=None):
    channel = SimpleNamespace(
        base_url=fake.base_url,
        account_id=fake.account["id"],
        handle="@tribu@mastodon.example",
        secret_values={"access_token": token},
        limits={},
    )
    client = mastodon.MastodonClient(channel, timeout=timeout)
    client.media_poll_delays = (0.01,) * 5  # the fake processes in polls, not in seconds
    return client


def publish(client, content, *, key=KEY, stage=None, stages=None):
    return client.publish(
        content, idempotency_key=key, stage=stage or {}, save_stage=stages or Stages()
    )


def closed_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def png(color="red", size=(8, 6)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def images(settings, tmp_path):
    """Two images in MEDIA_ROOT, as Content.media lists them."""
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "posts").mkdir()
    media = []
    for name, color, alt in (("a.png", "red", "A red square"), ("b.png", "blue", "Un carré bleu")):
        data = png(color)
        (tmp_path / "posts" / name).write_bytes(data)
        media.append(
            {
                "path": f"posts/{name}",
                "alt": alt,
                "content_type": "image/png",
                "width": 8,
                "height": 6,
                "size": len(data),
                "data": data,  # for the assertions only; the client reads the file
            }
        )
    return media


# --- connect ---------------------------------------------------------------------------


def test_connect_describes_the_account_and_the_instance_limits():
    with MastodonPublishFake(max_characters=1000, max_media=6, description_limit=900) as fake:
        account = mastodon.MastodonClient.connect(fake.base_url, {"access_token": TOKEN})
    assert account.account_id == fake.account["id"]
    assert account.handle == "@tribu@mastodon.example"
    assert account.name == "Tribu"
    assert account.avatar_url == fake.account["avatar"]
    assert account.secrets == {"access_token": TOKEN}
    assert account.limits == {
        "max_characters": 1000,
        "characters_reserved_per_url": 23,
        "max_media": 6,
        "image_size_limit": 16 * 1024 * 1024,
        "description_limit": 900,
    }
    assert [r.headers.get("authorization") for r in fake.requests] == [f"Bearer {TOKEN}", None]


def test_connect_with_a_wrong_token_asks_to_connect_again(mastodon_fake):
    mastodon_fake.revoke(TOKEN)
    with pytest.raises(PublishError) as caught:
        mastodon.MastodonClient.connect(mastodon_fake.base_url, {"access_token": TOKEN})
    assert (caught.value.kind, caught.value.code) == ("reauth", "token_invalid")
    assert caught.value.detail == "The access token is invalid"
    assert "Connect the account again" in caught.value.message


def test_connect_uses_default_limits_when_the_instance_endpoint_fails(mastodon_fake):
    mastodon_fake.fail(500, path="/api/v2/instance")
    account = mastodon.MastodonClient.connect(mastodon_fake.base_url, {"access_token": TOKEN})
    assert account.limits == mastodon.DEFAULT_LIMITS
    assert (account.limits["max_characters"], account.limits["max_media"]) == (500, 4)
    # Without the instance's domain, the handle uses the API's host name.
    assert account.handle == "@tribu@127.0.0.1"


def test_connect_keeps_the_default_alt_text_limit_of_older_servers():
    with MastodonPublishFake(description_limit=None) as fake:
        account = mastodon.MastodonClient.connect(fake.base_url, {"access_token": TOKEN})
    assert account.limits["description_limit"] == 1500


def test_connect_to_an_unreachable_instance():
    with pytest.raises(PublishError) as caught:
        mastodon.MastodonClient.connect(closed_url(), {"access_token": TOKEN})
    assert (caught.value.kind, caught.value.sent) == ("retry_later", False)


# --- publish ---------------------------------------------------------------------------


def test_publish_text(mastodon_fake):
    stages = Stages()
    content = Content(text="Bonjour la tribu", language="fr")
    published = publish(client_for(mastodon_fake), content, stages=stages)

    [status] = mastodon_fake.statuses
    assert isinstance(published, Published)
    assert published.remote_id == status["id"]
    assert published.url == status["url"] == f"https://mastodon.example/@tribu/{status['id']}"
    assert [(request, code) for request, code, _ms in published.requests] == [
        ("POST /api/v1/statuses", 200)
    ]
    assert all(isinstance(ms, int) for _request, _code, ms in published.requests)
    [request] = mastodon_fake.status_requests()
    assert request.headers["idempotency-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "status": "Bonjour la tribu",
        "visibility": "public",
        "language": "fr",
    }
    assert status["language"] == "fr" and status["visibility"] == "public"
    # One part: nothing to resume, the delivery records the outcome itself.
    assert stages.saved == []


def test_publish_ignores_the_first_comment(mastodon_fake):
    publish(client_for(mastodon_fake), Content(text="Post", first_comment="A comment"))
    assert [mastodon_fake.sources[s["id"]] for s in mastodon_fake.statuses] == ["Post"]


def test_publish_with_images_and_alt_text(mastodon_fake, images):
    stages = Stages()
    content = Content(text="Two squares", media=images)
    published = publish(client_for(mastodon_fake), content, stages=stages)

    uploads = mastodon_fake.media_requests()
    assert len(uploads) == 2
    for upload, image in zip(uploads, images, strict=True):
        assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
        assert image["alt"].encode() in upload.body
        assert image["data"] in upload.body
    media_ids = list(mastodon_fake.media)
    for media_id, image in zip(media_ids, images, strict=True):
        received = mastodon_fake.media[media_id]
        assert received["attachment"]["description"] == image["alt"]
        assert received["filename"] == image["path"].rsplit("/", 1)[1]
        assert received["content_type"] == "image/png"
        assert received["size"] == len(image["data"])
    [status] = mastodon_fake.statuses
    assert [m["id"] for m in status["media_attachments"]] == media_ids
    assert [m["description"] for m in status["media_attachments"]] == [
        "A red square",
        "Un carré bleu",
    ]
    assert json.loads(mastodon_fake.status_requests()[0].body)["media_ids"] == media_ids
    # Each media id is saved before the next call (the status id of a one-part post is the
    # outcome, recorded by the delivery).
    assert stages.saved == [
        {"media_ids": media_ids[:1]},
        {"media_ids": media_ids},
    ]
    assert [request for request, _code, _ms in published.requests] == [
        "POST /api/v2/media",
        "POST /api/v2/media",
        "POST /api/v1/statuses",
    ]


def test_image_still_processing_is_polled_until_ready(mastodon_fake, images):
    mastodon_fake.processing_polls = 2
    published = publish(client_for(mastodon_fake), Content(text="Later", media=images[:1]))

    [media_id] = mastodon_fake.media
    polls = [r for r in mastodon_fake.requests if r.path == f"/api/v1/media/{media_id}"]
    assert len(polls) == 3
    assert [code for request, code, _ms in published.requests if request.startswith("GET")] == [
        206,
        206,
        200,
    ]
    [status] = mastodon_fake.statuses
    assert [m["id"] for m in status["media_attachments"]] == [media_id]


def test_image_processing_too_long_is_retried_without_uploading_again(mastodon_fake, images):
    mastodon_fake.processing_polls = 50
    client = client_for(mastodon_fake)
    stages = Stages()
    content = Content(text="Slow image", media=images[:1])
    with pytest.raises(PublishError) as caught:
        publish(client, content, stages=stages)
    assert (caught.value.kind, caught.value.code) == ("retry_later", "media_processing")
    [media_id] = mastodon_fake.media
    assert stages.last == {"media_ids": [media_id]}
    assert mastodon_fake.statuses == []

    # Resumed while the server still works: it refuses unfinished media with a 422.
    with pytest.raises(PublishError) as caught:
        publish(client, content, stage=stages.last, stages=stages)
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "retry_later",
        "media_processing",
        422,
    )

    mastodon_fake.media[media_id]["polls_left"] = 0
    published = publish(client, content, stage=stages.last, stages=stages)
    assert len(mastodon_fake.media_requests()) == 1
    [status] = mastodon_fake.statuses
    assert published.remote_id == status["id"]
    assert [m["id"] for m in status["media_attachments"]] == [media_id]


def test_missing_image_file_needs_a_fix_and_sends_nothing(mastodon_fake, images, tmp_path):
    (tmp_path / images[0]["path"]).unlink()
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="x", media=images[:1]))
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        "fix_content",
        "media_missing",
        False,
    )
    assert mastodon_fake.requests == []


def test_image_refused_by_the_instance_needs_a_fix(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "big.png").write_bytes(png(size=(400, 400)))
    content = Content(text="x", media=[{"path": "big.png", "alt": "", "content_type": "image/png"}])
    with MastodonPublishFake(image_size_limit=100) as fake, pytest.raises(PublishError) as caught:
        publish(client_for(fake), content)
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "fix_content",
        "rejected",
        422,
    )
    assert "file size" in caught.value.detail
    assert "description" not in fake.media_requests()[0].body.decode("latin-1")


def test_thread_parts_are_chained_each_with_its_own_key(mastodon_fake):
    stages = Stages()
    content = Content(text="1/3 Début", thread=["2/3 Milieu", "3/3 Fin"])
    published = publish(client_for(mastodon_fake), content, stages=stages)

    first, second, third = mastodon_fake.statuses
    assert published.remote_id == first["id"]
    assert published.url == first["url"]
    assert (first["in_reply_to_id"], second["in_reply_to_id"], third["in_reply_to_id"]) == (
        None,
        first["id"],
        second["id"],
    )
    assert [r.headers["idempotency-key"] for r in mastodon_fake.status_requests()] == [
        KEY,
        f"{KEY}:1",
        f"{KEY}:2",
    ]
    # Each part's id is saved before the next part is sent.
    assert [stage["status_ids"] for stage in stages.saved] == [
        [first["id"]],
        [first["id"], second["id"]],
    ]


def test_thread_resumes_after_the_last_published_part(mastodon_fake):
    client = client_for(mastodon_fake)
    stages = Stages()
    content = Content(text="1/3", thread=["2/3", "3/3"])
    mastodon_fake.pass_through(path="/api/v1/statuses")
    mastodon_fake.fail(503, path="/api/v1/statuses")
    with pytest.raises(PublishError) as caught:
        publish(client, content, stages=stages)
    assert (caught.value.kind, caught.value.code) == ("retry_later", "server_error")
    [first] = mastodon_fake.statuses
    assert stages.last["status_ids"] == [first["id"]]

    published = publish(client, content, stage=stages.last, stages=stages)
    assert published.remote_id == first["id"]
    assert published.url == first["url"]
    sent = [json.loads(r.body)["status"] for r in mastodon_fake.status_requests()]
    assert sent == ["1/3", "2/3", "2/3", "3/3"]  # the refused 2/3, then only what was missing
    assert [mastodon_fake.sources[s["id"]] for s in mastodon_fake.statuses] == ["1/3", "2/3", "3/3"]
    assert mastodon_fake.statuses[1]["in_reply_to_id"] == first["id"]
    assert mastodon_fake.duplicates() == []


def test_lost_answer_then_same_key_returns_the_original_post(mastodon_fake):
    client = client_for(mastodon_fake, timeout=0.3)
    mastodon_fake.stall_after_processing(1.0, path="/api/v1/statuses")
    stages = Stages()
    content = Content(text="Once only")
    with pytest.raises(PublishError) as caught:
        publish(client, content, stages=stages)
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        "unknown",
        "no_answer",
        True,
    )
    assert caught.value.request == "POST /api/v1/statuses"
    assert len(mastodon_fake.posts_with_text("Once only")) == 1  # it did get through
    assert stages.saved == []

    published = publish(client, content, stage=stages.last, stages=stages)
    [status] = mastodon_fake.posts_with_text("Once only")
    assert published.remote_id == status["id"]
    assert len(mastodon_fake.statuses) == 1
    assert mastodon_fake.duplicates() == []
    assert mastodon_fake.stats() == {"statuses": 1, "duplicates": []}


def test_idempotency_key_is_forgotten_after_an_hour(mastodon_fake):
    client = client_for(mastodon_fake)
    publish(client, Content(text="Twice"))
    mastodon_fake.advance(1800)
    publish(client, Content(text="Twice"))
    assert len(mastodon_fake.statuses) == 1
    mastodon_fake.advance(1801)
    publish(client, Content(text="Twice"))
    assert len(mastodon_fake.statuses) == 2
    assert mastodon_fake.duplicates() == ["Twice"]
    assert mastodon.MastodonClient.idempotent is True
    assert mastodon.MastodonClient.idempotency_window == 3600


def test_dropped_connection_after_the_post_is_unknown(mastodon_fake):
    mastodon_fake.drop_after_processing(path="/api/v1/statuses")
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="Dropped"))
    assert (caught.value.kind, caught.value.sent) == ("unknown", True)
    assert len(mastodon_fake.statuses) == 1


def test_refused_connection_is_retried_and_nothing_was_sent(mastodon_fake):
    client = client_for(mastodon_fake)
    client.channel.base_url = closed_url()
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="x"))
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        "retry_later",
        "unreachable",
        False,
    )


def test_private_address_is_refused_unless_allowed(mastodon_fake, settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="x"))
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        "fatal",
        "blocked_address",
        False,
    )
    assert mastodon_fake.requests == []


def test_rate_limit_with_retry_after(mastodon_fake):
    mastodon_fake.fail(429, retry_after="120", path="/api/v1/statuses")
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="x"))
    error = caught.value
    assert (error.kind, error.code, error.status, error.retry_after) == (
        "retry_later",
        "rate_limited",
        429,
        120,
    )
    assert "120 seconds" in error.message
    assert mastodon_fake.statuses == []


def test_rate_limit_with_mastodon_reset_time(mastodon_fake):
    reset = iso(datetime.now(UTC) + timedelta(seconds=90))
    mastodon_fake.fail(429, path="/api/v1/statuses", headers={"X-RateLimit-Reset": reset})
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="x"))
    assert caught.value.kind == "retry_later"
    assert 85 <= caught.value.retry_after <= 91


def test_retry_after_seconds_prefers_retry_after_and_reads_iso_times():
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert mastodon.retry_after_seconds({"retry-after": "7"}, now) == 7
    reset = {"x-ratelimit-reset": "2026-03-01T09:05:00.000Z"}
    assert mastodon.retry_after_seconds(reset, now) == 300
    assert mastodon.retry_after_seconds({"x-ratelimit-reset": "2026-03-01T08:00:00Z"}, now) == 0
    assert mastodon.retry_after_seconds({"x-ratelimit-reset": "soon"}, now) is None
    assert mastodon.retry_after_seconds({}, now) is None


def test_server_error_is_retried_later(mastodon_fake):
    mastodon_fake.fail(500, path="/api/v1/statuses")
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="x"))
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "retry_later",
        "server_error",
        500,
    )


def test_refused_content_needs_a_fix_with_the_servers_words():
    with MastodonPublishFake(max_characters=10) as fake, pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Far more than ten characters"))
    error = caught.value
    assert (error.kind, error.code, error.status) == ("fix_content", "rejected", 422)
    assert error.detail == "Validation failed: Text character limit of 10 exceeded"
    assert error.detail in error.message


def test_revoked_token_needs_reconnecting(mastodon_fake):
    mastodon_fake.revoke(TOKEN)
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="x"))
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "reauth",
        "token_invalid",
        401,
    )
    assert "Reconnect the channel" in caught.value.message


def test_missing_write_scope_is_fatal_and_says_to_reconnect(mastodon_fake):
    mastodon_fake.add_token("read-only", scopes="read:accounts read:statuses")
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake, token="read-only"), Content(text="x"))
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "fatal",
        "scope_missing",
        403,
    )
    assert "Reconnect the channel and grant Tribu write access" in caught.value.message


def test_unreadable_success_is_unknown(mastodon_fake):
    mastodon_fake.respond_raw(b"<html>Welcome</html>", path="/api/v1/statuses")
    with pytest.raises(PublishError) as caught:
        publish(client_for(mastodon_fake), Content(text="x"))
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        "unknown",
        "bad_answer",
        True,
    )


# --- find ------------------------------------------------------------------------------


def test_find_a_published_post(mastodon_fake):
    since = datetime.now(UTC)
    client = client_for(mastodon_fake)
    publish(client, Content(text="Another post"), key="other")
    publish(client, Content(text="The one we look for"))
    found = client.find(Content(text="The one we look for"), stage={}, since=since)
    [status] = mastodon_fake.posts_with_text("The one we look for")
    assert isinstance(found, Published)
    assert (found.remote_id, found.url) == (status["id"], status["url"])
    [request] = [r for r in mastodon_fake.requests if r.method == "GET"]
    assert request.args == {"limit": ["40"], "exclude_reblogs": ["true"]}
    assert [code for _request, code, _ms in found.requests] == [200]


def test_find_reports_a_post_that_is_not_there(mastodon_fake):
    since = datetime.now(UTC)
    client = client_for(mastodon_fake)
    publish(client, Content(text="Something else"))
    assert isinstance(client.find(Content(text="Not posted"), stage={}, since=since), NotFound)


def test_find_ignores_posts_older_than_the_attempt(mastodon_fake):
    client = client_for(mastodon_fake)
    publish(client, Content(text="Same words"))
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert isinstance(client.find(Content(text="Same words"), stage={}, since=later), NotFound)


def test_find_matches_html_with_links_mentions_and_tags(mastodon_fake):
    since = datetime.now(UTC)
    text = (
        "Notre guide : https://www.example.com/blog/2026/03/un-tres-long-article-sur-la-veille."
        "\nMerci @jeanne@autre.example & <l'équipe> #Tribu\n\nÀ bientôt !"
    )
    client = client_for(mastodon_fake)
    publish(client, Content(text=text))
    content_html = mastodon_fake.statuses[0]["content"]
    assert 'class="ellipsis"' in content_html and "&lt;l&#x27;équipe&gt;" in content_html
    assert "@jeanne@" not in mastodon.status_text(content_html)
    found = client.find(Content(text=text), stage={}, since=since)
    assert isinstance(found, Published)
    assert found.remote_id == mastodon_fake.statuses[0]["id"]
    # The words matter: the same post with another word is not it.
    other = text.replace("bientôt", "demain")
    assert isinstance(client.find(Content(text=other), stage={}, since=since), NotFound)


def test_words_ignore_url_shortening_and_markup():
    html = (
        '<p>Voir <a href="https://example.com/a/very/long/path/indeed/yes" rel="nofollow">'
        '<span class="invisible">https://</span><span class="ellipsis">example.com/a/very'
        '</span><span class="invisible">/long/path/indeed/yes</span></a>.<br />Merci '
        '<span class="h-card"><a href="https://x.example/@ana" class="u-url mention">@'
        '<span>ana</span></a></span> <a href="https://m.example/tags/tribu" '
        'class="mention hashtag" rel="tag">#<span>Tribu</span></a></p>'
    )
    text = "Voir https://example.com/a/very/long/path/indeed/yes.\nMerci @ana@x.example #tribu"
    assert mastodon.words(mastodon.status_text(html)) == mastodon.words(text)
    assert mastodon.words(text) == ["voir", "merci", "ana", "tribu"]
    # Servers that show only a shortened link text, without the hidden rest.
    short = (
        '<p>Voir <a href="https://example.com/a/very/long/path/indeed/yes">example.com/a/very…'
        "</a>.</p><p>Merci @ana #Tribu</p>"
    )
    assert mastodon.words(mastodon.status_text(short)) == mastodon.words(text)


def test_find_a_thread_uses_the_stage_and_the_reply_chain(mastodon_fake):
    since = datetime.now(UTC)
    client = client_for(mastodon_fake)
    content = Content(text="Part one", thread=["Part two"])
    published = publish(client, content)
    first, second = mastodon_fake.statuses
    assert published.remote_id == first["id"]

    found = client.find(content, stage={}, since=since)
    assert isinstance(found, Published) and found.remote_id == first["id"]
    known = {"status_ids": [first["id"]], "url": first["url"]}
    found = client.find(content, stage=known, since=since)
    assert isinstance(found, Published) and found.url == first["url"]
    everything = {"status_ids": [first["id"], second["id"]], "url": first["url"]}
    found = client.find(content, stage=everything, since=since)
    assert (found.remote_id, found.requests) == (first["id"], [])

    # A reply is not a first part, even with the same words.
    assert isinstance(client.find(Content(text="Part two"), stage={}, since=since), NotFound)
    # A longer thread whose last part is missing: with the stage, publishing again sends
    # only that part (NotFound); without it, Tribu cannot resume, so a person must look.
    longer = Content(text="Part one", thread=["Part two", "Part three"])
    both = {"status_ids": [first["id"], second["id"]]}
    assert isinstance(client.find(longer, stage=both, since=since), NotFound)
    told = client.find(longer, stage={}, since=since)
    assert isinstance(told, CannotTell)
    assert "2 of the 3 parts" in told.reason


def test_find_needs_the_media_count_to_match(mastodon_fake, images):
    since = datetime.now(UTC)
    client = client_for(mastodon_fake)
    publish(client, Content(text="With images", media=images))
    assert isinstance(
        client.find(Content(text="With images", media=images), stage={}, since=since), Published
    )
    assert isinstance(client.find(Content(text="With images"), stage={}, since=since), NotFound)


def test_find_pages_back_until_the_attempt(mastodon_fake):
    since = datetime.now(UTC)
    client = client_for(mastodon_fake)
    publish(client, Content(text="The old one"), key="old")
    for number in range(45):
        publish(client, Content(text=f"Newer {number}"), key=f"k{number}")
    found = client.find(Content(text="The old one"), stage={}, since=since)
    assert isinstance(found, Published)
    pages = [r for r in mastodon_fake.requests if r.method == "GET"]
    assert len(pages) == 2 and pages[1].arg("max_id")


def test_find_raises_when_the_token_is_dead(mastodon_fake):
    mastodon_fake.revoke(TOKEN)
    with pytest.raises(PublishError) as caught:
        client_for(mastodon_fake).find(Content(text="x"), stage={}, since=datetime.now(UTC))
    assert caught.value.kind == "reauth"


def test_find_raises_when_the_instance_is_unreachable(mastodon_fake):
    client = client_for(mastodon_fake)
    client.channel.base_url = closed_url()
    with pytest.raises(PublishError) as caught:
        client.find(Content(text="x"), stage={}, since=datetime.now(UTC))
    assert (caught.value.kind, caught.value.sent) == ("retry_later", False)


# --- OAuth -----------------------------------------------------------------------------

REDIRECT = "https://tribu.example/channels/mastodon/callback"


def authorize(url):
    """The user approves: the fake redirects to our callback with a code and the state."""
    response = urllib3.request("GET", url, redirect=False)
    assert response.status == 302, response.data
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def test_oauth_with_pkce_gives_a_token_that_connects(mastodon_fake):
    app = mastodon.register_app(mastodon_fake.base_url, REDIRECT, website="https://tribu.example")
    registered = mastodon_fake.apps[app["client_id"]]
    assert registered["scopes"] == mastodon.SCOPES.split()
    assert app["client_secret"] == registered["client_secret"]

    verifier = mastodon.new_code_verifier()
    assert 43 <= len(verifier) <= 128
    url = mastodon.authorization_url(
        mastodon_fake.base_url,
        app["client_id"],
        REDIRECT,
        mastodon.SCOPES,
        "state-123",
        mastodon.code_challenge(verifier),
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == [mastodon.SCOPES]
    answer = authorize(url)
    assert answer["state"] == "state-123"

    token = mastodon.exchange_code(
        mastodon_fake.base_url,
        app["client_id"],
        app["client_secret"],
        REDIRECT,
        answer["code"],
        verifier,
    )
    assert token["scope"] == mastodon.SCOPES
    account = mastodon.MastodonClient.connect(mastodon_fake.base_url, token)
    assert account.account_id == mastodon_fake.account["id"]
    # The new token publishes, and the status names the app.
    client = client_for(mastodon_fake, token=token["access_token"])
    publish(client, Content(text="Via OAuth"))
    assert mastodon_fake.statuses[0]["application"]["name"] == "Tribu"


def test_oauth_refuses_a_wrong_or_missing_code_verifier(mastodon_fake):
    app = mastodon.register_app(mastodon_fake.base_url, REDIRECT)
    verifier = mastodon.new_code_verifier()
    url = mastodon.authorization_url(
        mastodon_fake.base_url,
        app["client_id"],
        REDIRECT,
        mastodon.SCOPES,
        "s",
        mastodon.code_challenge(verifier),
    )
    code = authorize(url)["code"]
    base = (mastodon_fake.base_url, app["client_id"], app["client_secret"], REDIRECT, code)
    for wrong in (mastodon.new_code_verifier(), ""):
        with pytest.raises(PublishError) as caught:
            mastodon.exchange_code(*base, wrong)
        assert (caught.value.kind, caught.value.code, caught.value.status) == (
            "fatal",
            "invalid_grant",
            400,
        )
    assert mastodon.exchange_code(*base, verifier)["access_token"]
    with pytest.raises(PublishError) as caught:  # a code works once
        mastodon.exchange_code(*base, verifier)
    assert caught.value.code == "invalid_grant"


def test_oauth_with_an_unknown_app_says_to_connect_again(mastodon_fake):
    with pytest.raises(PublishError) as caught:
        mastodon.exchange_code(mastodon_fake.base_url, "nope", "nope", REDIRECT, "c", "v")
    assert (caught.value.code, caught.value.status) == ("invalid_client", 401)


def test_oauth_refuses_a_token_without_write_access(mastodon_fake):
    app = mastodon.register_app(mastodon_fake.base_url, REDIRECT)
    verifier = mastodon.new_code_verifier()
    url = mastodon.authorization_url(
        mastodon_fake.base_url,
        app["client_id"],
        REDIRECT,
        "read:accounts",
        "s",
        mastodon.code_challenge(verifier),
    )
    code = authorize(url)["code"]
    with pytest.raises(PublishError) as caught:
        mastodon.exchange_code(
            mastodon_fake.base_url, app["client_id"], app["client_secret"], REDIRECT, code, verifier
        )
    assert (caught.value.kind, caught.value.code) == ("fatal", "scope_missing")


# --- the fake's contract ---------------------------------------------------------------


def get_json(fake, path, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    result = send("GET", fake.url(path), headers=headers)
    return result.status, result.json()


def test_fake_responses_follow_the_openapi_description(mastodon_fake, images):
    mastodon_fake.processing_polls = 1
    client = client_for(mastodon_fake)
    publish(client, Content(text="Hello @ana@x.example #Tribu https://example.com", media=images))
    publish(client, Content(text="Reply", thread=["Second"]), key="thread")

    status, account = get_json(mastodon_fake, "/api/v1/accounts/verify_credentials")
    assert status == 200
    validate_openapi(account, "CredentialAccount")
    status, instance = get_json(mastodon_fake, "/api/v2/instance", token=None)
    validate_openapi(instance, "Instance")
    for media_id in mastodon_fake.media:
        status, attachment = get_json(mastodon_fake, f"/api/v1/media/{media_id}")
        assert status == 200
        validate_openapi(attachment, "MediaAttachment")
    path = f"/api/v1/accounts/{mastodon_fake.account['id']}/statuses"
    status, statuses = get_json(mastodon_fake, path)
    assert len(statuses) == 3
    for item in statuses:
        validate_openapi(item, "Status")
    app = mastodon.register_app(mastodon_fake.base_url, REDIRECT)
    validate_openapi(mastodon_fake.apps[app["client_id"]], "CredentialApplication")
    mastodon_fake.revoke(TOKEN)
    status, error = get_json(mastodon_fake, path)
    assert (status, error) == (401, {"error": "The access token is invalid"})
    validate_openapi(error, "Error")


def test_fake_upload_answers_follow_the_openapi_description(mastodon_fake):
    body, content_type = urllib3.encode_multipart_formdata(
        {"file": ("a.png", png(), "image/png"), "description": "alt"}
    )
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    for processing, code in ((0, 200), (1, 202)):
        mastodon_fake.processing_polls = processing
        result = send("POST", mastodon_fake.url("/api/v2/media"), body=body, headers=headers)
        assert result.status == code
        validate_openapi(result.json(), "MediaAttachment")
        assert (result.json()["url"] is None) == (code == 202)
    result = send(
        "POST",
        mastodon_fake.url("/oauth/token"),
        body=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert result.status == 401
    validate_openapi(result.json(), "Error")


def status_body_properties():
    """The parameters POST /api/v1/statuses accepts: TextStatus, MediaStatus (allOf)."""
    schemas = mastodon_openapi()["components"]["schemas"]
    names = set()
    for variant in ("TextStatus", "MediaStatus"):
        for part in schemas[variant]["allOf"]:
            if "$ref" in part:
                part = schemas[part["$ref"].rsplit("/", 1)[1]]
            names |= set(part.get("properties", {}))
    return names


def request_body_properties(path, content_type):
    operation = mastodon_operation(path, "post")
    return set(operation["requestBody"]["content"][content_type]["schema"]["properties"])


def test_client_sends_only_parameters_the_openapi_description_has(mastodon_fake, images):
    since = datetime.now(UTC)
    client = client_for(mastodon_fake)
    publish(client, Content(text="One", thread=["Two"], media=images, language="fr"))
    client.find(Content(text="One"), stage={}, since=since)
    app = mastodon.register_app(mastodon_fake.base_url, REDIRECT, website="https://t.example")
    url = mastodon.authorization_url(
        mastodon_fake.base_url, app["client_id"], REDIRECT, mastodon.SCOPES, "s", "c" * 43
    )
    assert set(parse_qs(urlsplit(url).query)) <= mastodon_parameters("/oauth/authorize")
    code = authorize(url)["code"]
    with pytest.raises(PublishError):
        mastodon.exchange_code(
            mastodon_fake.base_url, app["client_id"], app["client_secret"], REDIRECT, code, "v"
        )

    statuses = status_body_properties()
    assert set(mastodon.STATUS_PARAMETERS) <= statuses
    for request in mastodon_fake.status_requests():
        assert set(json.loads(request.body)) <= statuses
        assert "Idempotency-Key" in mastodon_parameters("/api/v1/statuses", "post")
    media = request_body_properties("/api/v2/media", "multipart/form-data")
    assert set(mastodon.MEDIA_PARAMETERS) <= media
    for upload in mastodon_fake.media_requests():
        names = set()
        for line in upload.body.split(b"\r\n"):
            if line.startswith(b"Content-Disposition: form-data; name="):
                names.add(line.split(b'name="')[1].split(b'"')[0].decode())
        assert names <= media and "file" in names
    listing = mastodon_parameters("/api/v1/accounts/{id}/statuses")
    assert set(mastodon.FIND_PARAMETERS) <= listing
    for request in mastodon_fake.requests:
        if request.path.endswith("/statuses") and request.method == "GET":
            assert set(request.args) <= listing
    for path, content_type in (
        ("/api/v1/apps", "application/json"),
        ("/oauth/token", "application/json"),
    ):
        [request] = [r for r in mastodon_fake.requests if r.path == path]
        assert set(json.loads(request.body)) <= request_body_properties(path, content_type)


def test_client_reads_only_fields_the_openapi_description_has():
    assert set(mastodon.STATUS_FIELDS) <= mastodon_properties("Status")
    assert set(mastodon.ACCOUNT_FIELDS) <= mastodon_properties("CredentialAccount")
    assert set(mastodon.MEDIA_FIELDS) <= mastodon_properties("MediaAttachment")


def test_fake_serves_standalone_with_its_counts():
    process = subprocess.Popen(
        [sys.executable, "-m", "tribu.testing.fakes", "mastodon", "--latency", "0.01"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        status = urllib3.request(
            "POST",
            base_url + "/api/v1/statuses",
            json={"status": "From afar"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).status
        assert status == 200
        stats = urllib3.request("GET", base_url + "/_fake/stats").json()
        assert stats == {"statuses": 1, "duplicates": []}
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
