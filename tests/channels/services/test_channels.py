"""Connecting channels against the contract fakes, keeping their tokens fresh, and what a
refused credential does (reconnect needed: held deliveries, a notification)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.channels.models import Channel, ChannelState
from tribu.channels.services import channels as service
from tribu.channels.tasks import claim_token_refreshes
from tribu.core.models import AuditEvent
from tribu.notifications.models import Notification
from tribu.testing.fakes.bluesky import DEFAULT_APP_PASSWORD, DEFAULT_HANDLE
from tribu.testing.fakes.mastodon import TOKEN


def connect_bluesky(workspace, fake, user=None, password=DEFAULT_APP_PASSWORD):
    return service.connect(
        workspace, "bluesky", fake.base_url,
        {"handle": DEFAULT_HANDLE, "app_password": password}, actor=user,
    )  # fmt: skip


def test_connecting_bluesky_stores_an_encrypted_session(workspace, user, bluesky_fake):
    channel = connect_bluesky(workspace, bluesky_fake, user)
    assert channel.network == "bluesky" and channel.handle == DEFAULT_HANDLE
    assert channel.account_id.startswith("did:plc:")
    assert channel.secret_values["app_password"] == DEFAULT_APP_PASSWORD
    assert channel.secret_values["access_jwt"]
    # Encrypted at rest: the raw column holds no secret.
    raw = Channel.objects.filter(pk=channel.pk).values_list("secrets", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM channels_channel WHERE id = %s", [channel.pk])
        stored = cursor.fetchone()[0]
    assert DEFAULT_APP_PASSWORD not in stored and raw
    assert channel.token_expires_at > timezone.now()
    assert channel.next_refresh_at == channel.token_expires_at - service.REFRESH_AHEAD
    assert AuditEvent.objects.filter(action="channel.connected", actor=user).exists()


def test_a_wrong_app_password_is_explained(workspace, bluesky_fake):
    with pytest.raises(service.ChannelError) as caught:
        connect_bluesky(workspace, bluesky_fake, password="wrong-password-here")
    assert "app password" in caught.value.message.lower()
    assert not Channel.objects.exists()


def test_an_unreachable_or_malformed_address_is_refused(workspace):
    with pytest.raises(service.ChannelError) as caught:
        service.connect(workspace, "mastodon", "http://", {"access_token": "x"})
    assert caught.value.field == "base_url"
    with pytest.raises(service.ChannelError) as caught:
        service.connect(workspace, "myspace", "https://api.myspace.com", {})
    assert caught.value.code == "unsupported"


def test_connecting_the_same_account_twice_updates_one_channel(workspace, mastodon_fake):
    first = service.connect(workspace, "mastodon", mastodon_fake.base_url, {"access_token": TOKEN})
    again = service.connect(workspace, "mastodon", mastodon_fake.base_url, {"access_token": TOKEN})
    assert first.pk == again.pk
    assert Channel.objects.count() == 1
    assert first.limits["max_characters"] == 500


def test_the_tick_refreshes_tokens_before_they_expire(workspace, bluesky_fake):
    channel = connect_bluesky(workspace, bluesky_fake)
    old = channel.secret_values
    due = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(next_refresh_at=due - timedelta(seconds=1))
    assert claim_token_refreshes(due) == 1  # huey runs the task at once in tests
    assert claim_token_refreshes(due) == 0  # claimed: not twice
    channel.refresh_from_db()
    assert channel.secret_values["refresh_jwt"] != old["refresh_jwt"]
    assert channel.secret_values["access_jwt"] != old["access_jwt"]
    assert channel.next_refresh_at > due
    assert channel.state == ChannelState.ACTIVE


def test_a_refused_refresh_asks_for_a_reconnection(workspace, user, bluesky_fake):
    channel = connect_bluesky(workspace, bluesky_fake, user)
    bluesky_fake.revoke_app_password(DEFAULT_HANDLE)
    bluesky_fake.expire_access_tokens()
    # The refresh token dies with the app password on a real PDS; the fake does the same.
    assert service.refresh(channel.pk) is False
    channel.refresh_from_db()
    assert channel.state == ChannelState.RECONNECT
    assert channel.next_refresh_at is None
    assert Notification.objects.filter(kind="channel.reconnect_needed", user=user).exists()
    # Reconnecting (a new app password) makes it active again.
    bluesky_fake.accounts[channel.account_id].app_password = "new1-new2-new3-new4"
    service.connect(workspace, "bluesky", bluesky_fake.base_url,
                    {"handle": DEFAULT_HANDLE, "app_password": "new1-new2-new3-new4"})  # fmt: skip
    channel.refresh_from_db()
    assert channel.state == ChannelState.ACTIVE and channel.problem_code == ""


def test_a_channel_being_sent_on_cannot_be_removed(workspace, user, mastodon_fake):
    from tribu.publishing.models import Delivery, DeliveryState
    from tribu.publishing.services import posts

    channel = service.connect(workspace, "mastodon", mastodon_fake.base_url,
                              {"access_token": TOKEN})  # fmt: skip
    post = posts.create_post(workspace, user, "owner", text="Salut", channels=[channel.pk])
    posts.schedule(post, user, "owner")
    Delivery.objects.update(state=DeliveryState.SENDING)
    with pytest.raises(service.ChannelError):
        service.remove(channel, actor=user)
    Delivery.objects.update(state=DeliveryState.PUBLISHED)
    service.remove(channel, actor=user)
    assert not Channel.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_channel_spend_the_refresh_token_once(workspace, bluesky_fake):
    """Bluesky's refresh JWT is single use: two threads refreshing the same channel at once
    (the tick and a publisher thread) must not both spend it. The second takes the session
    the first stored."""
    import threading

    from tribu.channels.networks import client_for

    channel = connect_bluesky(workspace, bluesky_fake)
    bluesky_fake.slow(0.3, path="/xrpc/com.atproto.server.refreshSession")
    clients = [
        client_for(
            Channel.objects.get(pk=channel.pk),
            on_secrets=lambda secrets: service.store_secrets(channel, secrets),
        )  # fmt: skip
        for _ in range(2)
    ]
    results = [None, None]

    def refresh(index):
        from django.db import connection

        try:
            results[index] = clients[index].refresh()
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent = [
        request
        for request in bluesky_fake.requests
        if request.path.endswith("refreshSession") or request.path.endswith("createSession")
    ]
    assert len(spent) == 2  # connect's createSession, then one refresh
    assert results[0].secrets["refresh_jwt"] == results[1].secrets["refresh_jwt"]
    channel.refresh_from_db()
    assert channel.secret_values["refresh_jwt"] == results[0].secrets["refresh_jwt"]
