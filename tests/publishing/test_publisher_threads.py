"""The publisher against the Threads fake: a scheduled post goes out exactly once, through
containers; a lost answer becomes `unknown` and the reconciler finds the post by its
container; the token is refreshed on the channel's schedule."""

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from tribu.channels.models import Channel, ChannelState
from tribu.channels.networks.threads import ThreadsClient
from tribu.channels.services import channels as channels_service
from tribu.publishing.models import Delivery, DeliveryState, HoldReason, PostMedia
from tribu.publishing.services import posts as posts_service
from tribu.publishing.services import reconcile
from tribu.testing.fakes.threads import CLIENT_ID, CLIENT_SECRET, TOKEN, USER_ID, ThreadsFake
from tribu.testing.publishing import log_events, publisher_round

WORKER = "test-host:1"
PUBLISH = f"/v1.0/{USER_ID}/threads_publish"
LIMIT = f"/v1.0/{USER_ID}/threads_publishing_limit"
CONTAINERS = "/v1.0/1806"  # the fake's container and media ids start with 1806


@pytest.fixture(autouse=True)
def loopback(settings, monkeypatch):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 2.0
    monkeypatch.setattr(ThreadsClient, "container_poll_delays", (0.01,) * 4)


@pytest.fixture
def fake(settings):
    with ThreadsFake() as server:
        settings.TRIBU_NETWORK_APPS = {
            "threads": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "api_url": server.base_url,
                "auth_url": server.base_url,
                "version": "v1.0",
            }
        }
        yield server


@pytest.fixture
def channel(workspace, fake):
    channel = Channel(
        workspace=workspace, network="threads", name="Maison Lumière sur Threads",
        base_url=fake.base_url, account_id=USER_ID, handle=f"@{fake.user['username']}",
    )  # fmt: skip
    channel.set_secrets({"access_token": TOKEN})
    channel.save()
    return channel


@pytest.fixture
def schedule(workspace, user, channel):
    def make(text="Bonjour la communauté !", in_=timedelta(seconds=-1), **fields):
        post = posts_service.create_post(
            workspace, user, "owner", text=text, channels=[channel.pk],
            publish_at=timezone.now() + in_, **fields,
        )  # fmt: skip
        posts_service.schedule(post, user, "owner")
        return post.deliveries.get()

    return make


def run(now=None):
    return publisher_round(WORKER, now)


def events(delivery):
    return log_events(delivery)


def test_a_due_post_is_published_once_through_a_container(schedule, fake):
    delivery = schedule(text="Nouvelle collection ✨")
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    delivery.refresh_from_db()
    [media] = fake.media
    assert (delivery.remote_id, delivery.remote_url) == (media["id"], media["permalink"])
    assert media["text"] == "Nouvelle collection ✨"
    assert events(delivery)[:2] == ["scheduled", "sending"] and events(delivery)[-1] == "published"
    requests = list(delivery.log.filter(event="request").values_list("request", flat=True))
    assert requests[:2] == [f"GET {LIMIT}", f"POST /v1.0/{USER_ID}/threads"]
    assert f"POST {PUBLISH}" in requests
    assert run() == {}
    assert fake.stats()["posts"] == 1 and fake.duplicates() == []


def test_a_lost_publish_answer_is_reconciled_from_the_container(schedule, fake, settings):
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 0.5
    delivery = schedule(text="Réponse perdue")
    fake.pass_through(path=LIMIT)  # fault paths match by prefix
    fake.stall_after_processing(1.5, path=PUBLISH)
    # The status read that would settle it at once fails too (the first read is the poll).
    fake.pass_through(path=CONTAINERS)
    fake.fail(503, path=CONTAINERS)
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    delivery.refresh_from_db()
    assert delivery.error_kind == "unknown" and delivery.reconcile_at is not None
    container_id = delivery.stage["parts"][0]["container"]
    assert fake.containers[container_id]["media_id"] == fake.media[0]["id"]  # it went out

    assert reconcile.reconcile(delivery.pk) == DeliveryState.PUBLISHED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED
    assert (delivery.remote_id, delivery.remote_url) == (
        fake.media[0]["id"],
        fake.media[0]["permalink"],
    )
    assert delivery.log.filter(event="found").exists()
    assert fake.stats()["posts"] == 1 and len(fake.publish_requests()) == 1
    assert fake.duplicates() == []


def test_a_slow_publish_answer_is_settled_in_the_same_attempt(schedule, fake, settings):
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 0.5
    delivery = schedule(text="Premier", thread=["Second"])
    fake.pass_through(path=LIMIT)
    fake.stall_after_processing(1.5, path=PUBLISH)
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    root, reply = fake.media
    assert reply["reply_to"] == root["id"]
    delivery.refresh_from_db()
    assert delivery.remote_id == root["id"] and delivery.attempts == 1
    assert fake.duplicates() == [] and len(fake.publish_requests()) == 2


def test_a_container_never_published_is_published_again_once(schedule, fake):
    delivery = schedule(text="Jamais parti")
    container_id = fake.new_container("Jamais parti")
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.UNKNOWN, first_sent_at=timezone.now(), reconcile_at=timezone.now(),
        content={"text": "Jamais parti"}, stage={"parts": [{"container": container_id}]},
    )  # fmt: skip
    assert reconcile.reconcile(delivery.pk) == DeliveryState.SCHEDULED
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    assert [m["text"] for m in fake.media] == ["Jamais parti"]


def test_a_thread_with_an_image_goes_out_once(schedule, fake, settings, tmp_path, live_server):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TRIBU_BASE_URL = live_server.url
    delivery = schedule(text="Notre atelier", thread=["Ouvert samedi"])
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "orange").save(buffer, "PNG")
    PostMedia.objects.create(
        post=delivery.post, file=ContentFile(buffer.getvalue(), name="atelier.png"),
        alt_text="L'atelier", content_type="image/png", size_bytes=len(buffer.getvalue()),
        width=60, height=40,
    )  # fmt: skip
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    root, reply = fake.media
    assert root["media_type"] == "IMAGE" and root["alt_text"] == "L'atelier"
    assert reply["reply_to"] == root["id"] and reply["text"] == "Ouvert samedi"
    [fetch] = fake.fetches
    assert fetch["ok"] and fetch["url"].startswith(live_server.url + "/channels/media/")
    delivery.refresh_from_db()
    assert delivery.remote_id == root["id"]


def test_a_dead_token_holds_the_channel(schedule, fake, channel):
    delivery = schedule()
    fake.revoke(TOKEN)
    assert run() == {delivery.pk: DeliveryState.HELD}
    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert delivery.hold_reason == HoldReason.RECONNECT
    assert channel.state == ChannelState.RECONNECT
    assert fake.containers == {}


def test_a_pasted_token_makes_a_channel_refreshed_a_day_later(fake, workspace, user):
    channel = channels_service.connect(
        workspace, "threads", fake.base_url, {"access_token": TOKEN}, actor=user
    )
    assert (channel.account_id, channel.handle) == (USER_ID, f"@{fake.user['username']}")
    assert channel.account_kind == "profile" and channel.secret_values == {"access_token": TOKEN}
    expected = timezone.now() + timedelta(hours=24, minutes=5)
    assert abs((channel.next_refresh_at - expected).total_seconds()) < 60


def test_the_channel_token_is_refreshed_on_its_schedule(fake, channel):
    issued = fake.now() - timedelta(days=30)
    fake.add_token("month-old", issued_at=issued)
    channel.set_secrets({"access_token": "month-old", "token_issued_at": issued.isoformat()})
    channel.token_expires_at = issued + timedelta(days=60)
    channel.next_refresh_at = issued + timedelta(days=30)
    channel.save()
    assert channels_service.refresh(channel.pk) is True
    channel.refresh_from_db()
    now = timezone.now()
    token = channel.secret_values["access_token"]
    assert token != "month-old" and fake.tokens[token]["kind"] == "long"
    assert abs((channel.token_expires_at - (now + timedelta(days=60))).total_seconds()) < 3600
    assert abs((channel.next_refresh_at - (now + timedelta(days=30))).total_seconds()) < 60
    assert channel.state == ChannelState.ACTIVE

    fake.revoke(token)
    Channel.objects.filter(pk=channel.pk).update(next_refresh_at=now)
    channel.refresh_from_db()
    # A fresh token is refused a refresh for a day: make it look old enough.
    channel.set_secrets({"access_token": token})
    channel.save()
    assert channels_service.refresh(channel.pk) is False
    channel.refresh_from_db()
    assert channel.state == ChannelState.RECONNECT and channel.next_refresh_at is None
