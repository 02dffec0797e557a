"""The publisher: claims due deliveries and sends each one exactly once.

Every `tribu worker` runs a Publisher thread next to the tick. About once a second it:

1. recovers deliveries whose worker died (its lease expired or its heartbeat went silent):
   a `claimed` one had not contacted the network and simply goes back to the queue; a
   `sending` one may have reached the network, so it is retried only through the network's
   idempotency (same Mastodon Idempotency-Key, same Bluesky record key), otherwise it becomes
   `unknown` and the reconciler looks for it on the network first;
2. claims as many due deliveries as it has free sending threads, in one conditional UPDATE
   (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has a single writer): any number of
   workers never claim the same row;
3. hands each to a sending thread (`send`), which re-checks the crisis switch, the channel
   and the late rule, freezes the content, moves the delivery to `sending` (fenced on its own
   claim) and only then calls the network. The outcome is recorded with the same fence,
   except success, which is a fact and always recorded.

The delivery row is the queue: nothing lives only in memory, so a SIGKILL at any moment
loses nothing (scripts/publish_faults.py proves it).
"""

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from tribu.channels.models import ChannelState
from tribu.channels.networks import client_class, client_for
from tribu.channels.networks.base import Content, ErrorKind, PublishError
from tribu.core.models import WorkerHeartbeat
from tribu.core.tick import worker_name
from tribu.publishing.models import (
    CLAIMABLE_STATES,
    Delivery,
    DeliveryLog,
    DeliveryState,
    HoldReason,
    PublishingSettings,
)
from tribu.publishing.services import deliveries as service
from tribu.publishing.services.content import snapshot
from tribu.publishing.services.late import is_too_late

logger = logging.getLogger(__name__)

# A claimed delivery is sent within seconds; a sending one may take a few requests (media,
# thread parts), each bounded by the HTTP limits. Past these, the lease is over.
CLAIM_LEASE = timedelta(minutes=2)
SEND_LEASE = timedelta(minutes=10)
# Retries after the network said "later" (429, 5xx), in seconds, before jitter; then the
# delivery fails and a person decides.
BACKOFF = (30, 60, 120, 300, 600, 1200, 2400)
MAX_ATTEMPTS = len(BACKOFF) + 1
# Retrying an idempotent send after a timeout: soon, while the key is still honoured.
UNKNOWN_RETRY = timedelta(seconds=20)
# Margin before the end of a network's idempotency window (Mastodon: one hour).
WINDOW_MARGIN = timedelta(minutes=10)
RECONCILE_DELAY = timedelta(minutes=1)


def backoff(attempt, retry_after=None):
    base = BACKOFF[min(max(attempt, 1), len(BACKOFF)) - 1]
    delay = base * random.uniform(0.8, 1.2)  # jitter: workers do not retry in lockstep
    return timedelta(seconds=max(delay, retry_after or 0))


def fenced_update(pk, fence, *, unless_state=None, **values):
    """UPDATE one delivery WHERE id = pk AND each `fence` column equals its value; returns
    the row count. The ORM's update() compiles its SQL on every call, which under load costs
    more than the round trip: the publisher's two hottest writes go through this instead,
    with each value prepared by its model field exactly as the ORM would."""
    table = Delivery._meta.db_table
    quote = connection.ops.quote_name

    def prepared(name, value):
        field = Delivery._meta.get_field(name)
        return field.column, field.get_db_prep_save(value, connection)

    sets = [prepared(name, value) for name, value in values.items()]
    wheres = [prepared(name, value) for name, value in fence.items()]
    sql = (
        f"UPDATE {quote(table)} SET "  # noqa: S608 - names come from the model, values are params
        + ", ".join(f"{quote(column)} = %s" for column, _value in sets)
        + " WHERE id = %s"
        + "".join(f" AND {quote(column)} = %s" for column, _value in wheres)
    )
    params = [value for _column, value in sets] + [pk] + [value for _column, value in wheres]
    if unless_state is not None:
        sql += f" AND {quote('state')} <> %s"
        params.append(str(unless_state))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Claiming -------------------------------------------------------------------------------


def claim_due(worker, now, limit):
    """Claim up to `limit` due deliveries for `worker`; returns their ids."""
    if limit <= 0:
        return []
    table = Delivery._meta.db_table
    ops = connection.ops
    claimable = tuple(str(state) for state in CLAIMABLE_STATES)
    due = (
        f"SELECT id FROM {table} WHERE state IN (%s, %s) "  # noqa: S608
        f"AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %s"
    )
    if connection.vendor == "postgresql":
        # ARRAY(...) makes the pick an InitPlan, run once. As "id IN (...)", the planner
        # may rescan the locking subquery once per row of a semi-join; each rescan skips
        # the rows this statement already claimed and locks the next ones, so one worker
        # took more than `limit` (seen in CI: 5 claimed for a limit of 3).
        picked = f"id = ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"
    else:
        picked = f"id IN ({due})"
    # The table name is ours and every value is a parameter.
    sql = (
        f"UPDATE {table} SET state = %s, claimed_by = %s, lease_until = %s, updated_at = %s "  # noqa: S608
        f"WHERE {picked} AND state IN (%s, %s) RETURNING id"
    )
    params = [
        DeliveryState.CLAIMED.value,
        worker,
        ops.adapt_datetimefield_value(now + CLAIM_LEASE),
        ops.adapt_datetimefield_value(now),
        *claimable,
        ops.adapt_datetimefield_value(now),
        limit,
        *claimable,
    ]
    # One statement, atomic on its own. No log line here: the "sending" line that follows
    # within a second names the worker, and claiming is the hottest path under load.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def live_workers(now):
    silent = timedelta(seconds=settings.TRIBU_PUBLISH_DEAD_WORKER_SECONDS)
    return WorkerHeartbeat.objects.filter(last_seen_at__gte=now - silent).values("name")


def recover(now=None):
    """Take back deliveries from workers that died or overran their lease. Returns how
    many were recovered."""
    now = now or timezone.now()
    orphaned = Q(lease_until__lt=now) | ~Q(claimed_by__in=live_workers(now))
    recovered = 0
    for pk, worker in Delivery.objects.filter(orphaned, state=DeliveryState.CLAIMED).values_list(
        "id", "claimed_by"
    ):
        # Nothing was sent: back to the queue, the attempt not counted.
        moved = Delivery.objects.filter(
            pk=pk, state=DeliveryState.CLAIMED, claimed_by=worker
        ).update(state=DeliveryState.SCHEDULED, claimed_by="", lease_until=None, updated_at=now)
        if moved:
            recovered += 1
            service.log(pk, "recovered", state=DeliveryState.SCHEDULED, at=now,
                        message=_("The worker %(worker)s stopped before sending; queued again.")
                        % {"worker": worker})  # fmt: skip
    sending = Delivery.objects.filter(orphaned, state=DeliveryState.SENDING).select_related(
        "channel"
    )
    for delivery in sending:
        error = PublishError(
            ErrorKind.UNKNOWN,
            "worker_lost",
            _(
                "The worker %(worker)s stopped while sending: the network may or may not "
                "have received the post."
            )
            % {"worker": delivery.claimed_by},
        )
        if _record_failure(delivery, error, delivery.claimed_by, now=now):
            recovered += 1
    return recovered


# Sending --------------------------------------------------------------------------------


def send(delivery_id, worker, *, now=None):
    """Send one claimed delivery. Returns its state afterwards (or None if not ours)."""
    now = now or timezone.now()
    # No .first(): its ORDER BY over four joined tables costs more to compile than the rest
    # of the query; the primary key already makes the answer unique.
    found = list(
        Delivery.objects.select_related("channel", "post", "workspace", "workspace__publishing")
        .filter(pk=delivery_id, state=DeliveryState.CLAIMED, claimed_by=worker)
        .order_by()
    )
    if not found:
        return None
    delivery = found[0]
    # Log lines and errors are read by the team: in the workspace's language.
    with override(delivery.workspace.language):
        return _send(delivery, worker, now)


def _send(delivery, worker, now):
    hold = _hold_reason(delivery, now)
    if hold:
        moved = Delivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.CLAIMED, claimed_by=worker
        ).update(state=DeliveryState.HELD, hold_reason=hold, claimed_by="", lease_until=None,
                 updated_at=now)  # fmt: skip
        if moved:
            service.log(delivery, "held", state=DeliveryState.HELD, at=now, worker=worker,
                        message=str(HoldReason(hold).label))  # fmt: skip
        return DeliveryState.HELD
    content = delivery.content or snapshot(delivery)
    # We own the claim, so nobody else changes these meanwhile: no need to read them back.
    delivery.attempts += 1
    delivery.first_sent_at = delivery.first_sent_at or now
    moved = fenced_update(
        delivery.pk,
        {"state": DeliveryState.CLAIMED, "claimed_by": worker},
        state=DeliveryState.SENDING,
        attempts=delivery.attempts,
        first_sent_at=delivery.first_sent_at,
        lease_until=now + SEND_LEASE,
        content=content,
        updated_at=now,
    )
    if not moved:
        return None  # the lease was lost meanwhile; whoever holds it now decides
    # Written with the outcome (one insert instead of two), dated when the request left.
    sending = DeliveryLog(
        delivery_id=delivery.pk, at=now, event="sending", state=DeliveryState.SENDING,
        worker=worker, message=_("Attempt %(number)s.") % {"number": delivery.attempts},
    )  # fmt: skip
    channel = delivery.channel

    def save_stage(stage):
        Delivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.SENDING, claimed_by=worker
        ).update(stage=stage, lease_until=timezone.now() + SEND_LEASE)

    def save_secrets(secrets):
        from tribu.channels.services.channels import store_secrets

        store_secrets(channel, secrets)

    try:
        client = client_for(
            channel, on_secrets=save_secrets, timeout=settings.TRIBU_PUBLISH_REQUEST_TIMEOUT
        )
        published = client.publish(
            Content.from_json(content),
            idempotency_key=delivery.idempotency_key,
            stage=dict(delivery.stage),
            save_stage=save_stage,
        )
    except PublishError as error:
        return _record_failure(delivery, error, worker, sending=sending)
    except Exception:  # noqa: BLE001 - a bug must not lose the delivery, nor repeat it
        logger.exception("Publishing delivery %s failed unexpectedly", delivery.pk)
        error = PublishError(
            ErrorKind.UNKNOWN,
            "internal_error",
            _(
                "Tribu hit an internal error while sending; the network may or may not have "
                "received the post. The error is in the server log."
            ),
        )
        return _record_failure(delivery, error, worker, sending=sending)
    return _record_success(delivery, published, worker, sending=sending)


def _hold_reason(delivery, now):
    try:
        settings_row = delivery.workspace.publishing
    except PublishingSettings.DoesNotExist:
        settings_row = service.settings_for(delivery.workspace)
    if settings_row.paused:
        return HoldReason.PAUSED
    if delivery.channel.state != ChannelState.ACTIVE:
        return HoldReason.RECONNECT
    if is_too_late(delivery.due_at, now, settings_row.late_limit_minutes):
        return HoldReason.LATE
    return ""


def _request_logs(delivery_id, requests, now, worker):
    return [
        DeliveryLog(delivery_id=delivery_id, at=now, event="request", request=str(request)[:500],
                    status_code=status, duration_ms=duration, worker=worker)
        for request, status, duration in requests
    ]  # fmt: skip


def _record_success(delivery, published, worker, *, sending=None):
    now = timezone.now()
    # No transaction: the delivery's state is the record; the log and the post's status
    # follow it (one round trip each, on the hottest path of the publisher).
    # Success is a fact: recorded whatever happened to the lease meanwhile.
    fenced_update(
        delivery.pk,
        {},
        unless_state=DeliveryState.PUBLISHED,
        state=DeliveryState.PUBLISHED,
        remote_id=published.remote_id[:255],
        remote_url=(published.url or "")[:1000],
        published_at=now,
        claimed_by="",
        lease_until=None,
        reconcile_at=None,
        error_code="",
        error_kind="",
        error_message="",
        updated_at=now,
    )
    DeliveryLog.objects.bulk_create(
        [
            *([sending] if sending else []),
            *_request_logs(delivery.pk, published.requests, now, worker),
            DeliveryLog(delivery_id=delivery.pk, at=now, event="published",
                        state=DeliveryState.PUBLISHED, url=(published.url or "")[:1000],
                        worker=worker),
            *[DeliveryLog(delivery_id=delivery.pk, at=now, event="warning", worker=worker,
                          message=str(warning)[:2000]) for warning in published.warnings],
        ]
    )  # fmt: skip
    service.settle_post(delivery.post_id, now)
    if published.warnings:
        _notify_warning(delivery.pk, published.warnings)
    return DeliveryState.PUBLISHED


def _notify_warning(delivery_id, warnings):
    from tribu.publishing.services.notifying import delivery_needs_attention

    try:
        delivery_needs_attention(delivery_id, warning=" ".join(str(item) for item in warnings))
    except Exception:  # noqa: BLE001 - the post is published; a notification must not undo it
        logger.exception("Could not notify about delivery %s", delivery_id)


def _still_idempotent(delivery, now):
    try:
        client = client_class(delivery.channel.network)
    except LookupError:
        return False
    if not client.idempotent:
        return False
    window = client.idempotency_window
    if window is None or delivery.first_sent_at is None:
        return True
    return now - delivery.first_sent_at < timedelta(seconds=window) - WINDOW_MARGIN


def _record_failure(delivery, error, worker, *, now=None, sending=None):
    """Decide what a failed attempt leads to, and record it fenced on our `sending`."""
    now = now or timezone.now()
    attempts = delivery.attempts
    fields = {
        "error_code": error.code[:64],
        "error_kind": error.kind,
        "error_message": error.message,
        "claimed_by": "",
        "lease_until": None,
        "updated_at": now,
    }
    hold_channel = False
    if error.kind == ErrorKind.RETRY_LATER and attempts < MAX_ATTEMPTS:
        state = DeliveryState.RETRYING
        fields["next_attempt_at"] = now + backoff(attempts, error.retry_after)
    elif error.kind == ErrorKind.RETRY_LATER:
        state = DeliveryState.FAILED
        fields["error_message"] = _(
            "%(message)s Tribu gave up after %(count)s attempts: retry when the network is back."
        ) % {"message": error.message, "count": attempts}
    elif error.kind == ErrorKind.REAUTH:
        state = DeliveryState.HELD
        fields["hold_reason"] = HoldReason.RECONNECT
        hold_channel = True
    elif error.kind == ErrorKind.UNKNOWN and _still_idempotent(delivery, now):
        state = DeliveryState.RETRYING
        fields["next_attempt_at"] = now + UNKNOWN_RETRY
    elif error.kind == ErrorKind.UNKNOWN:
        state = DeliveryState.UNKNOWN
        fields["reconcile_at"] = now + RECONCILE_DELAY
        fields["error_message"] = _(
            "The post was sent but no answer came back, so it may already be published. "
            "Tribu looks for it on the network before anything else; if it cannot tell, "
            "you decide."
        )
    else:  # fix_content, fatal
        state = DeliveryState.FAILED
    fence = {"pk": delivery.pk, "state": DeliveryState.SENDING}
    if worker:
        fence["claimed_by"] = worker
    with transaction.atomic():
        moved = Delivery.objects.filter(**fence).update(state=state, **fields)
        if not moved:
            return None
        message = error.message
        if error.detail:
            message = f"{message} ({error.detail[:500]})"
        DeliveryLog.objects.bulk_create([
            *([sending] if sending else []),
            *_request_logs(delivery.pk, getattr(error, "requests", None) or [], now, worker),
            DeliveryLog(
                delivery_id=delivery.pk, at=now, event=error.kind, state=state,
                request=error.request[:500], status_code=error.status, message=message,
                worker=worker,
            ),
        ])  # fmt: skip
    if hold_channel:
        from tribu.channels.services.channels import needs_reconnect

        needs_reconnect(delivery.channel, error.code, error.detail or error.message)
    if state in (DeliveryState.FAILED, DeliveryState.UNKNOWN):
        from tribu.publishing.services.notifying import delivery_needs_attention

        delivery_needs_attention(delivery.pk)
    return state


# The thread -----------------------------------------------------------------------------


class Publisher(threading.Thread):
    """Claims due deliveries about once a second and sends them on a pool of threads."""

    def __init__(self, threads=None, poll=None, name=None):
        super().__init__(name="tribu-publisher", daemon=True)
        self.threads = threads or settings.TRIBU_PUBLISH_THREADS
        # Claimed ahead of the sending threads (queued in the pool), so one claim serves
        # several sends; each waits well under a second, far inside its lease.
        self.capacity = self.threads * 2
        self.poll = settings.TRIBU_PUBLISH_POLL_SECONDS if poll is None else poll
        self.worker = name or worker_name()
        self._stop_event = threading.Event()
        self._slot_freed = threading.Event()
        self._busy = 0
        self._lock = threading.Lock()
        self._last_recovery = None

    def run(self):
        logger.info("Publisher started for %s with %s threads", self.worker, self.threads)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="tribu-send") as pool:
            while not self._stop_event.is_set():
                # Cleared before counting free threads: a send finishing from here on sets
                # it again, so the wait below cannot miss it.
                self._slot_freed.clear()
                claimed = 0
                free = 0
                try:
                    close_old_connections()
                    now = timezone.now()
                    if self._last_recovery is None or now - self._last_recovery > timedelta(
                        seconds=5
                    ):
                        self._last_recovery = now
                        recover(now)
                    with self._lock:
                        free = self.capacity - self._busy
                    ids = claim_due(self.worker, now, free)
                    claimed = len(ids)
                    for pk in ids:
                        with self._lock:
                            self._busy += 1
                        pool.submit(self._send, pk)
                except Exception:
                    logger.exception("Publisher loop failed; trying again")
                finally:
                    close_old_connections()
                if free == 0 or claimed == free:
                    # Every thread is busy and more may be due: claim again as soon as one
                    # is free, not a whole poll later.
                    self._slot_freed.wait(self.poll)
                else:
                    self._stop_event.wait(self.poll)

    def _send(self, pk):
        # Each sending thread keeps its database connection between deliveries; it is
        # checked and replaced only after an error.
        try:
            send(pk, self.worker)
        except Exception:
            logger.exception("Sending delivery %s failed", pk)
            close_old_connections()
        finally:
            with self._lock:
                self._busy -= 1
            self._slot_freed.set()

    def stop(self, timeout=30):
        self._stop_event.set()
        self._slot_freed.set()
        self.join(timeout)
