"""Sending deliveries (emails and webhook calls): claimed by the tick, one huey task each,
retried with exponential back-off and jitter, every attempt logged.

States: pending → succeeded, or pending → failed (a permanent refusal, or the last
attempt). `next_attempt_at` is the schedule: the tick moves a due delivery's value to a
lease (now + LEASE) with `claim_row`, so one worker wins it; the task sends only while the
delivery still holds that lease, then records the outcome with a conditional UPDATE. A
worker that dies mid-send leaves the lease to expire, and the delivery is tried again.
"""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tribu.listening.fetch.http import FetchError
from tribu.notifications.models import Delivery, DeliveryAttempt
from tribu.notifications.services import emails, webhooks

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
# Wait after attempt n (1-based) before attempt n + 1: 8 attempts over about 22 hours.
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
JITTER = 0.2
# A server's Retry-After is honoured up to this long.
MAX_RETRY_AFTER = timedelta(hours=12)
# Client errors that may pass (timeout, conflict, too early, rate limit): retry them.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
# Fetch errors that will not go away by trying again.
PERMANENT_CODES = frozenset({"invalid_url", "blocked_address"})


class Outcome:
    def __init__(self, ok, *, status=None, error="", excerpt="", retry_after=None,
                 permanent=False, elapsed=0.0):  # fmt: skip
        self.ok = ok
        self.status = status
        self.error = error
        self.excerpt = excerpt
        self.retry_after = retry_after
        self.permanent = permanent
        self.elapsed = elapsed


def retry_delay(attempts, retry_after=None):
    """How long to wait after the `attempts`-th failed attempt."""
    base = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    delay = base * random.uniform(1 - JITTER, 1 + JITTER)
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return delay


def attempt_webhook(delivery):
    webhook = delivery.webhook
    if webhook is None:
        return Outcome(False, error=_("The webhook was deleted."), permanent=True)
    body, headers = webhooks.request_for(delivery)
    try:
        result = webhooks.post(webhook.url, body, headers)
    except FetchError as error:
        return Outcome(False, error=error.message, permanent=error.code in PERMANENT_CODES)
    status = result.status
    if 200 <= status < 300:
        return Outcome(True, status=status, excerpt=result.excerpt, elapsed=result.elapsed)
    if 300 <= status < 400:
        error = _(
            "The receiver answered HTTP %(status)s, a redirect to %(location)s. Tribu does not "
            "follow redirects for webhooks: put the final address in the webhook."
        ) % {"status": status, "location": result.headers.get("location", "?")}
        permanent = True
    elif status in (429, 503):
        error = _("The receiver asked Tribu to slow down (HTTP %(status)s).") % {"status": status}
        permanent = False
    elif status >= 500:
        error = _("The receiver had a problem on its side (HTTP %(status)s).") % {"status": status}
        permanent = False
    elif status in RETRYABLE_4XX:
        error = _("The receiver could not take it now (HTTP %(status)s).") % {"status": status}
        permanent = False
    else:
        error = _(
            "The receiver refused the delivery (HTTP %(status)s). Check the webhook's "
            "address (it may have been revoked) and its format."
        ) % {"status": status}
        permanent = True
    return Outcome(False, status=status, error=error, excerpt=result.excerpt,
                   retry_after=result.retry_after, permanent=permanent,
                   elapsed=result.elapsed)  # fmt: skip


def attempt_email(delivery):
    try:
        note = emails.send(delivery)
    except Exception as error:  # noqa: BLE001 - any SMTP or network problem is retried
        logger.warning("Email delivery %s failed: %s", delivery.pk, error)
        return Outcome(
            False,
            error=_(
                "The mail server did not accept the email (%(reason)s). Check TRIBU_EMAIL_URL; "
                "it will be tried again."
            )
            % {"reason": f"{type(error).__name__}: {error}"[:300]},
        )
    return Outcome(True, excerpt=note)


def deliver(delivery_id, lease, now=None):
    """Make one attempt at a claimed delivery and record it. Returns the delivery's state,
    or "skipped" when it is not (or no longer) leased to this call."""
    delivery = (
        Delivery.objects.select_related("workspace", "webhook", "user")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.state != Delivery.State.PENDING:
        return "skipped"
    if delivery.next_attempt_at != lease:
        return "skipped"
    language = delivery.workspace.language or settings.LANGUAGE_CODE
    # Errors are stored in the workspace's language: that is who reads the delivery log.
    with translation.override(language):
        try:
            if delivery.channel == Delivery.Channel.WEBHOOK:
                outcome = attempt_webhook(delivery)
            else:
                outcome = attempt_email(delivery)
        except Exception as error:  # noqa: BLE001 - a bug must not leave the row leased
            logger.exception("Delivery %s failed unexpectedly", delivery.pk)
            outcome = Outcome(
                False,
                error=_("An unexpected problem stopped the delivery (%(error)s).")
                % {"error": type(error).__name__},
            )
        return record(delivery, lease, outcome, now or timezone.now())


def record(delivery, lease, outcome, now):
    number = delivery.attempts + 1
    excerpt = (outcome.excerpt or "")[:1000]
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=number,
        at=now,
        ok=outcome.ok,
        status=outcome.status,
        error=outcome.error,
        response_excerpt=excerpt,
        duration_ms=int(outcome.elapsed * 1000),
    )
    fields = {
        "attempts": number,
        "last_status": outcome.status,
        "last_error": "" if outcome.ok else outcome.error,
        "response_excerpt": excerpt,
    }
    if outcome.ok:
        fields.update(state=Delivery.State.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    elif outcome.permanent or number >= MAX_ATTEMPTS:
        if not outcome.permanent:
            fields["last_error"] = _(
                "Gave up after %(count)s attempts. Last problem: %(error)s"
            ) % {"count": number, "error": outcome.error}
        fields.update(state=Delivery.State.FAILED, next_attempt_at=None)
    else:
        fields["next_attempt_at"] = now + retry_delay(number, outcome.retry_after)
    Delivery.objects.filter(pk=delivery.pk, next_attempt_at=lease).update(**fields)
    return fields.get("state", Delivery.State.PENDING)


def claim_now(delivery, now=None):
    """Lease a pending delivery for an immediate attempt. Returns the lease or None."""
    from tribu.core.tick import claim_row

    now = now or timezone.now()
    seen = delivery.next_attempt_at
    if seen is None or seen > now:
        return None
    lease = now + LEASE
    return lease if claim_row(Delivery, delivery.pk, "next_attempt_at", seen, lease, now) else None
