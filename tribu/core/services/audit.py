"""The audit log: one call records who did what, when and from where."""

from django.conf import settings

from tribu.core.models import AuditEvent


def client_ip(request):
    """The client address; X-Forwarded-For is only believed behind a trusted proxy."""
    if request is None:
        return None
    if settings.TRIBU_TRUST_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def record(workspace, action, *, actor=None, request=None, target="", **data):
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent.objects.create(
        workspace=workspace,
        actor=actor,
        actor_label=getattr(actor, "email", "") or "",
        action=action,
        target_label=str(target)[:255],
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:255],
        data=data,
    )
