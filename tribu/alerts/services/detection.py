"""Checking a topic for a bad buzz, every 5 minutes (the tick claims due rules, see tasks.py).

A check:

1. counts the topic's mentions (and negative mentions) per 5-minute step over the last
   HISTORY (8 days: the detector's 7-day baseline and record window, plus its warm-up day),
   up to the start of the step in progress (series.counts: one GROUP BY);
2. replays both series through a fresh `SpikeDetector` at the topic's sensitivity, the
   season slot being the hour of the day in the workspace's time zone (a brand's daily
   rhythm follows its audience's clock). The detector keeps no state between checks, so a
   changed sensitivity, a re-matched topic or a restart simply give a new replay;
3. acts only on firings at steps not yet decided by an earlier check (`examined_until`),
   give or take LATE_GRACE: feeds are polled every 15 minutes, so the mentions of a step
   keep arriving after it ends, and a burst seen late fires on a step already examined.
   `<kind>_fired_at` remembers the last firing acted upon, so a replay that fires on the
   same step again does nothing;
4. ignores firings in the first WARMUP of the workspace's listening (its oldest mention):
   with no history, the first mentions ever stored look like a burst;
5. opens an alert for the firing, unless the topic already has an open or acknowledged
   alert of that kind, or of the other kind for the same hour (LINKED): one incident, one
   alert (a partial unique index enforces the first rule even when two checks race).
   Opening records the explanation, notifies the members and lands in the audit log.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tribu.alerts.models import ACTIVE_STATES, Alert, AlertKind, AlertRule, Sensitivity
from tribu.alerts.services import explanation as explaining
from tribu.alerts.services.series import HOUR, STEP, counts, step_floor
from tribu.core.services.audit import record
from tribu.insights.spikes import SpikeDetector, threshold_for
from tribu.listening.models import Mention, Topic

logger = logging.getLogger(__name__)

HISTORY = timedelta(days=8)
LATE_GRACE = timedelta(hours=1)
STEPS_PER_HOUR = HOUR // STEP
# A step is checked this long after it ends, so mentions published in its last seconds and
# ingested at once are counted.
CHECK_DELAY = timedelta(seconds=30)
# No alert before the workspace has listened this long: a topic with no history would
# otherwise alert on the first mentions ever stored.
WARMUP = timedelta(days=1)
# A volume and a negative firing this close together are one incident: the first opens the
# alert (its explanation gives both figures), the other is not opened.
LINKED = timedelta(hours=1)
# A claimed rule is leased to its check for this long; past it, the tick claims it again.
LEASE = timedelta(minutes=10)

FIRED_FIELD = {AlertKind.VOLUME: "volume_fired_at", AlertKind.NEGATIVE: "negative_fired_at"}


def ensure_rules(limit=None):
    """Give every topic its rule (with the defaults). Returns how many were created."""
    missing = Topic.objects.filter(alert_rule__isnull=True).values_list("id", "workspace_id")
    if limit:
        missing = missing[:limit]
    rules = [AlertRule(topic_id=pk, workspace_id=ws) for pk, ws in missing]
    AlertRule.objects.bulk_create(rules, ignore_conflicts=True)
    return len(rules)


def rule_for(topic):
    rule, _created = AlertRule.objects.get_or_create(
        topic=topic, defaults={"workspace_id": topic.workspace_id}
    )
    return rule


def next_check_after(moment):
    """The first check time after `moment`: just after the end of the step in progress."""
    return step_floor(moment) + STEP + CHECK_DELAY


@dataclass
class Firing:
    kind: str
    step_end: object  # aware datetime: the end of the step the detector fired on
    expected: float  # what the detector expected for the hour ending there


def replay(volumes, negatives, slots, start, sensitivity, kinds):
    """Every firing of the detector over the series, oldest first."""
    series = {AlertKind.VOLUME: volumes, AlertKind.NEGATIVE: negatives}
    firings = []
    for kind in kinds:
        values = series[kind]
        if values is None:
            continue
        detector = SpikeDetector(
            threshold=threshold_for(sensitivity), steps_per_hour=STEPS_PER_HOUR
        )
        for index, (count, slot) in enumerate(zip(values, slots, strict=True)):
            if detector.update(count, slot):
                expected = getattr(detector, "last_expected_hour", None)
                if expected is None:  # older detectors: the mean hour of the history
                    hours = max(index / STEPS_PER_HOUR, 1)
                    expected = sum(values[:index]) / hours
                firings.append(Firing(kind, start + (index + 1) * STEP, float(expected)))
    firings.sort(key=lambda firing: firing.step_end)
    return firings


def local_hours(start, steps, tz):
    """The hour of the day, in `tz`, at the start of each step."""
    hours, cache = [], {}
    for index in range(steps):
        moment = start + index * STEP
        hour_start = moment.replace(minute=0, second=0, microsecond=0)
        if hour_start not in cache:
            cache[hour_start] = hour_start.astimezone(tz).hour
        hours.append(cache[hour_start])
    return hours


def check_rule(rule_id, lease=None, now=None):
    """Check one rule (idempotent). With a `lease`, only while the rule still holds it: a
    task enqueued twice, or for a rule re-claimed since, does nothing. Returns the alerts
    opened (a list), or None when the check did not run."""
    now = now or timezone.now()
    rule = AlertRule.objects.select_related("topic", "workspace").filter(pk=rule_id).first()
    if rule is None or (lease is not None and rule.next_check_at != lease):
        return None
    end = step_floor(now)
    opened = []
    updates = {"last_checked_at": now, "next_check_at": next_check_after(now)}
    if rule.active:
        start = end - HISTORY
        volumes, negatives = counts(rule.topic_id, start, end, negative=rule.watch_negative)
        slots = local_hours(start, len(volumes), rule.workspace.tzinfo)
        decided_until = (rule.examined_until or end) - LATE_GRACE
        listening_since = _listening_since(rule.workspace_id)
        for firing in replay(volumes, negatives, slots, start, rule.sensitivity, rule.kinds()):
            fired_field = FIRED_FIELD[firing.kind]
            last = updates.get(fired_field) or getattr(rule, fired_field)
            if firing.step_end <= decided_until or (last and firing.step_end <= last):
                continue
            if listening_since is None or firing.step_end - listening_since < WARMUP:
                continue  # the workspace just started listening: its first mentions are no buzz
            updates[fired_field] = firing.step_end
            alert = open_alert(rule, firing, now)
            if alert is not None:
                opened.append(alert)
        updates["examined_until"] = end
    # Conditional on the lease: a check that outlived it leaves the schedule to the newer one.
    rows = AlertRule.objects.filter(pk=rule.pk)
    if lease is not None:
        rows = rows.filter(next_check_at=lease)
    rows.update(**updates)
    return opened


def _listening_since(workspace_id):
    """When the workspace's oldest stored mention was published (None: no mention)."""
    first = (
        Mention.objects.filter(workspace_id=workspace_id)
        .order_by("sort_key")
        .values_list("published_at", flat=True)
        .first()
    )
    return first


def open_alert(rule, firing, now=None):
    """Open an alert for a firing, unless one of its kind is already open or acknowledged for
    the topic. Returns the alert, or None."""
    now = now or timezone.now()
    topic = rule.topic
    active = Alert.objects.filter(topic=topic, state__in=ACTIVE_STATES)
    same_incident = Q(kind=firing.kind) | Q(
        window_end__gte=firing.step_end - LINKED, window_end__lte=firing.step_end + LINKED
    )
    if active.filter(same_incident).exists():
        return None
    window_start = firing.step_end - HOUR
    details = explaining.snapshot(
        topic, firing.kind, window_start, firing.step_end, firing.expected
    )
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                workspace_id=rule.workspace_id,
                topic=topic,
                kind=firing.kind,
                sensitivity=rule.sensitivity,
                opened_at=now,
                window_start=window_start,
                window_end=firing.step_end,
                explanation=details,
            )
    except IntegrityError:
        return None  # another check opened it first (one_active_alert_per_topic_kind)
    alert.workspace = rule.workspace
    record(
        rule.workspace,
        "alert.opened",
        target=topic.name,
        alert_id=alert.pk,
        kind=str(firing.kind),
        observed=details["observed"],
    )
    from tribu.alerts.services.notifying import notify_opened

    try:
        notify_opened(alert)
    except Exception:  # the alert stands even if notifying fails; the list shows it
        logger.exception("Could not notify alert %s", alert.pk)
    return alert


def sensitivity_label(value):
    return Sensitivity(value).label if value in Sensitivity.values else value
