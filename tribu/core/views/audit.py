"""The audit log page and its CSV export."""

import csv

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from tribu.core.access import workspace_view
from tribu.core.roles import Role

PAGE_SIZE = 50

# Filter value → the action prefixes it covers. Invitations belong with members.
FILTERS = {
    "member.": (gettext_lazy("Members and invitations"), ("member.", "invitation.")),
    "security.": (gettext_lazy("Security"), ("security.",)),
    "workspace.": (gettext_lazy("Workspace"), ("workspace.",)),
    "token.": (gettext_lazy("API tokens"), ("token.",)),
}

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
        fields=", ".join(str(field) for field in event.data.get("fields", [])),
    )
    template = SENTENCES.get(action)
    if template is None:
        return _("%(actor)s: %(action)s %(target)s") % {**values, "action": event.action}
    try:
        return str(template) % values
    except (KeyError, ValueError, TypeError):
        return _("%(actor)s: %(action)s %(target)s") % {**values, "action": event.action}


def _events(request):
    """The workspace's events, newest first, narrowed by the ?action= filter if valid."""
    events = request.workspace.audit_events.all()
    chosen = request.GET.get("action", "")
    if chosen in FILTERS:
        condition = Q()
        for prefix in FILTERS[chosen][1]:
            condition |= Q(action__startswith=prefix)
        events = events.filter(condition)
    else:
        chosen = ""
    return events.order_by("-created_at", "-id"), chosen


@workspace_view("audit.view")
@require_GET
def audit_log(request):
    events, chosen = _events(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"event": event, "sentence": describe(event)} for event in page.object_list]
    return render(
        request,
        "core/audit.html",
        {
            "page": page,
            "rows": rows,
            "filters": [(value, label) for value, (label, _prefixes) in FILTERS.items()],
            "chosen": chosen,
        },
    )


@workspace_view("audit.view")
@require_GET
def audit_csv(request):
    events, chosen = _events(request)
    tz = request.workspace.tzinfo
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"audit-{request.workspace.slug}{'-' + chosen.rstrip('.') if chosen else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("time"),
            _("actor"),
            _("action"),
            _("description"),
            _("target"),
            _("IP address"),
            _("user agent"),
        ]
    )
    for event in events.iterator(chunk_size=500):
        writer.writerow(
            [
                timezone.localtime(event.created_at, tz).isoformat(timespec="seconds"),
                _csv_safe(event.actor_label),
                event.action,
                _csv_safe(describe(event)),
                _csv_safe(event.target_label),
                event.ip_address or "",
                _csv_safe(event.user_agent),
            ]
        )
    return response


def _csv_safe(value):
    """Spreadsheets run cells starting with = + - @ as formulas; a user agent or a name is
    attacker-controlled, so such cells get a leading apostrophe."""
    value = str(value or "")
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
