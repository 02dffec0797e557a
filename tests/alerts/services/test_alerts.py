"""The team's side of alerts: states, comments, rule settings, links, the crisis switch."""

from datetime import timedelta

import pytest
from django.apps import apps

from tribu.alerts.models import Alert, AlertComment, AlertState
from tribu.alerts.services import alerts as service
from tribu.alerts.services.detection import rule_for
from tribu.core.models import AuditEvent

from ..conftest import NOW

HOUR_END = NOW.replace(minute=0, second=0)


@pytest.fixture
def alert(topic):
    return make_alert(topic)


def make_alert(topic, kind="volume", state=AlertState.OPEN, opened_at=NOW):
    return Alert.objects.create(
        workspace=topic.workspace, topic=topic, kind=kind, state=state, sensitivity="normal",
        opened_at=opened_at, window_start=HOUR_END - timedelta(hours=1), window_end=HOUR_END,
        explanation={"kind": kind, "topic": topic.name, "observed": 42, "expected": 3.5},
    )  # fmt: skip


def test_open_acknowledged_closed_with_who_and_when(alert, user):
    service.acknowledge(alert, user)
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by) == (AlertState.ACKNOWLEDGED, user)
    assert alert.acknowledged_at is not None
    service.close(alert, user)
    alert.refresh_from_db()
    assert (alert.state, alert.closed_by) == (AlertState.CLOSED, user)
    actions = list(
        AuditEvent.objects.filter(action__startswith="alert.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["alert.acknowledged", "alert.closed"]


def test_moves_the_graph_does_not_allow_are_refused(alert, user):
    service.close(alert, user)
    with pytest.raises(service.AlertError, match="already closed"):
        service.acknowledge(alert, user)
    with pytest.raises(service.AlertError):
        service.close(alert, user)


def test_a_stale_copy_cannot_move_twice(alert, user):
    stale = Alert.objects.get(pk=alert.pk)
    service.acknowledge(alert, user)
    with pytest.raises(service.AlertError, match="Someone else"):
        service.acknowledge(stale, user)


def test_comments(alert, user):
    service.add_comment(alert, user, "  On s'en occupe.  ")
    assert AlertComment.objects.get().text == "On s'en occupe."
    with pytest.raises(service.AlertError, match="Write something"):
        service.add_comment(alert, user, "   ")


def test_the_list_puts_open_alerts_first(topic):
    closed = make_alert(topic, state=AlertState.CLOSED, opened_at=NOW)
    acknowledged = make_alert(
        topic, state=AlertState.ACKNOWLEDGED, opened_at=NOW - timedelta(days=2)
    )
    opened = make_alert(topic, kind="negative", opened_at=NOW - timedelta(days=3))
    assert list(service.for_workspace(topic.workspace)) == [opened, acknowledged, closed]
    assert list(service.for_workspace(topic.workspace, state="closed")) == [closed]


def test_one_active_alert_per_topic_and_kind_even_in_a_race(topic):
    from django.db import IntegrityError, transaction

    make_alert(topic)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_alert(topic)
    make_alert(topic, state=AlertState.CLOSED)  # closed ones do not count


def test_updating_a_rule_reschedules_it_and_is_audited(topic, user):
    rule = rule_for(topic)
    rule.next_check_at = NOW
    rule.save()
    service.update_rule(
        rule, sensitivity="high", watch_volume=True, watch_negative=False, user=user
    )
    rule.refresh_from_db()
    assert (rule.sensitivity, rule.watch_negative, rule.next_check_at) == ("high", False, None)
    event = AuditEvent.objects.get(action="alert_rule.updated")
    assert event.data["fields"] == ["sensitivity", "watch_negative"]


def test_the_stream_link_covers_the_alert_hour_in_the_workspace_zone(alert):
    alert.workspace.timezone = "Europe/Paris"
    link = service.stream_link(alert)
    # 11:00-12:00 UTC is 12:00-13:00 in Paris in March; `until` is inclusive.
    assert f"topic={alert.topic_id}" in link
    assert "since=2026-03-10T12%3A00%3A00" in link and "until=2026-03-10T12%3A59%3A59.999" in link


def test_the_crisis_switch_is_offered_once_publishing_is_installed():
    assert apps.is_installed("tribu.publishing")
    assert service.crisis_switch_available() is True
