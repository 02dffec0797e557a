"""The tick's claimers: each due row is claimed once, a lost lease is claimed again, and two
real workers on PostgreSQL never send the same delivery twice."""

import time
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from tribu.notifications.models import Delivery, Notification, NotificationPreference, Webhook
from tribu.notifications.services import delivery as sending
from tribu.notifications.services import notify
from tribu.notifications.tasks import (
    claim_due_deliveries,
    claim_due_emails,
    prune,
    reschedule_forgotten_emails,
)
from tribu.testing.workers import running_workers, wait_for


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


def test_a_due_delivery_is_claimed_once(workspace, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    Webhook.objects.create(workspace=workspace, name="r", url=httpserver.url_for("/hook"))
    notify(workspace, "tests.spike")
    now = timezone.now()
    assert claim_due_deliveries(now) == 1
    assert claim_due_deliveries(now) == 0
    assert len(httpserver.log) == 1


def test_a_lease_lost_by_a_dead_worker_is_claimed_again(workspace, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    Webhook.objects.create(workspace=workspace, name="r", url=httpserver.url_for("/hook"))
    notify(workspace, "tests.spike")
    delivery = Delivery.objects.get()
    now = timezone.now()
    # A worker claimed it, then died before sending.
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + sending.LEASE)
    assert claim_due_deliveries(now) == 0
    later = now + sending.LEASE + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert claim_due_deliveries(later) == 1
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.attempts == 1


def test_a_due_email_is_claimed_once(workspace, user, mailoutbox):
    notify(workspace, "tests.spike")
    now = timezone.now()
    assert claim_due_emails(now) == 1
    assert claim_due_emails(now) == 0
    assert len(mailoutbox) == 1


def test_forgotten_email_schedules_are_restored(workspace, user, mailoutbox):
    notify(workspace, "tests.spike")
    NotificationPreference.objects.update(next_email_at=None)  # a lost race
    now = timezone.now()
    assert claim_due_emails(now) == 0
    reschedule_forgotten_emails(now)
    assert claim_due_emails(now) == 1
    assert len(mailoutbox) == 1


def test_old_logs_and_notifications_are_pruned(workspace, user):
    notify(workspace, "tests.spike")
    Webhook.objects.create(workspace=workspace, name="r", url="https://a.example/")
    notify(workspace, "tests.spike")
    Delivery.objects.update(state="failed")
    prune(timezone.now() + timedelta(days=31))
    assert not Delivery.objects.exists()
    assert Notification.objects.count() == 2
    prune(timezone.now() + timedelta(days=181))
    assert not Notification.objects.exists()


# Two real workers on PostgreSQL ---------------------------------------------------------

DELIVERIES = 40


@pytest.mark.postgres
@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: SQLite serves one machine, where a single worker runs",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_a_delivery_twice(workspace, httpserver, tmp_path):
    httpserver.expect_request("/hook").respond_with_data("ok")
    hook = Webhook.objects.create(workspace=workspace, name="r", url=httpserver.url_for("/hook"))
    with running_workers(tmp_path, threads=4, TRIBU_ALLOW_PRIVATE_ADDRESSES="1") as workers:
        # Queue the deliveries in the past, all at once, so both workers race for them.
        past = timezone.now() - timedelta(seconds=1)
        for index in range(DELIVERIES):
            delivery = sending_delivery(hook, index)
            delivery.next_attempt_at = past
            delivery.save()
        done = Delivery.objects.filter(state="succeeded")
        wait_for(lambda: done.count() >= DELIVERIES, 60, "deliveries were not all sent", workers)
        time.sleep(1)  # a few more ticks: a double claim would show now
    received = Counter(request.headers["X-Tribu-Delivery"] for request, _ in httpserver.log)
    assert len(received) == DELIVERIES
    assert set(received.values()) == {1}, received
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def sending_delivery(hook, index):
    import uuid

    from tribu.notifications.services.notify import webhook_delivery

    return webhook_delivery(
        hook, "notifications.test", {"actor": f"race {index}"}, "/", uuid.uuid4(), timezone.now()
    )
