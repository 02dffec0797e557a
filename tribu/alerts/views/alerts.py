"""Alert pages: the workspace's list, one alert with its explanation, chart and comments, and
the team's moves (acknowledge, close, comment)."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tribu.alerts.forms import CommentForm
from tribu.alerts.models import Alert, AlertRule, AlertState, Sensitivity
from tribu.alerts.services import alerts as service
from tribu.alerts.services import explanation as explaining
from tribu.alerts.services.series import HOUR
from tribu.core.access import can, workspace_view
from tribu.listening.models import Mention, Topic

# The chart's drawing box (SVG user units); the page scales it to the column width.
CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 600, 160, 10, 20


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@workspace_view("workspace.view")
@require_GET
def alert_list(request):
    state = request.GET.get("state", "")
    state = state if state in AlertState.values else ""
    topics = list(Topic.objects.filter(workspace=request.workspace))
    rules = {rule.topic_id: rule for rule in AlertRule.objects.filter(workspace=request.workspace)}
    for topic in topics:
        rule = rules.get(topic.id)
        sensitivity = rule.sensitivity if rule else Sensitivity.NORMAL
        topic.alert_sensitivity = Sensitivity(sensitivity).label
    topic_id = _int(request.GET.get("topic"))
    if topic_id not in {topic.id for topic in topics}:
        topic_id = None
    alerts = list(service.for_workspace(request.workspace, state=state, topic_id=topic_id)[:200])
    for alert in alerts:
        alert.summary = explaining.summary(alert.explanation)
    return render(
        request,
        "alerts/alert_list.html",
        {
            "alerts": alerts,
            "states": AlertState.choices,
            "state": state,
            "topics": topics,
            "topic_id": topic_id,
            "can_manage": can(request, "listening.manage"),
        },
    )


def _alert(request, alert_id):
    return get_object_or_404(
        Alert.objects.select_related("topic", "acknowledged_by", "closed_by"),
        pk=alert_id,
        workspace=request.workspace,
    )


@workspace_view("workspace.view")
def alert_detail(request, alert_id):
    # The alert is looked up before the method is checked: another workspace's id is a 404.
    alert = _alert(request, alert_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _detail(request, alert, CommentForm())


def _detail(request, alert, comment_form, status=200):
    alert.workspace = request.workspace
    sample_ids = alert.explanation.get("mention_ids") or []
    samples = Mention.objects.filter(workspace=request.workspace, pk__in=sample_ids).order_by(
        "sort_key"
    )
    series = service.hourly_series(alert)
    context = {
        "alert": alert,
        "facts": explaining.facts(alert.explanation),
        "title": explaining.title(alert.explanation),
        "samples": samples,
        "stream_url": service.stream_link(alert),
        "chart": chart(alert, series),
        "comments": alert.comments.select_related("author"),
        "comment_form": comment_form,
        "can_handle": can(request, "alerts.handle"),
        "can_manage": can(request, "listening.manage"),
        "can_acknowledge": alert.can_move_to(AlertState.ACKNOWLEDGED),
        "can_close": alert.can_move_to(AlertState.CLOSED),
        "crisis_switch": service.crisis_switch_available(),
    }
    return render(request, "alerts/alert_detail.html", context, status=status)


def chart(alert, series):
    """Bars for a server-rendered SVG: mentions per hour around the alert, negative mentions
    drawn over them, the alert's hour marked."""
    if not series:
        return None
    tz = alert.workspace.tzinfo
    highest = max(volume for _hour, volume, _negative in series) or 1
    step = CHART_WIDTH / len(series)
    usable = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    baseline = CHART_HEIGHT - CHART_BOTTOM
    bars = []
    for index, (hour, volume, negative) in enumerate(series):
        height = usable * volume / highest
        negative_height = usable * negative / highest
        local = timezone.localtime(hour, tz)
        bars.append(
            {
                "x": round(index * step + 1, 1),
                "width": round(max(step - 2, 1), 1),
                "y": round(baseline - height, 1),
                "height": round(height, 1),
                "negative_y": round(baseline - negative_height, 1),
                "negative_height": round(negative_height, 1),
                # The hours overlapping the alert's window.
                "alert": hour < alert.window_end and hour + HOUR > alert.window_start,
                "label": date_format(local, "SHORT_DATETIME_FORMAT"),
                "volume": volume,
                "negative": negative,
            }
        )
    first, last = series[0][0], series[-1][0]
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": baseline,
        "label_y": CHART_HEIGHT - 5,
        "highest": highest,
        "first": date_format(timezone.localtime(first, tz), "SHORT_DATETIME_FORMAT"),
        "last": date_format(timezone.localtime(last, tz), "SHORT_DATETIME_FORMAT"),
    }


def _back(request, alert):
    return redirect("alerts:detail", request.workspace.slug, alert.pk)


@workspace_view("alerts.handle")
def alert_acknowledge(request, alert_id):
    return _move(request, alert_id, service.acknowledge, "acknowledged")


@workspace_view("alerts.handle")
def alert_close(request, alert_id):
    return _move(request, alert_id, service.close, "closed")


def _move(request, alert_id, transition, state):
    """One step of the alert's state machine, from a POSTed button."""
    alert = _alert(request, alert_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    alert.workspace = request.workspace
    try:
        transition(alert, request.user, request)
    except service.AlertError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _message(state))
    return _back(request, alert)


@workspace_view("alerts.handle")
def alert_comment(request, alert_id):
    alert = _alert(request, alert_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _detail(request, alert, form, status=400)
    try:
        service.add_comment(alert, request.user, form.cleaned_data["text"])
    except service.AlertError as error:
        form.add_error("text", str(error))
        return _detail(request, alert, form, status=400)
    return _back(request, alert)


def _message(move):
    if move == "acknowledged":
        return _("Alert acknowledged: the team knows someone is on it.")
    return _("Alert closed.")
