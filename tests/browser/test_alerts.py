"""Bad-buzz alerts in a real browser: from the sidebar to the list, open an alert, read why,
comment, acknowledge, close, then tune the topic's alert settings."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.alerts.models import Alert, AlertState
from tribu.core.services.workspaces import create_workspace
from tribu.listening.models import Topic
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed(owner):
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    topic = Topic.objects.create(workspace=workspace, name="Lampes", query="lamp*")
    end = timezone.now().replace(second=0, microsecond=0)
    alert = Alert.objects.create(
        workspace=workspace, topic=topic, kind="volume", sensitivity="normal",
        window_start=end - timedelta(hours=1), window_end=end,
        explanation={"kind": "volume", "topic": "Lampes", "observed": 87, "expected": 4,
                     "negative_share": 70, "sources": ["Déco Mag"], "terms": ["rappel"]},
    )  # fmt: skip
    return workspace, topic, alert


def test_alerts(page, live_server, make_user):
    owner = make_user("alice@example.com", name="Alice")
    _workspace, topic, alert = seed(owner)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))

    page.goto(f"{live_server.url}/w/lumiere/")
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.wait_for_url(re.compile(r"/w/lumiere/alerts/$"))
    page.get_by_role("button", name="Filter").click()  # the filters work with nothing chosen
    page.get_by_role("link", name="Lampes · Mention volume").click()
    page.wait_for_url(re.compile(rf"/alerts/{alert.pk}/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Mentions are surging on “Lampes”"
    why = page.locator(".alert-facts").inner_text()
    assert "87 mentions in the last hour against 4 usually" in why and "70 % negative" in why
    assert page.locator("svg.alert-chart title").count() == 1

    page.get_by_role("textbox", name="Comment").fill("Communiqué en préparation.")
    page.get_by_role("button", name="Add the comment").click()
    page.wait_for_url(re.compile(rf"/alerts/{alert.pk}/$"))
    assert "Communiqué en préparation." in page.locator(".alert-comments").inner_text()

    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Alert acknowledged").wait_for()
    assert "Acknowledged" in page.locator(".alert-head").inner_text()
    page.get_by_role("button", name="Close the alert").click()
    page.get_by_text("Alert closed.").wait_for()
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED and alert.closed_by == alert.acknowledged_by

    # The stream link shows the mentions behind the alert.
    page.get_by_role("link", name="See the mentions behind this alert").click()
    page.wait_for_url(re.compile(rf"/listening/\?topic={topic.pk}&since="))

    # The topic's alert settings, from the list.
    page.goto(f"{live_server.url}/w/lumiere/alerts/")
    page.get_by_role("link", name="Alert settings for “Lampes”").click()
    page.get_by_label("High: smaller bursts too").check()
    page.get_by_label("Watch the volume of negative mentions").uncheck()
    page.get_by_role("button", name="Save the alert settings").click()
    page.get_by_text("Alert settings saved").wait_for()
    topic.alert_rule.refresh_from_db()
    assert (topic.alert_rule.sensitivity, topic.alert_rule.watch_negative) == ("high", False)

    # A phone-sized screen still shows the alert and its actions.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/w/lumiere/alerts/{alert.pk}/")
    assert page.get_by_role("heading", level=1).is_visible()
