"""The tick's publishing claimers: unknown outcomes to reconcile and rituals to fill.

Sending itself is not a huey task: the Publisher thread of each worker claims due
deliveries every second (tribu/publishing/publisher.py), so a post goes out on time without
waiting for the 5-second tick.
"""

from huey.contrib.djhuey import db_task

from tribu.core.tick import HOUSEKEEPING, claim_leases, claimer
from tribu.publishing.models import Delivery, DeliveryState
from tribu.publishing.services import reconcile


@claimer
def claim_reconciliations(now):
    """Claim unknown deliveries due for a look on the network; one task each."""
    due = (
        Delivery.objects.filter(state=DeliveryState.UNKNOWN, reconcile_at__lte=now)
        .order_by("reconcile_at")
        .values_list("id", "reconcile_at")
    )
    lease = now + reconcile.LEASE
    return claim_leases(due, Delivery, "reconcile_at", lease, now, reconcile_task)


@db_task(retries=1, retry_delay=60)
def reconcile_task(delivery_id, lease):
    reconcile.reconcile(delivery_id, lease)


def materialize_rituals(now):
    """Keep eight weeks of each ritual's occurrences in the calendar (hourly)."""
    from tribu.publishing.services.rituals import materialize_due

    materialize_due(now)


HOUSEKEEPING.append(materialize_rituals)
