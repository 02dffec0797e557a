"""Notifications in a real browser: the bell, the centre (open marks read, mark all read),
my preferences, and a webhook added, tested against a receiver on loopback and its log."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tribu.core.services.workspaces import create_workspace
from tribu.notifications.services import notify
from tribu.notifications.tasks import claim_due_deliveries
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_allowed(settings):
    # The receiver runs on 127.0.0.1; live_server runs in this process, so it sees this.
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def lumiere(make_user):
    owner = make_user("alice@example.com", name="Alice", language="en")
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    return workspace, owner


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def test_centre_preferences_and_a_webhook(page, live_server, lumiere, httpserver):
    workspace, owner = lumiere
    for topic in ("Aube", "Rotin"):
        notify(workspace, "notifications.test", params={"actor": topic},
               url="/w/lumiere/", recipients=[owner])  # fmt: skip
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/lumiere/")

    # The bell says how many are unread, and leads to the centre.
    page.get_by_role("link", name="Notifications: 2 unread").click()
    page.wait_for_url(re.compile(r"/w/lumiere/notifications/$"))
    items = page.locator("li.notification")
    expect(items).to_have_count(2)
    expect(page.locator("li.notification-unread")).to_have_count(2)
    expect(items.first).to_contain_text("This is a test sent by Rotin")

    # Opening one marks it read and follows its link.
    items.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/w/lumiere/$"))
    page.get_by_role("link", name="Notifications: 1 unread").click()
    expect(page.locator("li.notification-unread")).to_have_count(1)
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("1 notification marked as read.")).to_be_visible()
    expect(page.locator("li.notification-unread")).to_have_count(0)
    expect(page.get_by_role("link", name="Notifications: none unread")).to_be_visible()

    # My preferences: a daily digest, quiet at night.
    page.get_by_role("link", name="My notification preferences").click()
    page.get_by_label("Daily digest (at 08:00)").check()
    page.get_by_label("Quiet hours from").fill("22:00")
    page.get_by_label("Quiet hours until").fill("07:00")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    expect(page.get_by_label("Daily digest (at 08:00)")).to_be_checked()
    expect(page.get_by_label("Quiet hours from")).to_have_value("22:00")

    # A webhook: added, its secret shown once, a test sent to a receiver on loopback.
    httpserver.expect_request("/hook", method="POST").respond_with_data("received")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_text("No webhook yet.")).to_be_visible()
    page.get_by_label("Name").fill("Our receiver")
    page.get_by_label("Address").fill(httpserver.url_for("/hook"))
    page.get_by_label("Format").select_option("generic")
    page.get_by_role("button", name="Add the webhook").click()
    expect(page.get_by_role("heading", name="Webhook “Our receiver”")).to_be_visible()
    expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
    page.get_by_role("button", name="Send a test").click()
    expect(page.get_by_text("A test event is on its way")).to_be_visible()
    expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once only
    assert claim_due_deliveries(timezone.now()) == 1
    page.reload()
    log = page.locator("li.delivery")
    expect(log).to_have_count(1)
    expect(log).to_contain_text("Delivered")
    expect(log.locator("table.attempts")).to_contain_text("200")
    assert len(httpserver.log) == 1

    # The list shows it; on a phone the page still fits.
    page.get_by_role("link", name="All webhooks").click()
    expect(page.locator("table.webhooks")).to_contain_text("Our receiver")
    page.set_viewport_size({"width": 390, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
