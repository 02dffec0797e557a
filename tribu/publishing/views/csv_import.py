"""Bulk CSV import of posts (services/csv_import.py): upload, then either the row-by-row
report of what to fix (nothing imported) or a preview to confirm.

Between the two steps the uploaded file stays on the server, in the session (compressed;
at most 2 MB before compression), with a random token that the confirm form sends back:
the client never sends the rows themselves, and the confirm step reads and checks the file
again, since channels, dates and posts may have changed meanwhile.

Members who may schedule get their posts scheduled (or sent to review when the workspace
requires approval); contributors, who only write drafts, import drafts.
"""

import base64
import csv
import io
import secrets
import zlib
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tribu.channels.models import Channel, ChannelState, Network
from tribu.core.access import can, workspace_view
from tribu.publishing import text as network_text
from tribu.publishing.forms_links import CsvImportForm
from tribu.publishing.models import PostStatus
from tribu.publishing.services import csv_import as service
from tribu.publishing.services.deliveries import settings_for

SESSION_KEY = "publishing_csv_import"
PREVIEW_ROWS = 50


def _mode(request):
    """What confirming does: "schedule", "review" or "draft"."""
    if not can(request, "content.schedule"):
        return "draft"
    return "review" if settings_for(request.workspace).require_approval else "schedule"


def _render(request, *, form=None, report=None, token="", status=200):
    context = {
        "form": form or CsvImportForm(),
        "report": report,
        "token": token,
        "mode": _mode(request),
        "columns": service.COLUMNS,
        "max_rows": number_format(service.MAX_ROWS, force_grouping=True),
    }
    if report is not None and report.valid:
        context["summary"] = report.summary()
        context["preview_rows"] = report.rows[:PREVIEW_ROWS]
    return render(request, "publishing/import.html", context, status=status)


def _keep(request, data, name):
    token = secrets.token_urlsafe(16)
    request.session[SESSION_KEY] = {
        "workspace": request.workspace.pk,
        "token": token,
        "name": name[:200],
        "data": base64.b64encode(zlib.compress(data, 6)).decode("ascii"),
    }
    return token


def _kept(request, token):
    """The file kept for this workspace under `token`, or None."""
    pending = request.session.get(SESSION_KEY) or {}
    if (
        not token
        or pending.get("workspace") != request.workspace.pk
        or not secrets.compare_digest(str(pending.get("token", "")), token)
    ):
        return None
    try:
        return zlib.decompress(base64.b64decode(pending["data"]))
    except (KeyError, ValueError, zlib.error):
        return None


@workspace_view("content.draft")
@require_http_methods(["GET", "POST"])
def csv_import(request):
    if request.method == "GET":
        return _render(request)
    request.session.pop(SESSION_KEY, None)  # a new upload replaces any file waiting
    form = CsvImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form=form, status=400)
    upload = form.cleaned_data["file"]
    data = upload.read(service.MAX_BYTES + 1)
    report = service.parse(data, request.workspace)
    if not report.valid:
        return _render(request, form=form, report=report, status=400)
    token = _keep(request, data, upload.name or "")
    return _render(request, report=report, token=token)


@workspace_view("content.draft")
@require_POST
def csv_import_confirm(request):
    data = _kept(request, request.POST.get("token", ""))
    if data is None:
        messages.error(
            request,
            _(
                "The file to import is no longer waiting (it was imported, replaced by another "
                "upload, or your session ended). Upload it again."
            ),
        )
        return redirect("publishing:import", request.workspace.slug)
    report = service.parse(data, request.workspace)
    if not report.valid:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, _("The file is no longer valid: fix it and upload it again."))
        return _render(request, report=report, status=400)
    mode = _mode(request)
    try:
        posts = service.import_rows(
            request.workspace, request.user, request.membership.role, report.rows,
            schedule=mode != "draft", request=request,
        )  # fmt: skip
    except service.CsvImportError as error:
        request.session.pop(SESSION_KEY, None)
        report.rows, report.errors = [], error.errors
        messages.error(request, _("Nothing was imported: fix the file and upload it again."))
        return _render(request, report=report, status=400)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, _result_message(posts))
    return redirect("publishing:import", request.workspace.slug)


def _result_message(posts):
    count = len(posts)
    statuses = [post.status for post in posts]
    scheduled = statuses.count(PostStatus.SCHEDULED)
    review = statuses.count(PostStatus.IN_REVIEW)
    message = ngettext("%(count)s post imported.", "%(count)s posts imported.", count) % {
        "count": count
    }
    if scheduled:
        message += " " + ngettext(
            "%(count)s is scheduled.", "%(count)s are scheduled.", scheduled
        ) % {"count": scheduled}
    if review:
        message += " " + ngettext(
            "%(count)s was sent for review.", "%(count)s were sent for review.", review
        ) % {"count": review}
    if count - scheduled - review:
        message += " " + ngettext(
            "%(count)s is a draft, for an editor to schedule.",
            "%(count)s are drafts, for an editor to schedule.",
            count - scheduled - review,
        ) % {"count": count - scheduled - review}
    return message


# The example file -----------------------------------------------------------------------------


def example_rows(workspace, now=None):
    """Two posts that import as they are into `workspace`: next Monday at 9:00 and next
    Tuesday at 12:30 (local), on up to two of its channels."""
    tz = workspace.tzinfo
    today = timezone.localtime(now or timezone.now(), tz).date()
    monday = today + timedelta(days=7 - today.weekday())
    channels = [
        channel
        for channel in Channel.objects.filter(workspace=workspace)
        .exclude(state=ChannelState.DISABLED)
        .exclude(network=Network.INSTAGRAM)  # needs an image, which a CSV cannot carry
        .order_by("name", "id")[:2]
    ]
    names = " | ".join(channel.name for channel in channels) or _("Name of a channel")
    threads = bool(channels) and all(
        channel.network in network_text.THREAD_NETWORKS for channel in channels
    )

    def when(day, at):
        return datetime.combine(day, at).strftime("%Y-%m-%d %H:%M")

    return [
        {
            "text": _("New this week: our spring collection is in the shop. #spring"),
            "publish_at": when(monday, time(9)),
            "channels": names,
            "title": _("Spring collection"),
            "first_comment": "",
            "thread": "",
        },
        {
            "text": _("Tip of the week: how to care for linen (a short thread)."),
            "publish_at": when(monday + timedelta(days=1), time(12, 30)),
            "channels": names,
            "title": _("Tip of the week"),
            "first_comment": "",
            "thread": (
                _("Wash it cold, inside out.") + " || " + _("Dry it flat, away from the sun.")
                if threads
                else ""
            ),
        },
    ]


@workspace_view("content.draft")
@require_GET
def csv_import_example(request):
    workspace = request.workspace
    # French Excel opens semicolon-separated files; a byte-order mark makes it read UTF-8.
    delimiter = ";" if workspace.language == "fr" else ","
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=service.COLUMNS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(example_rows(workspace))
    response = HttpResponse(
        buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{workspace.slug}-posts.csv"'
    return response


W = "w/<slug:ws>/publishing/import/"

urlpatterns = [
    path(W, csv_import, name="import"),
    path(f"{W}confirm/", csv_import_confirm, name="import_confirm"),
    path(f"{W}example.csv", csv_import_example, name="import_example"),
]
