"""Polling sources: the tick claims due sources, one huey task polls each.

The schedule is `Source.next_poll_at`. Each tick, `claim_due_sources` moves every due
source's `next_poll_at` to a lease (now + LEASE) with a conditional UPDATE (`claim_row`),
so exactly one worker wins each source, and enqueues `poll_source_task(id, lease)`. The
task polls only if the source still holds that lease: a task enqueued twice, or for a
source since paused, deleted or re-claimed, does nothing. If a worker dies mid-poll, the
lease expires and the next tick claims the source again.

A poll: fetch (network I/O, outside any transaction) → parse the feed or run the network
connector → ingest the items → record health and state in one UPDATE, and set the next
poll time:

- success: the source's interval, but never sooner than the server asked (Cache-Control
  max-age, RSS <ttl>, Retry-After), with ±10 % jitter so sources drift apart;
- 304 Not Modified: a success with nothing new;
- failure: interval × 2^failures, capped at MAX_BACKOFF, ±20 % jitter, and never sooner
  than Retry-After; the error is stored in plain words, in the workspace's language;
- after PAUSE_AFTER failures in a row (or at once when the address is gone for good,
  HTTP 410), the source is paused and the workspace's owners and admins get an email.

Every exception is caught and recorded, so one bad source never stops the others.
"""

import logging
import random
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from huey.contrib.djhuey import db_task

from tribu.core.models import Membership
from tribu.core.roles import Role
from tribu.core.services.audit import record
from tribu.core.tick import CLAIM_BATCH, claim_row, claimer
from tribu.listening.fetch.http import FetchError, fetch
from tribu.listening.models import Source
from tribu.listening.services.sources import connector_config

logger = logging.getLogger(__name__)

# A claimed source is leased to its task for this long; past it, the tick claims it again.
LEASE = timedelta(minutes=15)
# Back-off on errors never waits longer than this, and no server hint delays a poll more.
MAX_BACKOFF = timedelta(hours=24)
# Failures in a row before a source is paused and its managers told.
PAUSE_AFTER = 10
SUCCESS_JITTER = 0.10
ERROR_JITTER = 0.20
# Statuses after which polling again is pointless: pause at once.
GONE_STATUSES = frozenset({410})

MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass
class PollOutcome:
    """What one poll did, for the command line and the logs."""

    source_id: int
    status: str  # "ok", "not_modified", "error", "paused", "skipped"
    new: int = 0
    duplicates: int = 0
    error: str = ""
    next_poll_at: object = None
    paused: bool = False


@dataclass
class Fetched:
    """What a poll read from the network: the items and the politeness hints."""

    items: list = field(default_factory=list)
    state: dict = field(default_factory=dict)
    not_modified: bool = False
    min_interval: int | None = None  # seconds the server asked us to wait, at least
    title: str = ""


# Scheduling --------------------------------------------------------------------------------


def jittered(seconds, spread):
    return seconds * random.uniform(1 - spread, 1 + spread)


def success_delay(source, min_interval=None):
    """Seconds until the next poll after a success."""
    seconds = max(source.poll_interval_seconds, min_interval or 0)
    seconds = min(seconds, MAX_BACKOFF.total_seconds())
    return timedelta(seconds=jittered(seconds, SUCCESS_JITTER))


def error_delay(source, failures, retry_after=None):
    """Seconds until the next poll after the `failures`-th failure in a row."""
    seconds = source.poll_interval_seconds * 2 ** min(failures, 32)
    seconds = jittered(min(seconds, MAX_BACKOFF.total_seconds()), ERROR_JITTER)
    if retry_after:
        seconds = max(seconds, min(retry_after, MAX_BACKOFF.total_seconds()))
    return timedelta(seconds=seconds)


def cache_max_age(headers):
    """Seconds from Cache-Control max-age (none when absent or no-cache)."""
    value = headers.get("cache-control") or ""
    match = MAX_AGE.search(value)
    return int(match.group(1)) if match else None


def pollable(queryset):
    return queryset.filter(enabled=True, paused_at__isnull=True)


@claimer
def claim_due_sources(now):
    """Claim due sources (tick) and enqueue one poll task each."""
    due = (
        pollable(Source.objects)
        .filter(Q(next_poll_at__lte=now))
        .order_by("next_poll_at", "id")
        .values_list("id", "next_poll_at")
    )
    claimed = 0
    for pk, seen in due[:CLAIM_BATCH]:
        lease = now + LEASE
        if claim_row(Source, pk, "next_poll_at", seen, lease, now):
            claimed += 1
            poll_source_task(pk, lease)
    # A source whose schedule was lost (created without one) becomes due now.
    pollable(Source.objects).filter(next_poll_at__isnull=True).update(next_poll_at=now)
    return claimed


@db_task(retries=0)
def poll_source_task(source_id, lease):
    """Poll one source claimed by the tick (idempotent: see the module docstring)."""
    outcome = poll_source(source_id, lease=lease)
    return outcome.status


def claim_now(source_id, now=None):
    """Lease a source for an immediate poll whatever its schedule (`listen poll --source`).
    Returns the lease, or None when the source is gone or a tick claimed it meanwhile."""
    now = now or timezone.now()
    seen = Source.objects.filter(pk=source_id).values_list("next_poll_at", flat=True).first()
    lease = now + LEASE
    rows = Source.objects.filter(pk=source_id)
    rows = (
        rows.filter(next_poll_at__isnull=True) if seen is None else rows.filter(next_poll_at=seen)
    )
    return lease if rows.update(next_poll_at=lease) == 1 else None


# Polling -------------------------------------------------------------------------------------


def poll_source(source_id, lease=None):
    """Poll one source now, if it is still leased to this call (`lease`), and record the
    outcome. Never raises for a problem of the source itself."""
    source = Source.objects.select_related("workspace").filter(pk=source_id).first()
    if source is None:
        return PollOutcome(source_id, "skipped")
    if source.paused_at is not None or not source.enabled:
        return PollOutcome(source_id, "skipped", paused=source.paused_at is not None)
    if lease is not None and source.next_poll_at != lease:
        return PollOutcome(source_id, "skipped")
    language = source.workspace.language or settings.LANGUAGE_CODE
    # Errors are stored in the workspace's language: that is who reads the source's health.
    with translation.override(language):
        try:
            fetched = read_source(source)
            stored = store(source, fetched)
        except FetchError as error:
            return record_failure(source, error.message, error, lease)
        except Exception as error:  # noqa: BLE001 - one broken source must not stop others
            logger.exception("Polling source %s failed", source.pk)
            message = _(
                "Tribu could not read this source because of an unexpected problem "
                "(%(error)s). It will be tried again later; if it keeps failing, check the "
                "source's settings."
            ) % {"error": type(error).__name__}
            return record_failure(source, message, None, lease)
        return record_success(source, fetched, stored, lease)


def read_source(source):
    """Network I/O only: fetch and parse. Runs outside any database transaction."""
    if source.kind == Source.Kind.FEED:
        return read_feed(source)
    from tribu.listening import connectors

    result = connectors.poll(source.kind, connector_config(source), dict(source.state or {}))
    return Fetched(
        items=list(result.items), state=dict(result.state), min_interval=result.retry_after
    )


def read_feed(source):
    from tribu.listening.fetch.feeds import parse_feed

    state = dict(source.state or {})
    result = fetch(source.url, etag=state.get("etag"), last_modified=state.get("last_modified"))
    hints = [cache_max_age(result.headers), result.retry_after]
    for name in ("etag", "last_modified"):
        value = getattr(result, name)
        if value:
            state[name] = value
        elif not result.not_modified:
            state.pop(name, None)
    if result.not_modified:
        return Fetched(state=state, not_modified=True, min_interval=max_hint(hints))
    content_type = result.headers.get("content-type")
    parsed = parse_feed(result.body, url=result.url, content_type=content_type)
    hints.append(parsed.ttl)  # seconds: RSS <ttl>, sy:updatePeriod
    if not parsed.format and not parsed.items:
        raise FetchError(
            "not_a_feed",
            _("%(url)s could not be read as a feed: %(problem)s")
            % {"url": result.url, "problem": " ".join(parsed.problems[:2])},
            url=result.url,
        )
    return Fetched(
        items=list(parsed.items),
        state=state,
        min_interval=max_hint(hints),
        title=(parsed.title or "").strip(),
    )


def max_hint(hints):
    values = [hint for hint in hints if hint]
    return max(values) if values else None


def store(source, fetched):
    """Hand the items to ingestion; returns (new, duplicates), near-duplicates grouped
    under an earlier mention counting as duplicates."""
    if not fetched.items:
        return 0, 0
    from tribu.listening.services.ingest import ingest

    report = ingest(source, fetched.items)
    return report.created, report.duplicates + report.grouped


def record_success(source, fetched, stored, lease):
    new, duplicates = stored
    now = timezone.now()
    next_poll_at = now + success_delay(source, fetched.min_interval)
    state = dict(fetched.state)
    changes = {
        "state": state,
        "last_polled_at": now,
        "last_success_at": now,
        "consecutive_failures": 0,
        "last_error": "",
        "last_error_at": None,
        # Every item read counts, new or not: "items seen" is what the source delivered.
        "items_seen": F("items_seen") + len(fetched.items),
        "next_poll_at": next_poll_at,
    }
    if state.pop("auto_name", False):
        if fetched.title:
            # The feed names itself once; a name the manager typed is never replaced.
            changes["name"] = fetched.title[: Source._meta.get_field("name").max_length]
        else:
            state["auto_name"] = True
    if not update_if_held(source, lease, changes):
        return PollOutcome(source.pk, "skipped")
    status = "not_modified" if fetched.not_modified else "ok"
    return PollOutcome(source.pk, status, new, duplicates, next_poll_at=next_poll_at)


def update_if_held(source, lease, changes):
    """Write the poll's results unless the source was paused or re-claimed meanwhile (a
    manager pressed pause: their choice wins)."""
    rows = Source.objects.filter(pk=source.pk, paused_at__isnull=True)
    if lease is not None:
        rows = rows.filter(next_poll_at=lease)
    return rows.update(**changes) == 1


def record_failure(source, message, error, lease):
    now = timezone.now()
    failures = source.consecutive_failures + 1
    retry_after = getattr(error, "retry_after", None)
    gone = getattr(error, "status", None) in GONE_STATUSES
    next_poll_at = now + error_delay(source, failures, retry_after)
    changes = {
        "last_polled_at": now,
        "consecutive_failures": failures,
        "last_error": message,
        "last_error_at": now,
        "next_poll_at": next_poll_at,
    }
    pause = gone or failures >= PAUSE_AFTER
    if pause:
        if gone:
            reason = _("The address is gone for good (HTTP 410). Check the site for a new one.")
        else:
            reason = ngettext(
                "The last %(count)d poll failed. Fix the problem, then resume the source.",
                "The last %(count)d polls failed. Fix the problem, then resume the source.",
                failures,
            ) % {"count": failures}
        changes.update(paused_at=now, paused_reason=reason)
    if not update_if_held(source, lease, changes):
        return PollOutcome(source.pk, "skipped")
    if pause:
        source.refresh_from_db()
        record(
            source.workspace,
            "source.paused",
            target=source.name,
            reason="failures",
            failures=failures,
            error=message,
        )
        notify_paused(source)
    return PollOutcome(
        source.pk,
        "paused" if pause else "error",
        error=message,
        next_poll_at=None if pause else next_poll_at,
        paused=pause,
    )


# Notification ------------------------------------------------------------------------------


def managers(workspace):
    return [
        membership.user
        for membership in Membership.objects.filter(
            workspace=workspace, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True
        ).select_related("user")
    ]


def sources_url(workspace):
    for name in ("listening:sources", "listening:source_list"):
        try:
            return settings.TRIBU_BASE_URL + reverse(name, kwargs={"ws": workspace.slug})
        except NoReverseMatch:
            continue
    return settings.TRIBU_BASE_URL + reverse("core:workspace_home", kwargs={"ws": workspace.slug})


def notify_paused(source):
    """Email the workspace's owners and admins, each in their own language."""
    workspace = source.workspace
    link = sources_url(workspace)
    for user in managers(workspace):
        language = user.language or workspace.language or settings.LANGUAGE_CODE
        with translation.override(language):
            subject = _("%(workspace)s: the source “%(source)s” was paused") % {
                "workspace": workspace.name,
                "source": source.name,
            }
            body = "\n\n".join(
                [
                    _(
                        "Tribu stopped polling the source “%(source)s” (%(url)s) in the "
                        "workspace %(workspace)s."
                    )
                    % {"source": source.name, "url": source.url, "workspace": workspace.name},
                    _("Why: %(reason)s") % {"reason": source.paused_reason},
                    _("Last error: %(error)s") % {"error": source.last_error},
                    _(
                        "When the problem is fixed (or the address corrected), resume the "
                        "source on its page: %(link)s"
                    )
                    % {"link": link},
                ]
            )
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # noqa: BLE001 - the pause itself is recorded; mail is best effort
            logger.exception("Could not email %s about paused source %s", user.email, source.pk)


# Command line ------------------------------------------------------------------------------


def due_sources(now=None):
    now = now or timezone.now()
    return pollable(Source.objects).filter(next_poll_at__lte=now).order_by("next_poll_at", "id")


def poll_due(now=None, limit=CLAIM_BATCH):
    """Claim and poll every due source in this process, one after the other (the
    `listen poll --once` path). Yields an outcome per source polled."""
    now = now or timezone.now()
    for pk, seen in due_sources(now).values_list("id", "next_poll_at")[:limit]:
        lease = now + LEASE
        if claim_row(Source, pk, "next_poll_at", seen, lease, now):
            yield poll_source(pk, lease=lease)
