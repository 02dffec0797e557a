"""The audit log: one call records who did what, when and from where."""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribu.core.models import AuditEvent, Workspace
from tribu.core.roles import Role


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


# One readable sentence per action; %(actor)s, %(target)s and the event's data fill it in.
SENTENCES = {
    "workspace.created": gettext_lazy("%(actor)s created the workspace “%(target)s”."),
    "workspace.updated": gettext_lazy("%(actor)s changed the workspace settings (%(fields)s)."),
    "member.invited": gettext_lazy("%(actor)s invited %(target)s as %(role)s."),
    "invitation.accepted": gettext_lazy(
        "%(target)s accepted the invitation and joined as %(role)s."
    ),
    "invitation.revoked": gettext_lazy("%(actor)s revoked the invitation to %(target)s."),
    "member.role_changed": gettext_lazy(
        "%(actor)s changed the role of %(target)s from %(old_role)s to %(new_role)s."
    ),
    "member.removed": gettext_lazy("%(actor)s removed %(target)s from the workspace."),
    "member.left": gettext_lazy("%(target)s left the workspace."),
    "token.created": gettext_lazy("%(actor)s created the API token “%(target)s” (%(role)s)."),
    "token.revoked": gettext_lazy("%(actor)s revoked the API token “%(target)s”."),
    "source.created": gettext_lazy("%(actor)s added the listening source “%(target)s”."),
    "source.deleted": gettext_lazy("%(actor)s deleted the listening source “%(target)s”."),
    "source.paused": gettext_lazy("The listening source “%(target)s” was paused."),
    "source.resumed": gettext_lazy("%(actor)s resumed the listening source “%(target)s”."),
    "topic.created": gettext_lazy("%(actor)s created the listening topic “%(target)s”."),
    "topic.updated": gettext_lazy("%(actor)s changed the listening topic “%(target)s”."),
    "topic.deleted": gettext_lazy("%(actor)s deleted the listening topic “%(target)s”."),
    "author.watched": gettext_lazy("%(actor)s added %(target)s to the watch list."),
    "author.unwatched": gettext_lazy("%(actor)s removed %(target)s from the watch list."),
    "mention.sentiment_corrected": gettext_lazy(
        "%(actor)s corrected the sentiment of the mention “%(target)s” to %(label)s."
    ),
    "security.login": gettext_lazy("%(target)s signed in."),
    "security.login_locked": gettext_lazy(
        "Sign-in for %(target)s was locked after repeated failures."
    ),
    "security.password_changed": gettext_lazy("%(target)s changed their password."),
    "security.password_reset": gettext_lazy("%(target)s reset their password by email."),
    "security.2fa_enabled": gettext_lazy("%(target)s turned on two-factor authentication."),
    "security.2fa_disabled": gettext_lazy("%(target)s turned off two-factor authentication."),
    "security.recovery_codes_regenerated": gettext_lazy(
        "%(target)s generated new two-factor recovery codes."
    ),
}


def _role_label(value):
    return str(Role(value).label) if value in Role.values else str(value or "")


def _field_label(name):
    """A workspace field's translated verbose name; the raw name when it is unknown (a field
    since removed, for instance), so old events still read."""
    try:
        return str(Workspace._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return str(name)


def describe(event):
    """The event as a sentence in the current language."""
    action = event.action
    if action == "member.removed" and event.data.get("left"):
        action = "member.left"
    values = {key: value for key, value in event.data.items() if isinstance(value, str | int)}
    values.update(
        actor=event.actor_label or _("Tribu"),
        target=event.target_label,
        role=_role_label(event.data.get("role")),
        old_role=_role_label(event.data.get("old_role")),
        new_role=_role_label(event.data.get("new_role")),
        fields=", ".join(_field_label(field) for field in event.data.get("fields", [])),
    )
    if action == "mention.sentiment_corrected":
        from tribu.listening.models import Sentiment

        labels = dict(Sentiment.choices)
        values["label"] = str(labels.get(values.get("label"), values.get("label", ""))).lower()
    template = SENTENCES.get(action)
    if template is None:
        return _("%(actor)s: %(action)s %(target)s") % {**values, "action": event.action}
    try:
        return str(template) % values
    except (KeyError, ValueError, TypeError):
        return _("%(actor)s: %(action)s %(target)s") % {**values, "action": event.action}
