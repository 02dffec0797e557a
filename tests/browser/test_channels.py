"""Channels and the crisis switch in a real browser: connect a Bluesky account (against the
contract fake PDS on loopback), see it listed, pause publishing from the settings page with a
reason, see the banner on every page, resume from the banner and see what was released."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tribu.channels.models import Channel
from tribu.core.services.workspaces import create_workspace
from tribu.publishing.models import Delivery, DeliveryState, Post, PostStatus
from tribu.testing import PASSWORD
from tribu.testing.fakes.bluesky import DEFAULT_APP_PASSWORD, DEFAULT_HANDLE, BlueskyPdsFake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pds(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True  # the fake listens on 127.0.0.1
    with BlueskyPdsFake() as fake:
        yield fake


def schedule(channel, text):
    due = timezone.now() + timedelta(hours=2)
    post = Post.objects.create(
        workspace=channel.workspace, text=text, status=PostStatus.SCHEDULED, publish_at=due
    )
    return Delivery.objects.create(
        workspace=channel.workspace, post=post, channel=channel, due_at=due, next_attempt_at=due
    )


def test_connect_a_channel_then_pause_and_resume(page, live_server, make_user, pds):
    owner = make_user("alice@example.com", name="Alice")
    create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))

    page.goto(f"{live_server.url}/w/lumiere/")
    page.get_by_role("link", name="Channels", exact=True).click()
    page.wait_for_url(re.compile(r"/w/lumiere/channels/$"))
    expect(page.get_by_text("No channel yet.")).to_be_visible()
    # A main password is refused before anything leaves Tribu.
    page.get_by_label("Handle").fill(DEFAULT_HANDLE)
    page.get_by_label("App password").fill("my-main-password")
    page.get_by_label("Server (PDS)").fill(pds.base_url)
    page.get_by_role("button", name="Connect Bluesky").click()
    expect(page.get_by_text("This is not an app password")).to_be_visible()
    assert pds.requests == []
    page.get_by_label("App password").fill(DEFAULT_APP_PASSWORD)
    page.get_by_role("button", name="Connect Bluesky").click()
    page.wait_for_url(re.compile(r"/w/lumiere/channels/$"))
    expect(page.get_by_text(f"“Tribu Test” ({DEFAULT_HANDLE}) is connected.")).to_be_visible()
    item = page.locator(".channel-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Bluesky")
    expect(item).to_contain_text("Connected")
    assert DEFAULT_APP_PASSWORD not in page.content()
    channel = Channel.objects.get(workspace__slug="lumiere")
    delivery = schedule(channel, "Nouvelle collection d'automne")

    # The crisis switch, from the settings page.
    page.get_by_role("link", name="Publishing settings", exact=True).click()
    page.wait_for_url(re.compile(r"/w/lumiere/publishing/settings/$"))
    page.get_by_label("Reason (optional)").fill("Rappel de lampes")
    page.get_by_role("button", name="Pause all publishing").click()
    banner = page.locator(".pause-banner")
    expect(banner).to_contain_text("Publishing is paused.")
    expect(banner).to_contain_text("Rappel de lampes")
    expect(page.get_by_text("1 post is held by the pause.")).to_be_visible()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.HELD

    # The banner follows the team everywhere in the workspace; resume from it.
    page.get_by_role("link", name="Channels", exact=True).click()
    page.wait_for_url(re.compile(r"/w/lumiere/channels/$"))
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Resume publishing").click()
    page.wait_for_url(re.compile(r"/w/lumiere/publishing/settings/$"))
    expect(page.get_by_text("Publishing resumed: 1 post goes out at its time.")).to_be_visible()
    expect(page.locator("#released")).to_contain_text("Nouvelle collection d'automne")
    expect(page.locator(".pause-banner")).to_have_count(0)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED

    # The channel's page: a regular slot, Monday at 9:00, then renamed.
    page.goto(f"{live_server.url}/w/lumiere/channels/")
    page.locator(".channel-item a.channel-name").click()
    page.wait_for_url(re.compile(rf"/w/lumiere/channels/{channel.pk}/$"))
    expect(page.get_by_text("No queue slot yet.")).to_be_visible()
    page.get_by_label("Day").select_option(label="Monday")
    page.get_by_label("Time").fill("09:00")
    page.get_by_role("button", name="Add the slot").click()
    expect(page.locator(".slot-list")).to_contain_text("Monday")
    slot = channel.queue_slots.get()
    assert (slot.weekday, slot.at_time.hour, slot.at_time.minute) == (0, 9, 0)

    # A phone-sized screen still shows the channel and its state.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/w/lumiere/channels/")
    expect(page.locator(".channel-item")).to_be_visible()
