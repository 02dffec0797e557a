"""The reconciler: settles deliveries whose outcome is unknown by looking on the network.

A send that may have succeeded is never blindly repeated. When the network offers no
idempotency (or its window has passed), the delivery waits in `unknown` and the tick hands
it here: the client's `find()` lists the account's recent posts. Found: published. Surely
absent: back to the queue (the late rule still applies). Cannot tell, or the network keeps
failing: it stays `unknown`, with no further automatic step, for a person to decide
("it was published" / "publish again").
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from tribu.channels.networks import client_for
from tribu.channels.networks.base import CannotTell, Content, NotFound, Published, PublishError
from tribu.publishing.models import Delivery, DeliveryLog, DeliveryState
from tribu.publishing.services import deliveries as service

LEASE = timedelta(minutes=10)
# Looks on the network after a failed look: then a person decides.
RETRIES = (timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30))


def reconcile(delivery_id, lease=None):
    delivery = (
        Delivery.objects.select_related("channel", "workspace")
        .filter(pk=delivery_id, state=DeliveryState.UNKNOWN)
        .first()
    )
    if delivery is None or (lease is not None and delivery.reconcile_at != lease):
        return None  # settled meanwhile, or another worker holds the lease
    with override(delivery.workspace.language):
        return _reconcile(delivery)


def _reconcile(delivery):
    now = timezone.now()
    since = (delivery.first_sent_at or delivery.due_at) - timedelta(minutes=5)
    try:
        found = client_for(delivery.channel, timeout=settings.TRIBU_PUBLISH_REQUEST_TIMEOUT).find(
            Content.from_json(delivery.content), stage=dict(delivery.stage), since=since
        )
    except PublishError as error:
        looks = DeliveryLog.objects.filter(delivery=delivery, event="reconcile_failed").count()
        later = RETRIES[looks] if looks < len(RETRIES) else None
        Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.UNKNOWN).update(
            reconcile_at=now + later if later else None, updated_at=now
        )
        message = error.message
        if later is None:
            message += " " + _("Tribu stops looking: check the network and decide.")
        service.log(delivery, "reconcile_failed", state=DeliveryState.UNKNOWN, message=message,
                    status_code=error.status, request=error.request, at=now)  # fmt: skip
        return DeliveryState.UNKNOWN
    for request, status, duration in getattr(found, "requests", []):
        service.log(delivery, "request", request=str(request), status_code=status,
                    duration_ms=duration, at=now)  # fmt: skip
    if isinstance(found, Published):
        moved = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.UNKNOWN).update(
            state=DeliveryState.PUBLISHED, remote_id=found.remote_id[:255],
            remote_url=(found.url or "")[:1000], published_at=now, reconcile_at=None,
            updated_at=now,
        )  # fmt: skip
        if moved:
            service.log(delivery, "found", state=DeliveryState.PUBLISHED, url=found.url or "",
                        message=_("Found on the network: it was published."), at=now)  # fmt: skip
            for warning in found.warnings:
                service.log(delivery, "warning", message=str(warning)[:2000], at=now)
            service.settle_post(delivery.post_id, now)
            if found.warnings:
                from tribu.publishing.services.notifying import delivery_needs_attention

                delivery_needs_attention(delivery.pk, warning=" ".join(map(str, found.warnings)))
        return DeliveryState.PUBLISHED
    if isinstance(found, NotFound):
        moved = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.UNKNOWN).update(
            # The stage is kept: it holds only what the network confirmed (uploaded
            # media, the thread parts already online), so the next attempt resumes after
            # them instead of posting them again.
            state=DeliveryState.SCHEDULED, next_attempt_at=now, reconcile_at=None,
            updated_at=now,
        )  # fmt: skip
        if moved:
            service.log(delivery, "not_found", state=DeliveryState.SCHEDULED, at=now,
                        message=_("Not on the network: publishing again."))  # fmt: skip
        return DeliveryState.SCHEDULED
    reason = found.reason if isinstance(found, CannotTell) else ""
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.UNKNOWN).update(
        reconcile_at=None, updated_at=now
    )
    message = reason or _("The network gives no way to check: please decide.")
    service.log(delivery, "cannot_tell", state=DeliveryState.UNKNOWN, at=now, message=message)
    return DeliveryState.UNKNOWN
