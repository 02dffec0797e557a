"""The worker's periodic tick: heartbeat, then claim due rows and enqueue one task per row.

A schedule is data (a column such as `Workspace.next_audit_digest_at`), never a job sleeping
in memory. Every `tribu worker` runs a Ticker thread; each tick:

1. writes this worker's WorkerHeartbeat (what /healthz reads);
2. runs every function in CLAIMERS. A claimer finds due rows and claims each with a
   conditional UPDATE (`claim_row`): the UPDATE only matches while the row still holds the
   value this worker read, so when several workers see the same due row exactly one UPDATE
   changes it (rowcount 1) and only that worker enqueues the task.

Later features append their claimer to CLAIMERS (or decorate it with `@claimer`).
"""

import logging
import os
import socket
import threading
import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from tribu.core.models import WorkerHeartbeat, Workspace

logger = logging.getLogger(__name__)

# Functions called with the tick's `now` (an aware datetime); each returns how many rows it
# claimed. Order matters only for log readability.
CLAIMERS = []

# Rows claimed per claimer per tick: a backlog drains over a few ticks instead of one
# long tick holding the worker.
CLAIM_BATCH = 200

# Heartbeats of workers gone for this long are deleted, so the table stays small.
HEARTBEAT_RETENTION = timedelta(days=1)

# Clean-up functions (called with `now`) that each worker runs at most once per interval;
# they must be idempotent since several workers may run them.
HOUSEKEEPING = []
HOUSEKEEPING_INTERVAL = timedelta(hours=1)
_last_housekeeping = {}


def claimer(function):
    """Register a claimer (decorator)."""
    CLAIMERS.append(function)
    return function


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_row(model, pk, field, seen, next_value, now):
    """Move `field` of row `pk` from `seen` (a due value) to `next_value`.

    Returns True when this call won the row. The WHERE clause repeats what the caller saw, so
    two workers racing on the same row cannot both match: the database serialises the two
    UPDATEs and the second finds the value already changed (rowcount 0).
    """
    updated = model.objects.filter(pk=pk, **{field: seen, f"{field}__lte": now}).update(
        **{field: next_value}
    )
    return updated == 1


def claim_leases(due, model, field, lease, now, enqueue):
    """Claim each (pk, seen) of `due` (values_list rows, CLAIM_BATCH at most) by moving
    `field` from `seen` to `lease` with claim_row, and call `enqueue(pk, lease)` for every
    row this worker won. Returns how many it won."""
    claimed = 0
    for pk, seen in due[:CLAIM_BATCH]:
        if claim_row(model, pk, field, seen, lease, now):
            claimed += 1
            enqueue(pk, lease)
    return claimed


def beat(name, now=None):
    """Record that worker `name` is alive (read by /healthz)."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={"version": settings.VERSION, "last_seen_at": now},
        create_defaults={"version": settings.VERSION, "last_seen_at": now, "started_at": now},
    )
    WorkerHeartbeat.objects.filter(last_seen_at__lt=now - HEARTBEAT_RETENTION).delete()


def run_once(name=None, now=None):
    """One tick: heartbeat, then every claimer. A failing claimer is logged and the others
    still run. Returns {claimer name: rows claimed}."""
    now = now or timezone.now()
    beat(name or worker_name(), now)
    claimed = {}
    for function in list(CLAIMERS):
        try:
            claimed[function.__name__] = function(now)
        except Exception:
            logger.exception("Claimer %s failed; it will run again next tick", function.__name__)
            claimed[function.__name__] = 0
    run_housekeeping(now)
    return claimed


def run_housekeeping(now):
    for function in list(HOUSEKEEPING):
        last = _last_housekeeping.get(function)
        if last is not None and now - last < HOUSEKEEPING_INTERVAL:
            continue
        _last_housekeeping[function] = now
        try:
            function(now)
        except Exception:
            logger.exception("Housekeeping %s failed; it will run again", function.__name__)


class Ticker(threading.Thread):
    """Runs `run_once` every `interval` seconds until `stop()`."""

    def __init__(self, interval=None, name=None):
        super().__init__(name="tribu-ticker", daemon=True)
        self.interval = settings.TRIBU_TICK_SECONDS if interval is None else interval
        self.worker = name or worker_name()
        self._stop_event = threading.Event()

    def run(self):
        logger.info("Ticker started for %s, every %s s", self.worker, self.interval)
        while not self._stop_event.is_set():
            try:
                close_old_connections()
                claimed = run_once(self.worker)
                if any(claimed.values()):
                    logger.info("Tick claimed %s", claimed)
            except Exception:
                # The database may be briefly unreachable: keep ticking, /healthz will tell.
                logger.exception("Tick failed")
            finally:
                close_old_connections()
            self._stop_event.wait(self.interval)

    def stop(self, timeout=10):
        self._stop_event.set()
        self.join(timeout)


# Audit digests ---------------------------------------------------------------------------
#
# Schedule (in the workspace's time zone): daily digests are due at local midnight and cover
# the day that just ended; weekly digests are due on Monday at 08:00 and cover the week
# since the previous Monday 08:00, so they land at the start of the working week.

WEEKLY_HOUR = time(8, 0)
DIGEST_PERIODS = {
    Workspace.Digest.DAILY: timedelta(days=1),
    Workspace.Digest.WEEKLY: timedelta(days=7),
}


def workspace_tz(name):
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _local(day, at, tz):
    # A local wall-clock time; DST gaps resolve through zoneinfo's fold rules.
    return datetime.combine(day, at, tzinfo=tz)


def next_digest_at(frequency, tz, after):
    """The first digest time strictly after `after`, as an aware UTC datetime."""
    local = after.astimezone(tz)
    if frequency == Workspace.Digest.DAILY:
        candidate = _local(local.date() + timedelta(days=1), time(0, 0), tz)
    elif frequency == Workspace.Digest.WEEKLY:
        days_ahead = (0 - local.weekday()) % 7
        candidate = _local(local.date() + timedelta(days=days_ahead), WEEKLY_HOUR, tz)
        if candidate <= after:
            candidate = _local(local.date() + timedelta(days=days_ahead + 7), WEEKLY_HOUR, tz)
    else:
        raise ValueError(f"no digest schedule for {frequency!r}")
    return candidate.astimezone(UTC)


def previous_digest_at(frequency, tz, end):
    """The digest time one period before `end`, in local calendar terms (DST-safe)."""
    local = end.astimezone(tz)
    start = _local(local.date() - DIGEST_PERIODS[frequency], local.time(), tz)
    return start.astimezone(UTC)


@claimer
def claim_audit_digests(now):
    """Claim workspaces whose audit digest is due and enqueue one digest task each."""
    from tribu.core.tasks import send_audit_digest  # the tasks module imports huey

    # A workspace that turned digests off forgets its schedule, so turning them back on
    # starts from the next boundary instead of replaying a stale one.
    Workspace.objects.filter(
        audit_digest=Workspace.Digest.OFF, next_audit_digest_at__isnull=False
    ).update(next_audit_digest_at=None)

    active = Workspace.objects.exclude(audit_digest=Workspace.Digest.OFF)
    fresh = active.filter(next_audit_digest_at__isnull=True).values_list(
        "id", "audit_digest", "timezone"
    )
    for pk, frequency, tz_name in fresh[:CLAIM_BATCH]:
        first = next_digest_at(frequency, workspace_tz(tz_name), now)
        # Conditional too: never overwrite a schedule another worker or a view just set.
        Workspace.objects.filter(pk=pk, next_audit_digest_at__isnull=True).update(
            next_audit_digest_at=first
        )

    due = (
        active.filter(next_audit_digest_at__lte=now)
        .order_by("next_audit_digest_at", "id")
        .values_list("id", "audit_digest", "timezone", "next_audit_digest_at")
    )
    claimed = 0
    for pk, frequency, tz_name, seen in due[:CLAIM_BATCH]:
        # The next digest is always in the future: after downtime we send one digest for
        # the missed boundary, and the following one covers everything since (the task
        # starts each period where the previous digest ended).
        following = next_digest_at(frequency, workspace_tz(tz_name), max(seen, now))
        if claim_row(Workspace, pk, "next_audit_digest_at", seen, following, now):
            claimed += 1
            send_audit_digest(pk, seen)
    return claimed
