"""The crisis switch: pause every delivery of a workspace, then resume with a decision on
the posts that became stale meanwhile."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.core.roles import has_permission
from tribu.core.services.audit import record
from tribu.publishing.models import Delivery, DeliveryState, HoldReason
from tribu.publishing.services import deliveries


class PauseError(Exception):
    pass


def check(role):
    if not has_permission(role, "publishing.pause"):
        raise PauseError(_("Your role cannot pause or resume publishing."))


def pause(workspace, actor, *, reason="", request=None):
    """Hold every delivery not yet sent. Idempotent: pausing a paused workspace changes
    nothing. Returns the number of deliveries held."""
    now = timezone.now()
    with transaction.atomic():
        settings = deliveries.settings_for(workspace)
        if settings.paused:
            return 0
        type(settings).objects.filter(pk=settings.pk).update(
            paused_at=now, paused_by=actor, pause_reason=reason[:255]
        )
        held = deliveries.hold_workspace(workspace)
        record(workspace, "publishing.paused", actor=actor, request=request, target=workspace.name,
               held=held, reason=reason[:255])  # fmt: skip
    return held


def held_by_pause(workspace):
    return Delivery.objects.filter(
        workspace=workspace, state=DeliveryState.HELD, hold_reason=HoldReason.PAUSED
    ).select_related("post", "channel")


def resume(workspace, actor, *, request=None, now=None):
    """Lift the pause. Held deliveries still on time go back to the queue; those now later
    than the workspace's limit stay held as "too late" for a person to decide (publish now,
    reschedule or drop). Returns (released ids, stale ids)."""
    now = now or timezone.now()
    with transaction.atomic():
        settings = deliveries.settings_for(workspace)
        if not settings.paused:
            return [], []
        type(settings).objects.filter(pk=settings.pk).update(
            paused_at=None, paused_by=None, pause_reason=""
        )
        released, stale = deliveries.release(
            held_by_pause(workspace), now=now, late_limit=settings.late_limit_minutes
        )
        record(workspace, "publishing.resumed", actor=actor, request=request,
               target=workspace.name, released=len(released), stale=len(stale))  # fmt: skip
    return released, stale
