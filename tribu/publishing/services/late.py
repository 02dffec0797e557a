"""The "too late" rule of the publisher.

A post that fell due while no worker ran (a restart, an outage) is still published when the
worker comes back, provided it is at most `PublishingSettings.late_limit_minutes` late.
Later than that, publishing without a decision could surprise: "good morning" at 15:00, an
event announced after it started. The delivery is then held (HoldReason.LATE) until someone
publishes it now, reschedules it or drops it.

The boundary: a post exactly `limit_minutes` late still goes out; one microsecond more and
it is held. In symbols: too late ⇔ now − due_at > limit.
"""

from datetime import timedelta


def lateness(due_at, now):
    """How late a post due at `due_at` is at `now`: zero when it is not due yet."""
    return max(now - due_at, timedelta(0))


def is_too_late(due_at, now, limit_minutes):
    """Whether a post due at `due_at` is too late to publish at `now` without a decision:
    strictly more than `limit_minutes` late (exactly the limit still publishes)."""
    return now - due_at > timedelta(minutes=limit_minutes)
