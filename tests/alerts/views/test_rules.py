"""A topic's alert settings page."""

from django.urls import reverse

from tribu.alerts.models import AlertRule
from tribu.core.roles import Role
from tribu.listening.models import Topic


def settings_url(workspace, topic):
    return reverse("alerts:topic_settings", args=[workspace.slug, topic.pk])


def test_the_settings_page_creates_and_saves_the_rule(owner_client, workspace, topic):
    response = owner_client.get(settings_url(workspace, topic))
    assert response.status_code == 200
    assert AlertRule.objects.get(topic=topic).sensitivity == "normal"
    response = owner_client.post(
        settings_url(workspace, topic), {"sensitivity": "high", "watch_negative": "on"}
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get(topic=topic)
    assert (rule.sensitivity, rule.watch_volume, rule.watch_negative) == ("high", False, True)


def test_watching_nothing_is_explained(owner_client, workspace, topic):
    response = owner_client.post(settings_url(workspace, topic), {"sensitivity": "normal"})
    assert response.status_code == 200
    assert "Choose what to watch" in response.content.decode()
    # Off needs nothing watched.
    response = owner_client.post(settings_url(workspace, topic), {"sensitivity": "off"})
    assert response.status_code == 302


def test_only_listening_managers_change_settings(client_for, make_member, workspace, topic):
    approver = client_for(make_member(workspace, role=Role.APPROVER))
    assert approver.get(settings_url(workspace, topic)).status_code == 403
    body = approver.get(reverse("alerts:list", args=[workspace.slug])).content.decode()
    assert settings_url(workspace, topic) not in body


def test_another_workspaces_topic_is_a_404(owner_client, workspace, make_workspace):
    topic = Topic.objects.create(workspace=make_workspace(), name="Autre", query="autre")
    assert owner_client.get(settings_url(workspace, topic)).status_code == 404
    assert not AlertRule.objects.exists()
