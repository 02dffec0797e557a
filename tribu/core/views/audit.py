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
from tribu.core.services.audit import describe

PAGE_SIZE = 50

# Filter value → the action prefixes it covers. Invitations belong with members.
FILTERS = {
    "member.": (gettext_lazy("Members and invitations"), ("member.", "invitation.")),
    "security.": (gettext_lazy("Security"), ("security.",)),
    "workspace.": (gettext_lazy("Workspace"), ("workspace.",)),
    "token.": (gettext_lazy("API tokens"), ("token.",)),
    "source.": (gettext_lazy("Listening"), ("source.", "topic.")),
}


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
