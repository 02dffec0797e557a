"""tribu.listening.services.polling: claiming due sources, polite polling, back-off, pausing.

Feeds are served by real HTTP servers on loopback (pytest-httpserver); the tick and the
huey task run for real (huey runs tasks inline in tests).
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from werkzeug import Response

from tribu.core import tick
from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.listening.models import Mention, Source
from tribu.listening.services import polling, sources

RSS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Le Blog de Lumière</title>
<link>https://blog.example/</link>{ttl}
<item><title>Bonjour</title><link>https://blog.example/bonjour</link><guid>b-1</guid>
<description>Premier billet</description><pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate></item>
<item><title>Second</title><link>https://blog.example/second</link><guid>b-2</guid>
<description>Deuxième billet</description><pubDate>Tue, 07 May 2024 10:00:00 GMT</pubDate></item>
</channel></rss>"""


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture(autouse=True)
def english_workspace(workspace):
    """Errors are stored in the workspace's language; these tests read them in English."""
    workspace.language = "en"
    workspace.save(update_fields=["language"])


def feed_source(workspace, url, **fields):
    source = sources.create_source(workspace, kind="feed", url=url)
    if fields:
        Source.objects.filter(pk=source.pk).update(**fields)
        source.refresh_from_db()
    return source


def serve_feed(httpserver, path="/feed", etag='"v1"', ttl="", headers=None):
    """Serve RSS with an ETag, answering 304 to a matching If-None-Match."""
    requests = []

    def handler(request):
        requests.append(dict(request.headers))
        if etag and request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        body = RSS.format(ttl=ttl)
        extra = {"ETag": etag} if etag else {}
        extra.update(headers or {})
        return Response(body, content_type="application/rss+xml; charset=utf-8", headers=extra)

    httpserver.expect_request(path).respond_with_handler(handler)
    return requests


def seconds_until(moment):
    return (moment - timezone.now()).total_seconds()


# The tick --------------------------------------------------------------------------------


def test_the_claimer_is_registered_with_the_tick():
    assert polling.claim_due_sources in tick.CLAIMERS


def test_the_tick_polls_due_sources_once_and_schedules_the_next_poll(workspace, httpserver):
    requests = serve_feed(httpserver)
    source = feed_source(workspace, httpserver.url_for("/feed"))

    claimed = tick.run_once("test-worker")

    assert claimed["claim_due_sources"] == 1
    assert len(requests) == 1
    source.refresh_from_db()
    assert source.last_success_at is not None and source.last_polled_at is not None
    assert (source.consecutive_failures, source.last_error) == (0, "")
    assert source.items_seen == 2
    assert Mention.objects.filter(source=source).count() == 2
    assert source.state["etag"] == '"v1"'
    # The feed named the source, since the manager did not.
    assert source.name == "Le Blog de Lumière"
    # Next poll: the source's interval (15 min) ± 10 % jitter.
    assert 0.9 * 900 - 5 <= seconds_until(source.next_poll_at) <= 1.1 * 900
    # Not due any more: the next tick leaves it alone.
    assert tick.run_once("test-worker")["claim_due_sources"] == 0
    assert len(requests) == 1


def test_sources_not_due_paused_or_turned_off_are_not_claimed(workspace, httpserver):
    requests = serve_feed(httpserver)
    url = httpserver.url_for("/feed")
    later = feed_source(workspace, url + "?later", next_poll_at=timezone.now() + timedelta(hours=1))
    paused = feed_source(workspace, url + "?paused", paused_at=timezone.now())
    off = feed_source(workspace, url + "?off", enabled=False)
    assert polling.claim_due_sources(timezone.now()) == 0
    assert requests == []
    for source in (later, paused, off):
        source.refresh_from_db()
        assert source.last_polled_at is None


def test_a_second_poll_is_conditional_and_a_304_creates_nothing(workspace, httpserver):
    requests = serve_feed(httpserver, headers={"Last-Modified": "Tue, 07 May 2024 10:00:00 GMT"})
    source = feed_source(workspace, httpserver.url_for("/feed"))
    [first] = polling.poll_due()
    assert (first.status, first.new) == ("ok", 2)

    Source.objects.filter(pk=source.pk).update(next_poll_at=timezone.now())
    [second] = polling.poll_due()

    assert (second.status, second.new) == ("not_modified", 0)
    assert requests[1]["If-None-Match"] == '"v1"'
    assert requests[1]["If-Modified-Since"] == "Tue, 07 May 2024 10:00:00 GMT"
    source.refresh_from_db()
    assert source.items_seen == 2
    assert source.state["etag"] == '"v1"'
    assert Mention.objects.count() == 2


def test_the_same_items_again_are_counted_as_duplicates(workspace, httpserver):
    serve_feed(httpserver, etag=None)
    source = feed_source(workspace, httpserver.url_for("/feed"))
    list(polling.poll_due())
    Source.objects.filter(pk=source.pk).update(next_poll_at=timezone.now())
    [again] = polling.poll_due()
    assert (again.status, again.new, again.duplicates) == ("ok", 0, 2)
    source.refresh_from_db()
    # items_seen counts every item read, as the health page says.
    assert source.items_seen == 4


@pytest.mark.parametrize(
    ("ttl", "headers", "at_least"),
    [
        ("", {"Cache-Control": "public, max-age=7200"}, 7200),
        ("<ttl>180</ttl>", {}, 180 * 60),
    ],
)
def test_servers_asking_for_longer_intervals_are_obeyed(
    workspace, httpserver, ttl, headers, at_least
):
    serve_feed(httpserver, ttl=ttl, headers=headers)
    source = feed_source(workspace, httpserver.url_for("/feed"))
    list(polling.poll_due())
    source.refresh_from_db()
    assert 0.9 * at_least - 5 <= seconds_until(source.next_poll_at) <= 1.1 * at_least


# Failures --------------------------------------------------------------------------------


def test_an_error_is_recorded_in_plain_words_and_backs_off(workspace, httpserver):
    httpserver.expect_request("/feed").respond_with_data("oops", status=500)
    source = feed_source(workspace, httpserver.url_for("/feed"), consecutive_failures=2)
    [outcome] = polling.poll_due()
    assert outcome.status == "error"
    source.refresh_from_db()
    assert source.consecutive_failures == 3
    assert "HTTP 500" in source.last_error and "tried again later" in source.last_error
    assert source.last_error_at is not None and source.last_success_at is None
    # 900 s × 2^3, ± 20 %.
    assert 0.8 * 7200 - 5 <= seconds_until(source.next_poll_at) <= 1.2 * 7200


def test_a_success_after_errors_resets_the_count(workspace, httpserver):
    serve_feed(httpserver)
    source = feed_source(
        workspace, httpserver.url_for("/feed"), consecutive_failures=4, last_error="was down"
    )
    list(polling.poll_due())
    source.refresh_from_db()
    assert (source.consecutive_failures, source.last_error, source.last_error_at) == (0, "", None)


def test_too_many_requests_waits_as_long_as_the_server_asks(workspace, httpserver):
    httpserver.expect_request("/feed").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "20000"}
    )
    source = feed_source(workspace, httpserver.url_for("/feed"))
    [outcome] = polling.poll_due()
    assert outcome.status == "error"
    source.refresh_from_db()
    assert seconds_until(source.next_poll_at) >= 20000 - 5
    assert "slow down" in source.last_error


def test_back_off_is_capped_at_a_day():
    source = Source(poll_interval_seconds=900)
    for failures in (7, 9, 40):
        delay = polling.error_delay(source, failures).total_seconds()
        assert 0.8 * 86400 <= delay <= 1.2 * 86400
    assert polling.error_delay(source, 1, retry_after=10**9).total_seconds() == 86400


def test_an_unexpected_exception_is_caught_and_recorded(workspace):
    # A connector setting of the wrong type makes the connector itself raise.
    source = Source.objects.create(
        workspace=workspace,
        kind="hackernews",
        name="HN",
        url="http://127.0.0.1:9",
        config={"base_url": "http://127.0.0.1:9", "query": "tribu", "timeout": "soon"},
        next_poll_at=timezone.now(),
    )
    [outcome] = polling.poll_due()
    assert outcome.status == "error"
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    assert "unexpected problem" in source.last_error


def test_one_bad_source_does_not_stop_the_others(workspace, httpserver):
    serve_feed(httpserver)
    httpserver.expect_request("/broken").respond_with_data("<html>not a feed</html>")
    broken = feed_source(workspace, httpserver.url_for("/broken"))
    gone = feed_source(workspace, "http://127.0.0.1:9/nothing-listens-here")
    good = feed_source(workspace, httpserver.url_for("/feed"))
    Source.objects.update(next_poll_at=timezone.now() - timedelta(minutes=1))
    assert tick.run_once("test-worker")["claim_due_sources"] == 3
    for source in (broken, gone, good):
        source.refresh_from_db()
    assert broken.consecutive_failures == 1 and "could not be read as a feed" in broken.last_error
    assert gone.consecutive_failures == 1 and "nothing-listens-here" in gone.last_error
    assert good.last_success_at is not None and good.items_seen == 2


def test_the_tenth_failure_in_a_row_pauses_and_tells_owners_and_admins(
    workspace, user, make_member, httpserver
):
    admin = make_member(workspace, Role.ADMIN)
    make_member(workspace, Role.EDITOR)
    httpserver.expect_request("/feed").respond_with_data("nope", status=503)
    source = feed_source(
        workspace,
        httpserver.url_for("/feed"),
        consecutive_failures=polling.PAUSE_AFTER - 1,
        name="Le Blog",
    )
    [outcome] = polling.poll_due()
    assert (outcome.status, outcome.paused) == ("paused", True)
    source.refresh_from_db()
    assert source.paused_at is not None
    assert "10 polls failed" in source.paused_reason
    assert sources.health(source).status == "paused"
    assert sorted(message.to[0] for message in mail.outbox) == sorted([user.email, admin.email])
    message = mail.outbox[0]
    assert "Le Blog" in message.subject
    assert "HTTP 503" in message.body and "/w/acme/" in message.body
    event = AuditEvent.objects.get(action="source.paused")
    assert event.data["failures"] == polling.PAUSE_AFTER
    # Paused sources are no longer claimed.
    Source.objects.filter(pk=source.pk).update(next_poll_at=timezone.now())
    assert polling.claim_due_sources(timezone.now()) == 0


def test_a_feed_gone_for_good_is_paused_at_once(workspace, httpserver):
    httpserver.expect_request("/feed").respond_with_data("gone", status=410)
    source = feed_source(workspace, httpserver.url_for("/feed"))
    [outcome] = polling.poll_due()
    assert outcome.status == "paused"
    source.refresh_from_db()
    assert "410" in source.paused_reason
    assert len(mail.outbox) == 1


# Idempotency -----------------------------------------------------------------------------


def test_a_task_without_the_current_lease_does_nothing(workspace, httpserver):
    requests = serve_feed(httpserver)
    source = feed_source(workspace, httpserver.url_for("/feed"))
    stale = timezone.now() - timedelta(minutes=30)
    assert polling.poll_source_task.call_local(source.pk, stale) == "skipped"
    assert requests == []
    source.refresh_from_db()
    assert source.last_polled_at is None


def test_a_task_for_a_source_paused_or_deleted_since_does_nothing(workspace, httpserver):
    requests = serve_feed(httpserver)
    source = feed_source(workspace, httpserver.url_for("/feed"))
    lease = polling.claim_now(source.pk)
    Source.objects.filter(pk=source.pk).update(paused_at=timezone.now())
    assert polling.poll_source(source.pk, lease=lease).status == "skipped"
    source.delete()
    assert polling.poll_source(source.pk, lease=lease).status == "skipped"
    assert requests == []
