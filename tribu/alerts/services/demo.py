"""Alerts for the demo workspace: its generated mentions hold a competitor's bad buzz six
days ago, which a live worker would have caught at the time. The demo replays the last
week through the same detection, so the alert list shows what Tribu would have sent."""

from datetime import timedelta

from django.utils import timezone

from tribu.alerts.models import Alert, AlertRule
from tribu.alerts.services import detection
from tribu.listening.models import Topic

REPLAY = timedelta(days=7)


def ensure_alerts_demo(workspace, now=None):
    """Idempotent: only replays while the workspace has no alert."""
    if Alert.objects.filter(workspace=workspace).exists():
        return []
    now = now or timezone.now()
    opened = []
    for topic in Topic.objects.filter(workspace=workspace):
        rule = detection.rule_for(topic)
        AlertRule.objects.filter(pk=rule.pk).update(examined_until=now - REPLAY)
        opened += detection.check_rule(rule.pk, now=now) or []
    return opened
