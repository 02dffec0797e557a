"""Bad-buzz alerts: one rule per topic (how sensitive, what to watch, when to check next), the
alerts it opens, and the team's comments on them.

An alert moves through an explicit state graph (TRANSITIONS): open → acknowledged → closed,
or open → closed when the team closes it straight away. Each move records who and when.
At most one open or acknowledged alert exists per topic and kind (a partial unique
constraint): one incident is one alert, even when two workers race.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tribu.core.models import Workspace
from tribu.listening.models import Topic


class Sensitivity(models.TextChoices):
    LOW = "low", _("Low: only the biggest bursts")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High: smaller bursts too")
    OFF = "off", _("Off: no alerts for this topic")


class AlertKind(models.TextChoices):
    VOLUME = "volume", _("Mention volume")
    NEGATIVE = "negative", _("Negative mentions")


class AlertRule(models.Model):
    """How one topic is watched. Created lazily for every topic by the tick (ensure_rules)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="alert_rule")
    sensitivity = models.CharField(
        _("sensitivity"), max_length=8, choices=Sensitivity.choices, default=Sensitivity.NORMAL
    )
    watch_volume = models.BooleanField(_("watch the volume of mentions"), default=True)
    watch_negative = models.BooleanField(_("watch the volume of negative mentions"), default=True)
    # The schedule: the tick claims rules due here (a lease while the check runs).
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # End of the last 5-minute step the detector decided on: later checks decide only on
    # newer steps (plus a grace period for late mentions, see services/detection.py).
    examined_until = models.DateTimeField(null=True, blank=True)
    # End of the step of the last detector firing acted upon, per kind: a replay that fires
    # on the same step again does not open a second alert.
    volume_fired_at = models.DateTimeField(null=True, blank=True)
    negative_fired_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")

    def __str__(self):
        return str(self.topic)

    @property
    def active(self):
        return self.sensitivity != Sensitivity.OFF and (self.watch_volume or self.watch_negative)

    def kinds(self):
        kinds = []
        if self.watch_volume:
            kinds.append(AlertKind.VOLUME)
        if self.watch_negative:
            kinds.append(AlertKind.NEGATIVE)
        return kinds


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


# The state graph: the moves allowed from each state.
TRANSITIONS = {
    AlertState.OPEN: {AlertState.ACKNOWLEDGED, AlertState.CLOSED},
    AlertState.ACKNOWLEDGED: {AlertState.CLOSED},
    AlertState.CLOSED: set(),
}
ACTIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Alert(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=AlertState.choices, default=AlertState.OPEN
    )
    sensitivity = models.CharField(max_length=8, choices=Sensitivity.choices)
    opened_at = models.DateTimeField(_("opened"), default=now)
    # The hour the detector judged: [window_start, window_end).
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    # What the alert said when it opened (see services/explanation.py): figures, sources,
    # terms, authors and sample mention ids. A snapshot, so it reads the same later.
    explanation = models.JSONField(default=dict, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["workspace", "state", "-opened_at"], name="alert_ws_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "kind"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="one_active_alert_per_topic_kind",
            )
        ]

    def __str__(self):
        return f"{self.topic} ({self.get_kind_display()})"

    @property
    def active(self):
        return self.state in ACTIVE_STATES

    def can_move_to(self, state):
        return state in TRANSITIONS[AlertState(self.state)]


class AlertComment(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("comment"), max_length=4000)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]
