"""Channel pages: the list with states and expiry, one channel's page (rename, disable and
enable, remove, queue slots), the role matrix on each move, and isolation."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tribu.channels.models import Channel, ChannelState
from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.publishing.models import DeliveryState, HoldReason, QueueSlot

from .conftest import SECRET, broken, make_channel, make_delivery


def url(workspace, name, *args):
    return reverse(f"channels:{name}", args=[workspace.slug, *args])


@pytest.fixture
def channel(workspace):
    return make_channel(workspace)


def test_the_list_shows_each_channel_with_its_state_in_plain_words(owner_client, workspace):
    ok = make_channel(workspace, name="Lumière Mastodon")
    refused = broken(
        make_channel(workspace, network="bluesky", name="Lumière Bluesky",
                     handle="lumiere.bsky.social", base_url="https://bsky.social")
    )  # fmt: skip
    off = make_channel(workspace, name="Ancien compte", state=ChannelState.DISABLED)
    make_delivery(refused, DeliveryState.HELD, HoldReason.RECONNECT)
    body = owner_client.get(url(workspace, "list")).content.decode()
    for item in (ok, refused, off):
        assert url(workspace, "detail", item.pk) in body
    assert "lumiere.bsky.social" in body and "@maison@mastodon.example" in body
    assert body.count(">Connected<") == 1 and body.count(">Disabled<") == 1
    assert "Reconnect needed" in body
    assert "Bluesky refused Tribu&#x27;s access to this account" in body
    assert "1 post held on this channel." in body
    assert url(workspace, "reconnect", refused.pk) in body
    assert url(workspace, "reconnect", ok.pk) not in body
    assert SECRET not in body


def test_the_list_warns_when_access_expires_within_two_weeks(owner_client, workspace):
    now = timezone.now()
    make_channel(workspace, name="Soon", consent_expires_at=now + timedelta(days=5, hours=1))
    make_channel(workspace, name="Later", consent_expires_at=now + timedelta(days=40, hours=1))
    make_channel(workspace, name="Gone", consent_expires_at=now - timedelta(days=1))
    make_channel(workspace, name="Today", consent_expires_at=now + timedelta(hours=3))
    # A session Tribu refreshes on its own is no concern of the team's.
    make_channel(workspace, name="Session", token_expires_at=now + timedelta(hours=2))
    body = owner_client.get(url(workspace, "list")).content.decode()
    assert "Access expires in 5 days" in body
    assert "Access expires in 40 days" not in body and "Access valid until" in body
    assert "Access expired on" in body and "Access expires within a day" in body
    assert body.count("channel-access-warn") == 3


def test_viewers_see_channels_but_no_connect_form(client_for, make_member, workspace, channel):
    viewer = client_for(make_member(workspace, Role.VIEWER))
    body = viewer.get(url(workspace, "list")).content.decode()
    assert channel.name in body and "Connect with Mastodon" not in body
    assert "Owners, admins and editors can connect accounts" not in body  # there is a channel
    detail = viewer.get(url(workspace, "detail", channel.pk)).content.decode()
    assert "Rename" not in detail and "Remove this channel" not in detail
    assert viewer.post(url(workspace, "rename", channel.pk), {"name": "X"}).status_code == 403
    assert viewer.get(url(workspace, "connect_bluesky")).status_code == 403


def test_the_list_offers_only_networks_that_can_be_connected(owner_client, workspace):
    body = owner_client.get(url(workspace, "list")).content.decode()
    assert url(workspace, "connect_mastodon") in body and url(workspace, "connect_bluesky") in body
    assert "cannot be connected yet" in body
    assert "<button" not in body.split("cannot be connected yet")[1].split("</section>")[0]
    assert "connect/linkedin" not in body and "connect/x/" not in body


def test_the_detail_page_shows_the_account_never_its_secrets(owner_client, workspace, channel):
    response = owner_client.get(url(workspace, "detail", channel.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "https://mastodon.example" in body and "@maison@mastodon.example" in body
    assert SECRET not in body
    assert owner_client.post(url(workspace, "detail", channel.pk)).status_code == 405


def test_rename(owner_client, workspace, channel):
    response = owner_client.post(url(workspace, "rename", channel.pk), {"name": "  Compte pro "})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Compte pro"
    event = AuditEvent.objects.get(action="channel.renamed")
    assert event.data["old_name"] == "Maison Lumière"
    response = owner_client.post(url(workspace, "rename", channel.pk), {"name": "   "})
    assert response.status_code == 400 and "Give the channel a name" in response.content.decode()
    channel.refresh_from_db()
    assert channel.name == "Compte pro"


def test_disable_holds_its_posts_and_enable_releases_them(owner_client, workspace, channel):
    delivery = make_delivery(channel)
    owner_client.post(url(workspace, "disable", channel.pk))
    channel.refresh_from_db()
    delivery.refresh_from_db()
    assert channel.state == ChannelState.DISABLED and delivery.state == DeliveryState.HELD
    body = owner_client.get(url(workspace, "detail", channel.pk)).content.decode()
    assert "Disabled: nothing is published here" in body and ">Enable<" in body
    owner_client.post(url(workspace, "enable", channel.pk))
    channel.refresh_from_db()
    delivery.refresh_from_db()
    assert channel.state == ChannelState.ACTIVE and delivery.state == DeliveryState.SCHEDULED
    assert AuditEvent.objects.filter(action="channel.enabled").count() == 1
    # Enabling an enabled channel changes nothing.
    owner_client.post(url(workspace, "enable", channel.pk))
    assert AuditEvent.objects.filter(action="channel.enabled").count() == 1


def test_enabling_a_refused_channel_still_asks_to_reconnect(owner_client, workspace, channel):
    broken(channel)
    delivery = make_delivery(channel, DeliveryState.HELD, HoldReason.RECONNECT)
    owner_client.post(url(workspace, "disable", channel.pk))
    response = owner_client.post(url(workspace, "enable", channel.pk), follow=True)
    channel.refresh_from_db()
    delivery.refresh_from_db()
    assert channel.state == ChannelState.RECONNECT and delivery.state == DeliveryState.HELD
    assert "refused its access before: reconnect it" in response.content.decode()


def test_enabling_tells_about_posts_now_too_late(owner_client, workspace, channel):
    late = make_delivery(channel, due_in=-timedelta(hours=3))
    owner_client.post(url(workspace, "disable", channel.pk))
    response = owner_client.post(url(workspace, "enable", channel.pk), follow=True)
    late.refresh_from_db()
    assert late.state == DeliveryState.HELD and late.hold_reason == HoldReason.LATE
    assert "1 post is now too late to publish without a decision" in response.content.decode()


def test_remove_asks_first_then_removes(owner_client, workspace, channel):
    make_delivery(channel)
    body = owner_client.get(url(workspace, "remove", channel.pk)).content.decode()
    assert "1 post planned on this channel will not be published there." in body
    assert Channel.objects.filter(pk=channel.pk).exists()
    response = owner_client.post(url(workspace, "remove", channel.pk))
    assert response.status_code == 302 and response["Location"] == url(workspace, "list")
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_remove_is_refused_while_a_post_is_being_sent(owner_client, workspace, channel):
    make_delivery(channel, DeliveryState.SENDING)
    response = owner_client.post(url(workspace, "remove", channel.pk), follow=True)
    assert "A post is being sent on this channel right now" in response.content.decode()
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_queue_slots_are_added_and_removed(owner_client, workspace, channel):
    add = url(workspace, "slot_add", channel.pk)
    owner_client.post(add, {"weekday": "1", "at_time": "09:00"})
    response = owner_client.post(add, {"weekday": "1", "at_time": "09:00"}, follow=True)
    assert "already has that slot" in response.content.decode()
    slot = QueueSlot.objects.get(channel=channel)
    assert (slot.weekday, slot.at_time) == (1, time(9, 0))
    body = owner_client.get(url(workspace, "detail", channel.pk)).content.decode()
    assert "Tuesday 9 a.m." in body
    response = owner_client.post(add, {"weekday": "9", "at_time": "25:00"})
    assert response.status_code == 400 and QueueSlot.objects.count() == 1
    owner_client.post(url(workspace, "slot_remove", slot.pk))
    assert not QueueSlot.objects.exists()


def test_another_workspaces_channel_and_slot_are_404(
    owner_client, workspace, make_workspace, channel
):
    other = make_channel(make_workspace(), name="Theirs")
    slot = QueueSlot.objects.create(channel=other, weekday=0, at_time=time(9))
    for name in ("detail", "rename", "reconnect", "disable", "enable", "remove", "slot_add"):
        for method in ("get", "post"):
            response = getattr(owner_client, method)(url(workspace, name, other.pk))
            assert response.status_code == 404, (name, method)
    assert owner_client.post(url(workspace, "slot_remove", slot.pk)).status_code == 404
    other.refresh_from_db()
    slot.refresh_from_db()
    assert other.name == "Theirs" and other.state == ChannelState.ACTIVE
