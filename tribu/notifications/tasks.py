"""The worker's side of notifications: tick claimers and one huey task per claimed row.

Tasks are idempotent: each carries the lease its claimer set, and does nothing when the
row no longer holds it (already sent, re-claimed after a crash, or enqueued twice).
"""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from huey.contrib.djhuey import db_task

from tribu.core.tick import CLAIM_BATCH, HOUSEKEEPING, claim_row, claimer
from tribu.notifications.models import Delivery, Notification, NotificationPreference
from tribu.notifications.services import delivery as sending
from tribu.notifications.services import emails
from tribu.notifications.services.schedule import email_due_at

# Logs are kept this long; the notification centre keeps a notification this long.
DELIVERY_RETENTION = timedelta(days=30)
NOTIFICATION_RETENTION = timedelta(days=180)


def _claim_due(model, field, due, enqueue, now):
    """Claim up to CLAIM_BATCH due rows of `model` by moving `field` to a lease, and enqueue
    one task per row won (see core/tick.py)."""
    claimed = 0
    for pk, seen in due[:CLAIM_BATCH]:
        lease = now + sending.LEASE
        if claim_row(model, pk, field, seen, lease, now):
            claimed += 1
            enqueue(pk, lease)
    return claimed


@claimer
def claim_due_deliveries(now):
    """Claim due emails and webhook calls (pending, next attempt in the past)."""
    due = (
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", "next_attempt_at")
    )
    return _claim_due(Delivery, "next_attempt_at", due, deliver_task, now)


@claimer
def claim_due_emails(now):
    """Claim users whose next email (immediate batch or digest) is due."""
    due = (
        NotificationPreference.objects.filter(next_email_at__lte=now)
        .order_by("next_email_at", "id")
        .values_list("id", "next_email_at")
    )
    return _claim_due(NotificationPreference, "next_email_at", due, batch_email_task, now)


@db_task(retries=0)
def deliver_task(delivery_id, lease):
    return sending.deliver(delivery_id, lease)


@db_task(retries=0)
def batch_email_task(pref_id, lease):
    """Gather one user's pending notifications into one email and send it right away
    (the delivery is leased here, so the tick will not claim it meanwhile)."""
    delivery = emails.batch_email(pref_id, lease)
    if delivery is None:
        return None
    email_lease = sending.claim_now(delivery)
    if email_lease is None:
        return None
    return sending.deliver(delivery.pk, email_lease)


def reschedule_forgotten_emails(now):
    """Pending emails whose user has no schedule (a race between notify and a batch)
    get one again."""
    pending = Notification.objects.filter(
        user_id=OuterRef("user_id"),
        workspace_id=OuterRef("workspace_id"),
        email_pending=True,
        email_delivery__isnull=True,
    )
    forgotten = NotificationPreference.objects.filter(
        Exists(pending), next_email_at__isnull=True
    ).select_related("workspace")
    for pref in forgotten[:CLAIM_BATCH]:
        due = email_due_at(pref.email, pref.quiet_start, pref.quiet_end,
                           pref.workspace.timezone, now)  # fmt: skip
        NotificationPreference.objects.filter(pk=pref.pk, next_email_at__isnull=True).update(
            next_email_at=due or now
        )


def prune(now):
    Delivery.objects.exclude(state=Delivery.State.PENDING).filter(
        created_at__lt=now - DELIVERY_RETENTION
    ).delete()
    Notification.objects.filter(created_at__lt=now - NOTIFICATION_RETENTION).delete()


HOUSEKEEPING.extend([reschedule_forgotten_emails, prune])
