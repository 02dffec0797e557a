"""Topics page: list, create and edit with live query validation and a backtest over stored
history, delete. Saving re-matches history in the background (services.topics does it)."""

import csv

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tribu.core.access import can, workspace_view
from tribu.listening.forms import TopicForm
from tribu.listening.models import Topic
from tribu.listening.services import topics as service
from tribu.listening.views.palette import colour_class

BACKTEST_DAYS = 30
QUERY_MAX_LENGTH = 4000

# The bar chart's drawing box (SVG user units); the page scales it to the column width.
CHART_WIDTH, CHART_HEIGHT, CHART_TOP = 600, 120, 10


@workspace_view("workspace.view")
@require_GET
def topic_list(request):
    topics = Topic.objects.filter(workspace=request.workspace).annotate(
        mention_count=Count("mention_links")
    )
    for topic in topics:
        topic.css = colour_class(topic.colour)
    return render(
        request,
        "listening/topics.html",
        {"topics": topics, "can_manage": can(request, "listening.manage")},
    )


def _check(query):
    """What the validation panel shows for a query: an error placed in the query, or how
    the query is understood."""
    query = (query or "")[:QUERY_MAX_LENGTH]
    if not query.strip():
        return {"empty": True}
    try:
        parsed = service.parse_query(query)
    except service.TopicError as error:
        found = error.query_error
        if found is None:
            return {"error": error.message}
        position = max(0, min(found.position, len(query)))
        return {
            "error": found.message,
            "expected": found.expected,
            "position": position + 1,  # people count columns from 1
            "before": query[:position],
            "at": query[position : position + 1],
            "after": query[position + 1 :],
        }
    explain = getattr(parsed, "explain", None)
    return {"ok": True, "explanation": explain() if explain else ""}


def _backtest(request, query):
    query = (query or "")[:QUERY_MAX_LENGTH]
    if not query.strip():
        return None
    try:
        result = service.backtest(request.workspace, query, days=BACKTEST_DAYS)
    except service.TopicError:
        return None
    return {
        "result": result,
        "chart": bar_chart(result.per_day),
        "days": BACKTEST_DAYS,
        "query": query,
    }


def bar_chart(per_day):
    """Bars for a small server-rendered SVG: one per day, scaled to the busiest day."""
    count = len(per_day) or 1
    highest = max((value for _day, value in per_day), default=0) or 1
    step = CHART_WIDTH / count
    usable = CHART_HEIGHT - CHART_TOP
    bars = []
    for index, (day, value) in enumerate(per_day):
        height = round(usable * value / highest, 1)
        bars.append(
            {
                "x": round(index * step + step * 0.1, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(step * 0.8, 1),
                "height": height,
                "day": day,
                "value": value,
                "label": date_format(day, "SHORT_DATE_FORMAT"),
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "highest": max((value for _day, value in per_day), default=0),
        "first": bars[0]["label"] if bars else "",
        "last": bars[-1]["label"] if bars else "",
    }


def _form_page(request, form, topic=None, status=200, backtest=None):
    query = form["query"].value() or ""
    return render(
        request,
        "listening/topic_form.html",
        {
            "form": form,
            "topic": topic,
            "check": _check(query) if query else None,
            "backtest": backtest,
            "colours": [
                (value, label, colour_class(value))
                for value, label in form.fields["colour"].choices
            ],
            "current_colour": (form["colour"].value() or "").lower(),
        },
        status=status,
    )


def _save(request, form, topic):
    """Create or update through the service; returns the topic, or None with errors set."""
    data = form.cleaned_data
    fields = {
        "name": data["name"],
        "query": data["query"],
        "kind": data["kind"],
        "colour": data["colour"],
    }
    try:
        if topic is None:
            return service.create_topic(
                request.workspace, actor=request.user, request=request, **fields
            )
        return service.update_topic(topic, actor=request.user, request=request, **fields)
    except service.TopicError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None


def _edit(request, topic):
    if request.method != "POST":
        form = TopicForm(instance=topic) if topic else TopicForm()
        return _form_page(request, form, topic)
    # A bound ModelForm writes into its instance while validating: give it a copy, so a
    # refused change never reaches the object the service compares against.
    instance = Topic.objects.get(pk=topic.pk) if topic else Topic(workspace=request.workspace)
    form = TopicForm(request.POST, instance=instance)
    if request.POST.get("action") == "backtest":
        return _form_page(request, form, topic, backtest=_backtest(request, form["query"].value()))
    if not form.is_valid():
        return _form_page(request, form, topic, status=400)
    saved = _save(request, form, topic)
    if saved is None:
        return _form_page(request, form, topic, status=400)
    messages.success(
        request,
        _("Topic “%(name)s” saved. Stored mentions are being matched against it again.")
        % {"name": saved.name},
    )
    return redirect("listening:topics", request.workspace.slug)


@workspace_view("listening.manage")
def topic_create(request):
    return _edit(request, None)


def _topic(request, topic_id):
    return get_object_or_404(Topic, pk=topic_id, workspace=request.workspace)


@workspace_view("listening.manage")
def topic_edit(request, topic_id):
    return _edit(request, _topic(request, topic_id))


@workspace_view("listening.manage")
def topic_delete(request, topic_id):
    topic = _topic(request, topic_id)
    if request.method == "POST":
        name = topic.name
        service.delete_topic(topic, actor=request.user, request=request)
        messages.success(request, _("Topic “%(name)s” is deleted.") % {"name": name})
        return redirect("listening:topics", request.workspace.slug)
    return render(
        request,
        "listening/topic_delete.html",
        {"topic": topic, "mentions": topic.mention_links.count()},
    )


@workspace_view("listening.manage")
def topic_check(request):
    """The live validation panel (HTMX): the query is read from GET or POST."""
    query = request.POST.get("query") if request.method == "POST" else request.GET.get("query")
    return render(request, "listening/_query_check.html", {"check": _check(query)})


@workspace_view("listening.manage")
def topic_backtest(request):
    """The backtest panel (HTMX), or its per-day counts as CSV with ?format=csv."""
    data = request.POST if request.method == "POST" else request.GET
    query = data.get("query", "")
    backtest = _backtest(request, query)
    if data.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="backtest.csv"'
        writer = csv.writer(response)
        writer.writerow([_("day"), _("mentions")])
        for day, value in backtest["result"].per_day if backtest else []:
            writer.writerow([day.isoformat(), value])
        return response
    return render(
        request,
        "listening/_backtest.html",
        {"backtest": backtest, "check": _check(query), "query": query},
    )
