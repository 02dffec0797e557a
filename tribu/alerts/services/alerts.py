"""What the team does with alerts: list them, move them through their states, comment, and
tune a topic's rule."""

from datetime import timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.alerts.models import (
    Alert,
    AlertComment,
    AlertState,
)
from tribu.alerts.services.series import HOUR, counts, step_floor
from tribu.core.services.audit import record

COMMENT_MAX_LENGTH = 4000


class AlertError(Exception):
    """A move the alert's state does not allow; the message says why, for the user."""


def for_workspace(workspace, state="", topic_id=None):
    """The workspace's alerts, open ones first, then acknowledged, then closed; newest first
    within each state."""
    alerts = Alert.objects.filter(workspace=workspace).select_related("topic")
    if state in AlertState.values:
        alerts = alerts.filter(state=state)
    if topic_id is not None:
        alerts = alerts.filter(topic_id=topic_id)
    rank = Case(
        When(state=AlertState.OPEN, then=Value(0)),
        When(state=AlertState.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return alerts.annotate(state_rank=rank).order_by("state_rank", "-opened_at", "-id")


def _move(alert, state, user, request=None):
    """Move `alert` to `state` if the state graph allows it (conditional UPDATE, so two
    people clicking at once make one move)."""
    if not alert.can_move_to(state):
        raise AlertError(
            _("This alert is already %(state)s: reload the page to see its current state.")
            % {"state": alert.get_state_display().lower()}
        )
    now = timezone.now()
    fields = {"state": state}
    if state == AlertState.ACKNOWLEDGED:
        fields.update(acknowledged_at=now, acknowledged_by=user)
    else:
        fields.update(closed_at=now, closed_by=user)
    moved = Alert.objects.filter(pk=alert.pk, state=alert.state).update(**fields)
    if not moved:
        raise AlertError(_("Someone else changed this alert meanwhile: reload the page."))
    for name, value in fields.items():
        setattr(alert, name, value)
    action = "alert.acknowledged" if state == AlertState.ACKNOWLEDGED else "alert.closed"
    record(
        alert.workspace, action, actor=user, request=request, target=alert.topic.name,
        alert_id=alert.pk,
    )  # fmt: skip
    return alert


def acknowledge(alert, user, request=None):
    return _move(alert, AlertState.ACKNOWLEDGED, user, request)


def close(alert, user, request=None):
    return _move(alert, AlertState.CLOSED, user, request)


def add_comment(alert, user, text):
    text = (text or "").strip()
    if not text:
        raise AlertError(_("Write something before sending the comment."))
    if len(text) > COMMENT_MAX_LENGTH:
        raise AlertError(
            _("A comment holds at most %(max)s characters; this one has %(length)s.")
            % {"max": COMMENT_MAX_LENGTH, "length": len(text)}
        )
    return AlertComment.objects.create(
        workspace_id=alert.workspace_id, alert=alert, author=user, text=text
    )


def update_rule(rule, *, sensitivity, watch_volume, watch_negative, user, request=None):
    """Change a topic's alert settings; a rule switched back on is checked at the next tick."""
    changed = [
        name
        for name, value in (
            ("sensitivity", sensitivity),
            ("watch_volume", watch_volume),
            ("watch_negative", watch_negative),
        )
        if getattr(rule, name) != value
    ]
    if not changed:
        return rule
    rule.sensitivity = sensitivity
    rule.watch_volume = watch_volume
    rule.watch_negative = watch_negative
    rule.updated_at = timezone.now()
    rule.updated_by = user
    rule.next_check_at = None  # due at the next tick, with the new settings
    rule.save()
    record(
        rule.workspace, "alert_rule.updated", actor=user, request=request,
        target=rule.topic.name, fields=changed,
    )  # fmt: skip
    return rule


def stream_link(alert):
    """The stream page filtered on the alert's topic and hour: the mentions behind it."""
    tz = alert.workspace.tzinfo
    params = {
        "topic": alert.topic_id,
        "since": alert.window_start.astimezone(tz).replace(tzinfo=None).isoformat(),
        # The stream's `until` is inclusive (to the millisecond): stop just before the end.
        "until": (alert.window_end - timedelta(milliseconds=1))
        .astimezone(tz)
        .replace(tzinfo=None)
        .isoformat(),
    }
    if alert.kind == "negative":
        params["sentiment"] = "negative"
    url = reverse("listening:stream", args=[alert.workspace.slug])
    return f"{url}?{urlencode(params)}"


# Hours shown by the chart around an alert: a day before it, up to half a day after.
CHART_HOURS_BEFORE = 24
CHART_HOURS_AFTER = 12


def hourly_series(alert, now=None):
    """[(hour start, mentions, negative mentions)] around the alert, from live data."""
    now = now or timezone.now()
    start = step_floor(alert.window_end, HOUR) - CHART_HOURS_BEFORE * HOUR
    end = min(
        step_floor(alert.window_end, HOUR) + CHART_HOURS_AFTER * HOUR, step_floor(now, HOUR) + HOUR
    )
    end = max(end, step_floor(alert.window_end, HOUR) + HOUR)
    volumes, negatives = counts(alert.topic_id, start, end, step=HOUR)
    return [
        (start + index * HOUR, volume, negative)
        for index, (volume, negative) in enumerate(zip(volumes, negatives, strict=True))
    ]


def crisis_switch_available():
    """Whether the crisis switch ("pause all scheduled publishing for this workspace") can be
    offered on an alert. The issue wants it wired to publishing, which does not exist yet;
    until a publishing app is installed, the switch is not shown at all."""
    return apps.is_installed("tribu.publishing")
