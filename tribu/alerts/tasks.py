"""The tick's rule claimer and the check task (one task per due rule).

The schedule is `AlertRule.next_check_at`. Each tick, `claim_due_rules` gives new topics
their rule (due at once), then moves each due rule's `next_check_at` to a lease (now +
LEASE) with `claim_row`, so exactly one worker wins each rule, and enqueues
`check_rule_task(id, lease)`. The check runs only while the rule holds that lease and sets
the next check time (the next 5-minute step) when done. A worker that dies mid-check leaves
the lease to expire, and the rule is claimed again. Rules turned off are not claimed.
"""

from django.db.models import Q
from huey.contrib.djhuey import db_task

from tribu.alerts.models import AlertRule, Sensitivity
from tribu.alerts.services import detection
from tribu.core.tick import CLAIM_BATCH, claim_row, claimer


def due_rules(now):
    return (
        AlertRule.objects.exclude(sensitivity=Sensitivity.OFF)
        .filter(Q(watch_volume=True) | Q(watch_negative=True))
        .filter(Q(next_check_at__lte=now) | Q(next_check_at__isnull=True))
    )


def claim(pk, seen, now):
    """Claim one rule seen due with `seen` as its next_check_at (None: never scheduled).
    Returns the lease when this worker won the rule, else None."""
    lease = now + detection.LEASE
    if seen is None:
        won = AlertRule.objects.filter(pk=pk, next_check_at__isnull=True).update(
            next_check_at=lease
        )
        return lease if won == 1 else None
    return lease if claim_row(AlertRule, pk, "next_check_at", seen, lease, now) else None


@claimer
def claim_due_rules(now):
    """Claim due alert rules (tick) and enqueue one check task each."""
    detection.ensure_rules(limit=CLAIM_BATCH)
    due = due_rules(now).order_by("next_check_at", "id").values_list("id", "next_check_at")
    claimed = 0
    for pk, seen in due[:CLAIM_BATCH]:
        lease = claim(pk, seen, now)
        if lease is not None:
            claimed += 1
            check_rule_task(pk, lease)
    return claimed


@db_task(retries=2, retry_delay=30)
def check_rule_task(rule_id, lease):
    """Check one rule claimed by the tick (idempotent: see detection.check_rule)."""
    detection.check_rule(rule_id, lease)
