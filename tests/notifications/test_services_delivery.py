"""Webhook deliveries over real HTTP on loopback: success, retries with back-off, Retry-After,
permanent failures, the SSRF guard, and the attempts log."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from werkzeug import Response

from tribu.notifications.models import Delivery, Webhook
from tribu.notifications.services import delivery as sending
from tribu.notifications.services import notify
from tribu.notifications.tasks import claim_due_deliveries

from .test_services_webhooks import verify


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture(autouse=True)
def english(workspace):
    # Errors are stored in the workspace's language; these tests read them in English.
    workspace.language = "en"
    workspace.save(update_fields=["language"])


@pytest.fixture
def hook(workspace, httpserver):
    return Webhook.objects.create(
        workspace=workspace, name="receiver", url=httpserver.url_for("/hook")
    )


def tick(now=None):
    return claim_due_deliveries(now or timezone.now())


def test_a_delivery_is_posted_signed_and_logged(workspace, hook, httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("thanks")
    notify(workspace, "tests.spike", params={"topic": "Aube"})
    assert tick() == 1
    [(request, _response)] = httpserver.log
    assert verify(hook.secret, request.headers, request.get_data())
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    delivery = Delivery.objects.get()
    assert delivery.state == "succeeded"
    assert delivery.attempts == 1 and delivery.last_status == 200
    assert delivery.response_excerpt == "thanks"
    [attempt] = delivery.log.all()
    assert attempt.ok and attempt.status == 200 and attempt.number == 1
    assert tick() == 0  # nothing left to send


def test_a_server_error_is_retried_with_backoff_then_succeeds(workspace, hook, httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=202)
    notify(workspace, "tests.spike")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        tick()
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_status == 500
    assert "HTTP 500" in delivery.last_error
    # One minute, ±20 % jitter.
    wait = delivery.next_attempt_at - start
    assert timedelta(seconds=47) <= wait <= timedelta(seconds=73)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert tick() == 0  # not due yet
    with time_machine.travel(start + timedelta(seconds=80), tick=False):
        assert tick() == 1
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.attempts == 2
    assert [(a.number, a.ok, a.status) for a in delivery.log.all()] == [
        (1, False, 500), (2, True, 202),
    ]  # fmt: skip


def test_retry_after_is_honoured(workspace, hook, httpserver):
    httpserver.expect_request("/hook").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "3600"})
    )
    notify(workspace, "tests.spike")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        tick()
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.last_status == 429
    assert delivery.next_attempt_at - start == timedelta(hours=1)
    assert "slow down" in delivery.last_error


def test_it_gives_up_after_the_last_attempt_with_the_reason(workspace, hook, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    notify(workspace, "tests.spike")
    moment = timezone.now()
    for _ in range(sending.MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            assert tick() == 1
        delivery = Delivery.objects.get()
        if delivery.state == "pending":
            moment = delivery.next_attempt_at + timedelta(seconds=1)
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    assert delivery.attempts == sending.MAX_ATTEMPTS == 8
    assert delivery.last_error.startswith("Gave up after 8 attempts. Last problem:")
    assert "HTTP 503" in delivery.last_error
    assert delivery.log.count() == 8
    # About a day from the first attempt to the last (jitter ±20 %).
    span = delivery.log.last().at - delivery.log.first().at
    assert timedelta(hours=17) < span < timedelta(hours=27)
    with time_machine.travel(moment + timedelta(days=2), tick=False):
        assert tick() == 0


def test_a_refusal_is_a_permanent_failure(workspace, hook, httpserver):
    httpserver.expect_request("/hook").respond_with_data("no such hook", status=404)
    notify(workspace, "tests.spike")
    tick()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == 1
    assert "refused the delivery (HTTP 404)" in delivery.last_error


def test_redirects_are_not_followed(workspace, hook, httpserver):
    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=302, headers={"Location": "http://169.254.169.254/"})
    )
    notify(workspace, "tests.spike")
    tick()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed"
    assert "does not follow redirects" in delivery.last_error
    assert len(httpserver.log) == 1


def test_a_private_address_is_refused_without_the_setting(workspace, hook, httpserver,
                                                          settings):  # fmt: skip
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    notify(workspace, "tests.spike")
    tick()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == 1
    assert "private or reserved network address" in delivery.last_error
    assert httpserver.log == []


def test_a_receiver_that_is_down_is_retried(workspace):
    Webhook.objects.create(workspace=workspace, name="down", url="http://127.0.0.1:9/hook")
    notify(workspace, "tests.spike")
    tick()
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert "Could not connect" in delivery.last_error


def test_errors_are_written_in_the_workspace_language(workspace, hook, settings):
    workspace.language = "fr"
    workspace.save(update_fields=["language"])
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    notify(workspace, "tests.spike")
    tick()
    assert "adresse réseau privée" in Delivery.objects.get().last_error


def test_a_stale_lease_does_nothing(workspace, hook, httpserver):
    notify(workspace, "tests.spike")
    delivery = Delivery.objects.get()
    assert sending.deliver(delivery.pk, timezone.now() + timedelta(minutes=3)) == "skipped"
    assert httpserver.log == []
