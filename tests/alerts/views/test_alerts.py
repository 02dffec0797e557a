"""Alert pages: list with filters, detail with explanation, chart, links and comments, and the
team's moves under the role matrix."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tribu.alerts.models import Alert, AlertComment, AlertState
from tribu.core.roles import Role
from tribu.listening.models import Topic

from ..conftest import NOW, add_mentions, spread

HOUR_END = NOW.replace(minute=0, second=0)


def url(workspace, name, *args):
    return reverse(f"alerts:{name}", args=[workspace.slug, *args])


def make_alert(topic, kind="volume", state=AlertState.OPEN, **explanation):
    return Alert.objects.create(
        workspace=topic.workspace, topic=topic, kind=kind, state=state, sensitivity="normal",
        window_start=HOUR_END - timedelta(hours=1), window_end=HOUR_END,
        explanation={"kind": kind, "topic": topic.name, "observed": 87, "expected": 4,
                     "negative_share": 70, "sources": ["Le Parisien"], "terms": ["rappel"],
                     **explanation},
    )  # fmt: skip


@pytest.fixture
def alert(topic):
    return make_alert(topic)


def test_the_list_shows_open_alerts_first_and_filters(owner_client, workspace, topic):
    other = Topic.objects.create(workspace=workspace, name="Concurrent", query="rival")
    closed = make_alert(topic, state=AlertState.CLOSED)
    make_alert(other, kind="negative")
    body = owner_client.get(url(workspace, "list")).content.decode()
    assert body.index("Concurrent ·") < body.index("Maison Lumière ·")
    assert "87 mentions in the last hour against 4 usually; 70 % negative" in body
    body = owner_client.get(url(workspace, "list"), {"state": "closed"}).content.decode()
    assert f"/alerts/{closed.pk}/" in body and "Concurrent ·" not in body
    body = owner_client.get(url(workspace, "list"), {"topic": other.pk}).content.decode()
    assert "Maison Lumière ·" not in body
    # Unknown filter values are ignored, like an empty field.
    assert owner_client.get(url(workspace, "list"), {"state": "x", "topic": "y"}).status_code == 200


def test_the_detail_explains_links_and_charts(owner_client, workspace, topic):
    add_mentions(topic, spread(HOUR_END - timedelta(minutes=50), 12, minutes=30), title="Rappel")
    alert = make_alert(topic)
    response = owner_client.get(url(workspace, "detail", alert.pk))
    body = response.content.decode()
    assert "87 mentions in the last hour against 4 usually" in body
    assert "First sources: Le Parisien" in body and "Top terms: rappel" in body
    assert f"/w/acme/listening/?topic={topic.pk}&amp;since=" in body
    # The chart: inline SVG with a title, a description and a table of the same figures.
    assert '<svg class="alert-chart"' in body and "<desc" in body
    assert response.context["chart"]["highest"] == 12
    assert sum(bar["alert"] for bar in response.context["chart"]["bars"]) == 1
    assert f'href="{url(workspace, "topic_settings", topic.pk)}"' in body


def test_the_crisis_switch_is_not_shown_until_publishing_exists(owner_client, workspace, alert):
    body = owner_client.get(url(workspace, "detail", alert.pk)).content.decode()
    assert "Acknowledge" in body
    assert "publishing" not in body.lower() and "crisis" not in body.lower()


def test_acknowledge_comment_close(owner_client, workspace, alert, user):
    response = owner_client.post(url(workspace, "acknowledge", alert.pk))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == user
    owner_client.post(url(workspace, "comment", alert.pk), {"text": "Réponse publiée."})
    assert AlertComment.objects.get(alert=alert).author == user
    owner_client.post(url(workspace, "close", alert.pk))
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED
    # Closing again tells what happened instead of failing.
    response = owner_client.post(url(workspace, "close", alert.pk), follow=True)
    assert "already closed" in response.content.decode()


def test_an_empty_comment_is_refused_with_a_reason(owner_client, workspace, alert):
    response = owner_client.post(url(workspace, "comment", alert.pk), {"text": " "})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not AlertComment.objects.exists()


def test_a_viewer_sees_but_cannot_handle(client_for, make_member, workspace, alert):
    viewer = client_for(make_member(workspace, role=Role.VIEWER))
    body = viewer.get(url(workspace, "detail", alert.pk)).content.decode()
    assert "87 mentions" in body and "Acknowledge" not in body and "Add the comment" not in body
    assert viewer.post(url(workspace, "acknowledge", alert.pk)).status_code == 403
    assert viewer.post(url(workspace, "comment", alert.pk), {"text": "x"}).status_code == 403
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_another_workspaces_alert_is_a_404(owner_client, workspace, make_workspace):
    elsewhere = make_workspace()
    topic = Topic.objects.create(workspace=elsewhere, name="Autre", query="autre")
    alert = make_alert(topic)
    assert owner_client.get(url(workspace, "detail", alert.pk)).status_code == 404
    assert owner_client.post(url(workspace, "close", alert.pk)).status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN
