"""Alert pages: list with filters, detail with explanation, chart, links and comments, and the
team's moves under the role matrix."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tribu.alerts.models import Alert, AlertComment, AlertState
from tribu.channels.models import Channel
from tribu.core.roles import Role
from tribu.listening.models import Topic
from tribu.publishing.models import (
    Delivery,
    DeliveryState,
    HoldReason,
    Post,
    PostStatus,
    PublishingSettings,
)

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


def crisis_form(body):
    """The crisis switch's form fields as rendered, or None when the page has no switch."""
    form = re.search(r'<form[^>]*class="crisis-switch".*?</form>', body, re.S)
    if form is None:
        return None
    fields = dict(re.findall(r'name="(reason|next)" value="([^"]*)"', form.group(0)))
    return {name: html.unescape(value) for name, value in fields.items()}


def test_the_crisis_switch_is_shown_to_those_who_may_pause(
    client_for, make_member, owner_client, workspace, alert
):
    body = owner_client.get(url(workspace, "detail", alert.pk)).content.decode()
    assert f'action="{reverse("publishing:pause", args=[workspace.slug])}"' in body
    assert crisis_form(body) == {
        "reason": "Bad-buzz alert: Maison Lumière",
        "next": url(workspace, "detail", alert.pk),
    }
    # Approvers and contributors handle alerts but may not pause publishing; viewers do neither.
    for role in (Role.APPROVER, Role.CONTRIBUTOR, Role.VIEWER):
        client = client_for(make_member(workspace, role))
        body = client.get(url(workspace, "detail", alert.pk)).content.decode()
        assert crisis_form(body) is None, role


def test_pausing_from_the_alert_holds_deliveries_and_comes_back(owner_client, workspace, alert):
    channel = Channel.objects.create(
        workspace=workspace, network="mastodon", name="Lumière", account_id="1",
        base_url="https://mastodon.example",
    )  # fmt: skip
    due = timezone.now() + timedelta(hours=1)
    post = Post.objects.create(
        workspace=workspace, text="Nos lampes en promo", status=PostStatus.SCHEDULED,
        publish_at=due,
    )  # fmt: skip
    delivery = Delivery.objects.create(
        workspace=workspace, post=post, channel=channel, due_at=due, next_attempt_at=due
    )
    detail = url(workspace, "detail", alert.pk)
    fields = crisis_form(owner_client.get(detail).content.decode())
    response = owner_client.post(reverse("publishing:pause", args=[workspace.slug]), fields)
    assert response.status_code == 302 and response["Location"] == detail
    delivery.refresh_from_db()
    assert (delivery.state, delivery.hold_reason) == (DeliveryState.HELD, HoldReason.PAUSED)
    publishing = PublishingSettings.objects.get(workspace=workspace)
    assert publishing.pause_reason == "Bad-buzz alert: Maison Lumière"
    # Back on the alert: the banner says so, and the switch is not offered twice.
    body = owner_client.get(detail).content.decode()
    assert "Publishing is paused: 1 scheduled post is held." in body
    assert "pause-banner" in body and crisis_form(body) is None


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
