"""Rituals: the workspace's recurring posts ("every Tuesday at 9:00, #MardiConseil").

Every member sees the list and each ritual's coming occurrences; changing a ritual (create,
edit, skip one occurrence) needs scheduling rights, each change on its own URL. A ritual is
set with a frequency preset that builds its RFC 5545 rule, or with a rule written by hand
(validated by services/rituals.py); saving it creates the draft posts of the next eight
weeks, which the calendar shows under the ritual's name.
"""

from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from tribu.core.access import can, workspace_view
from tribu.core.services.audit import record
from tribu.publishing.forms_calendar import WEEKDAY_CODES, RitualForm, describe
from tribu.publishing.models import Post, Ritual
from tribu.publishing.services import ics, rituals

W = "w/<slug:ws>/publishing/rituals/"
# How far ahead the ritual page lists occurrences (what saving materializes).
UPCOMING = rituals.MATERIALIZE_HORIZON


def _ritual(request, ritual_id):
    return get_object_or_404(
        Ritual.objects.prefetch_related("channels"), pk=ritual_id, workspace=request.workspace
    )


def upcoming(ritual, now):
    """The ritual's occurrences of the coming weeks, each with its post (or None)."""
    tz = ritual.workspace.tzinfo
    try:
        moments = rituals.occurrences(ritual, now, now + UPCOMING, tz)
    except ValidationError:  # a stored rule that no longer reads has no occurrence
        return []
    posts = {
        post.occurrence_at: post
        for post in Post.objects.filter(ritual=ritual, occurrence_at__in=moments)
    }
    rows = []
    for moment in moments:
        post = posts.get(moment)
        if post is not None:
            post.label = ics.short_title(post)
        rows.append({"at": moment, "local": timezone.localtime(moment, tz), "post": post})
    return rows


@workspace_view("workspace.view")
@require_GET
def ritual_list(request):
    now = timezone.now()
    rows = list(Ritual.objects.filter(workspace=request.workspace).prefetch_related("channels"))
    for ritual in rows:
        ritual.workspace = request.workspace
        ritual.description = describe(ritual.rule)
        coming = upcoming(ritual, now) if ritual.active else []
        ritual.next_at = coming[0]["at"] if coming else None
    return render(
        request,
        "publishing/rituals.html",
        {"rituals": rows, "can_schedule": can(request, "content.schedule")},
    )


def _save(request, form, ritual=None):
    data = form.cleaned_data
    now = timezone.now()
    before = None
    if ritual is not None:
        before = Ritual(pk=ritual.pk, name=ritual.name, template=ritual.template)
    with transaction.atomic():
        if ritual is None:
            ritual = Ritual(workspace=request.workspace, created_by=request.user)
        ritual.name = data["name"]
        ritual.rule = data["rule"]
        ritual.starts_on = data["starts_on"]
        ritual.at_time = data["at_time"]
        ritual.template = data["template"]
        ritual.active = data["active"]
        ritual.save()
        ritual.channels.set(data["channels"])
        if before is not None:
            rituals.resync(ritual, before, now)
        created = rituals.materialize(ritual, now + rituals.MATERIALIZE_HORIZON, now=now)
        action = "ritual.updated" if before is not None else "ritual.created"
        record(request.workspace, action, actor=request.user, request=request,
               target=ritual.name, ritual_id=ritual.pk, rule=ritual.rule)  # fmt: skip
    if created:
        messages.success(
            request,
            ngettext(
                "Ritual saved. %(count)s draft was added to the calendar.",
                "Ritual saved. %(count)s drafts were added to the calendar.",
                len(created),
            )
            % {"count": len(created)},
        )
    else:
        messages.success(request, _("Ritual saved."))
    return redirect("publishing:ritual", request.workspace.slug, ritual.pk)


@workspace_view("content.schedule")
def ritual_new(request):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        form = RitualForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            return _save(request, form)
        status = 400
    else:
        today = timezone.localdate(timezone=request.workspace.tzinfo)
        initial = {
            "starts_on": today,
            "at_time": "09:00",
            "active": True,
            "weekdays": [WEEKDAY_CODES[today.weekday()]],
        }
        form = RitualForm(workspace=request.workspace, initial=initial)
        status = 200
    return render(request, "publishing/ritual_new.html", {"form": form}, status=status)


def _page(request, ritual, form=None, status=200):
    ritual.workspace = request.workspace
    can_schedule = can(request, "content.schedule")
    if form is None and can_schedule:
        form = RitualForm(workspace=request.workspace, ritual=ritual)
    context = {
        "ritual": ritual,
        "description": describe(ritual.rule),
        "occurrences": upcoming(ritual, timezone.now()) if ritual.active else [],
        "form": form,
        "can_schedule": can_schedule,
    }
    return render(request, "publishing/ritual.html", context, status=status)


@workspace_view("workspace.view")
def ritual_page(request, ritual_id):
    # The ritual is looked up before the method is checked: another workspace's id is a 404.
    ritual = _ritual(request, ritual_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _page(request, ritual)


@workspace_view("content.schedule")
def ritual_edit(request, ritual_id):
    ritual = _ritual(request, ritual_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RitualForm(request.POST, workspace=request.workspace, ritual=ritual)
    if not form.is_valid():
        return _page(request, ritual, form, status=400)
    return _save(request, form, ritual)


def _occurrence(ritual, value):
    """The occurrence named by `value` (an ISO instant), if the ritual has it."""
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        found = rituals.occurrences(ritual, moment, moment + timedelta(seconds=1))
    except ValidationError:
        return None
    return found[0] if found else None


@workspace_view("content.schedule")
def ritual_skip(request, ritual_id):
    ritual = _ritual(request, ritual_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    moment = _occurrence(ritual, request.POST.get("occurrence"))
    if moment is None:
        messages.error(
            request,
            _(
                "That occurrence is not part of this ritual (any more): reload the page and try "
                "again."
            ),
        )
        return redirect("publishing:ritual", request.workspace.slug, ritual.pk)
    kept = rituals.skip(ritual, moment)
    when = date_format(timezone.localtime(moment, request.workspace.tzinfo), "l j F Y, H:i")
    record(request.workspace, "ritual.skipped", actor=request.user, request=request,
           target=ritual.name, ritual_id=ritual.pk, occurrence=moment.isoformat())  # fmt: skip
    if kept is not None:
        messages.warning(
            request,
            _(
                "The occurrence of %(when)s is skipped, but its post was already edited, so "
                "it was kept: open it to delete or reschedule it."
            )
            % {"when": when},
        )
    else:
        messages.success(request, _("The occurrence of %(when)s is skipped.") % {"when": when})
    return redirect("publishing:ritual", request.workspace.slug, ritual.pk)


urlpatterns = [
    path(W, ritual_list, name="rituals"),
    path(f"{W}new/", ritual_new, name="ritual_new"),
    path(f"{W}<int:ritual_id>/", ritual_page, name="ritual"),
    path(f"{W}<int:ritual_id>/edit/", ritual_edit, name="ritual_edit"),
    path(f"{W}<int:ritual_id>/skip/", ritual_skip, name="ritual_skip"),
]
