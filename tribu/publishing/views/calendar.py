"""The publishing calendar: month, week and list views in the workspace's time zone (weeks
start on Monday), filtered by channel and status; moving a post to another day or hour; the
next free queue slot of the chosen channels; and the calendar's ICS feed (a secret URL).

Moving is one POST endpoint, used three ways: the Move form each post carries (plain HTML,
keyboard-accessible), the same form sent by calendar.js without reloading, and drag and drop
(calendar.js again, which fills the form's date and time from the drop target). The new time
is a LOCAL date and time read on the workspace's wall clock, so a 9:00 post moved across a
daylight saving change stays at 9:00. With JavaScript (an htmx-style request) the answer is
the calendar's body, re-rendered; without it, a redirect back to the calendar.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe

from tribu.channels.models import Channel, ChannelState
from tribu.core.access import can, workspace_view
from tribu.publishing.forms_calendar import MoveForm, local_moment
from tribu.publishing.models import ATTENTION_STATES, Post, PostStatus, QueueSlot
from tribu.publishing.services import ics, slots
from tribu.publishing.services import posts as post_service
from tribu.publishing.services.deliveries import STARTED_STATES
from tribu.publishing.services.posts import PostError

W = "w/<slug:ws>/publishing/"
VIEWS = ("month", "week", "list")
LIST_PAGE_SIZE = 50
# The time a "new post on this day" link proposes.
NEW_POST_TIME = time(9, 0)
HOURS = range(24)
# Dates the calendar opens on; others (a mistyped year) fall back to today.
FIRST_YEAR, LAST_YEAR = 1900, 9000
# Calendar applications poll the feed; a short private cache spares repeated requests.
ICS_MAX_AGE = 300


# The calendar's query: view, day, filters ----------------------------------------------


@dataclass
class CalendarQuery:
    view: str
    day: date
    channel_ids: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    page: int = 1

    def params(self, **changes):
        values = {
            "view": self.view,
            "date": self.day.isoformat(),
            "channel": self.channel_ids,
            "status": self.statuses,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value not in (None, [], "")}

    def encode(self, **changes):
        return urlencode(self.params(**changes), doseq=True)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_query(data, channels, today):
    """The calendar's parameters from a QueryDict; anything unknown falls back quietly."""
    view = data.get("view") if data.get("view") in VIEWS else "month"
    try:
        day = date.fromisoformat(data.get("date") or "")
    except ValueError:
        day = today
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        day = today
    known = {channel.pk for channel in channels}
    channel_ids = sorted({pk for pk in map(_int, data.getlist("channel")) if pk in known})
    statuses = [value for value in PostStatus.values if value in data.getlist("status")]
    page = max(_int(data.get("page")) or 1, 1)
    return CalendarQuery(view, day, channel_ids, statuses, page)


def _month_start(day):
    return day.replace(day=1)


def _next_month(day):
    return (_month_start(day) + timedelta(days=32)).replace(day=1)


def period(query):
    """The local days [first, last) the view shows, and the days prev/next/today lead to."""
    if query.view == "week":
        first = query.day - timedelta(days=query.day.weekday())
        week = timedelta(days=7)
        return first, first + week, first - week, first + week
    month = _month_start(query.day)
    following = _next_month(month)
    previous = _month_start(month - timedelta(days=1))
    if query.view == "list":
        return month, following, previous, following
    # The month grid runs from the Monday of its first week to the Sunday of its last.
    first = month - timedelta(days=month.weekday())
    last = following + timedelta(days=(7 - following.weekday()) % 7)
    return first, last, previous, following


def _title(query, first):
    if query.view == "week":
        return _("Week of %(day)s") % {"day": date_format(first, "j F Y")}
    return date_format(_month_start(query.day), "YEAR_MONTH_FORMAT").capitalize()


# Posts ---------------------------------------------------------------------------------


def _movable(request, post, started):
    """Whether this user may move this post: not published nor sent, and the role allows it
    (scheduling rights for a scheduled post, drafting rights otherwise)."""
    if post.status == PostStatus.PUBLISHED or started:
        return False
    permission = "content.schedule" if post.status == PostStatus.SCHEDULED else "content.draft"
    return can(request, permission)


def _decorate(request, post, tz):
    post.local = timezone.localtime(post.publish_at, tz)
    post.channel_list = [variant.channel for variant in post.variants.all()]
    deliveries = list(post.deliveries.all())
    names = {channel.pk: channel.name for channel in post.channel_list}
    post.attention = [
        f"{names.get(d.channel_id, '?')}: {d.get_state_display()}"
        for d in deliveries
        if d.state in ATTENTION_STATES
    ]
    post.label = ics.short_title(post)
    post.movable = _movable(request, post, any(d.state in STARTED_STATES for d in deliveries))
    return post


def calendar_posts(request, query, first, last):
    workspace = request.workspace
    tz = workspace.tzinfo
    start = local_moment(first, time.min, tz)
    end = local_moment(last, time.min, tz)
    rows = post_service.in_period(workspace, start, end).select_related("ritual")
    if query.statuses:
        rows = rows.filter(status__in=query.statuses)
    if query.channel_ids:
        rows = rows.filter(variants__channel_id__in=query.channel_ids).distinct()
    return [_decorate(request, post, tz) for post in rows]


def _days(first, last):
    day = first
    while day < last:
        yield day
        day += timedelta(days=1)


def month_grid(posts, first, last, query, today):
    by_day = {}
    for post in posts:
        by_day.setdefault(post.local.date(), []).append(post)
    month = _month_start(query.day).month
    days = [
        {
            "date": day,
            "in_month": day.month == month,
            "today": day == today,
            "posts": by_day.get(day, []),
        }
        for day in _days(first, last)
    ]
    return [days[index : index + 7] for index in range(0, len(days), 7)]


def week_grid(posts, first, today):
    by_slot = {}
    for post in posts:
        by_slot.setdefault((post.local.date(), post.local.hour), []).append(post)
    days = [{"date": day, "today": day == today} for day in _days(first, first + timedelta(7))]
    rows = [
        {
            "hour": hour,
            "label": time(hour).strftime("%H:%M"),
            "cells": [
                {"date": day["date"], "hour": hour, "posts": by_slot.get((day["date"], hour), [])}
                for day in days
            ],
        }
        for hour in HOURS
    ]
    return days, rows


# Next free slots -----------------------------------------------------------------------


def compose_url(workspace, moment=None, channel_ids=()):
    url = reverse("publishing:compose", args=[workspace.slug])
    params = {"channel": list(channel_ids)}
    if moment is not None:
        local = timezone.localtime(moment, workspace.tzinfo) if moment.tzinfo else moment
        params["at"] = local.strftime("%Y-%m-%dT%H:%M")
    query = urlencode({k: v for k, v in params.items() if v}, doseq=True)
    return f"{url}?{query}" if query else url


def free_slots(workspace, channels, query, now):
    """The next free queue slot of each chosen channel (every usable one when none is
    chosen) that has slots, and, for several chosen channels, the first slot free on all."""
    chosen = [c for c in channels if c.pk in query.channel_ids] or [
        c for c in channels if c.state != ChannelState.DISABLED
    ]
    with_slots = set(
        QueueSlot.objects.filter(channel__in=chosen).values_list("channel_id", flat=True)
    )
    rows = []
    for channel in chosen:
        if channel.pk not in with_slots:
            continue
        moment = slots.next_free_slot(channel, after=now, tz=workspace.tzinfo)
        rows.append(
            {
                "channel": channel,
                "at": moment,
                "compose_url": compose_url(workspace, moment, [channel.pk]) if moment else None,
            }
        )
    together = None
    if len(query.channel_ids) > 1 and with_slots:
        moment = slots.next_free_slots(chosen, now, tz=workspace.tzinfo)
        together = {
            "at": moment,
            "compose_url": compose_url(workspace, moment, query.channel_ids) if moment else None,
        }
    return {"rows": rows, "together": together}


# Pages ---------------------------------------------------------------------------------


def calendar_context(request, query):
    workspace = request.workspace
    tz = workspace.tzinfo
    now = timezone.now()
    today = timezone.localtime(now, tz).date()
    channels = list(Channel.objects.filter(workspace=workspace))
    first, last, previous, following = period(query)
    posts = calendar_posts(request, query, first, last)
    base = reverse("publishing:calendar", args=[workspace.slug])
    context = {
        "query": query,
        "return_query": query.encode(),
        "channels": channels,
        "statuses": PostStatus.choices,
        "views": [
            (name, label, f"{base}?{query.encode(view=name, page=None)}")
            for name, label in (("month", _("Month")), ("week", _("Week")), ("list", _("List")))
        ],
        "title": _title(query, first),
        "prev_url": f"{base}?{query.encode(date=previous.isoformat(), page=None)}",
        "next_url": f"{base}?{query.encode(date=following.isoformat(), page=None)}",
        "today_url": f"{base}?{query.encode(date=today.isoformat(), page=None)}",
        "clear_url": f"{base}?{urlencode({'view': query.view, 'date': query.day.isoformat()})}",
        "filtered": bool(query.channel_ids or query.statuses),
        "today": today,
        "can_draft": can(request, "content.draft"),
        "slots": free_slots(workspace, channels, query, now),
        "new_post_url": compose_url(workspace, channel_ids=query.channel_ids),
        "count": len(posts),
    }
    if query.view == "month":
        context["weeks"] = month_grid(posts, first, last, query, today)
        context["weekdays"] = [date_format(day, "l") for day in _days(first, first + timedelta(7))]
        days = [day for week in context["weeks"] for day in week]
    elif query.view == "week":
        days, context["rows"] = week_grid(posts, first, today)
        context["days"] = days
    else:
        days = []
        page = Paginator(posts, LIST_PAGE_SIZE).get_page(query.page)
        context["page"] = page
        if page.has_previous():
            context["page_prev_url"] = f"{base}?{query.encode(page=page.previous_page_number())}"
        if page.has_next():
            context["page_next_url"] = f"{base}?{query.encode(page=page.next_page_number())}"
    for day in days:
        moment = datetime.combine(day["date"], NEW_POST_TIME)
        day["new_url"] = compose_url(workspace, moment, query.channel_ids)
    return context


@workspace_view("workspace.view")
@require_GET
def calendar(request):
    channels = Channel.objects.filter(workspace=request.workspace)
    today = timezone.localdate(timezone=request.workspace.tzinfo)
    query = parse_query(request.GET, channels, today)
    return render(request, "publishing/calendar.html", calendar_context(request, query))


# Moving a post -------------------------------------------------------------------------


def _return_query(request):
    """The calendar the move came from (view, date, filters), from the form's hidden field."""
    data = QueryDict(request.POST.get("return_query", ""))
    channels = Channel.objects.filter(workspace=request.workspace)
    today = timezone.localdate(timezone=request.workspace.tzinfo)
    return parse_query(data, channels, today)


def _check_move(request, post, moment):
    if post.status == PostStatus.SCHEDULED and not can(request, "content.schedule"):
        raise PostError(
            _(
                "Only owners, admins and editors can move a scheduled post. Ask one of them "
                "to move it."
            ),
            code="forbidden",
        )
    if moment <= timezone.now():
        raise PostError(
            _("That date and time have already passed: choose a later date or time."),
            field="date",
        )


def _form_error(form):
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


@workspace_view("content.draft")
def post_move(request, post_id):
    # The post is looked up before the method is checked: another workspace's id is a 404.
    post = get_object_or_404(Post, pk=post_id, workspace=request.workspace)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    query = _return_query(request)
    form = MoveForm(request.POST)
    error, status, notice = None, 200, None
    if not form.is_valid():
        error, status = _form_error(form), 400
    else:
        moment = form.moment(request.workspace.tzinfo)
        try:
            _check_move(request, post, moment)
            post = post_service.update_post(
                post, request.user, request.membership.role, publish_at=moment, request=request
            )
        except PostError as refusal:
            error, status = refusal.message, 403 if refusal.code == "forbidden" else 400
        else:
            local = timezone.localtime(moment, request.workspace.tzinfo)
            notice = _("“%(post)s” moved to %(when)s.") % {
                "post": ics.short_title(post),
                "when": date_format(local, "l j F Y, H:i"),
            }
            if post.status == PostStatus.IN_REVIEW:
                notice += " " + _("It went back to review.")
    if request.htmx:
        context = calendar_context(request, query)
        context.update({"move_error": error, "move_notice": notice, "moved_id": post.pk})
        return render(request, "publishing/_calendar_body.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    calendar_url = reverse("publishing:calendar", args=[request.workspace.slug])
    return redirect(f"{calendar_url}?{query.encode()}")


# The ICS feed --------------------------------------------------------------------------


@require_safe
def ics_feed(request, token):
    """The workspace's calendar for calendar applications: no sign-in, the secret token in
    the address is the key (404 for any other)."""
    workspace = ics.workspace_for_token(token)
    if workspace is None:
        raise Http404
    response = HttpResponse(
        ics.calendar_feed(workspace, now=timezone.now()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'inline; filename="{workspace.slug}.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    patch_cache_control(response, private=True, max_age=ICS_MAX_AGE)
    return response


urlpatterns = [
    path(W, calendar, name="calendar"),
    path(f"{W}posts/<int:post_id>/move/", post_move, name="post_move"),
    path("ics/<str:token>.ics", ics_feed, name="ics"),
]
