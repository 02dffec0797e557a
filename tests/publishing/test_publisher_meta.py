"""The publisher against the Meta Graph fake: a Facebook Page and an Instagram account are
published exactly once, a lost answer goes to `unknown` and the reconciler finds the post."""

import io
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from tribu.channels.models import Channel, ChannelState
from tribu.channels.networks.instagram import InstagramClient
from tribu.publishing.models import Delivery, DeliveryState, HoldReason, PostMedia
from tribu.publishing.services import posts as posts_service
from tribu.publishing.services import reconcile
from tribu.testing.fakes.meta import (
    APP_ID,
    APP_SECRET,
    IG_ID,
    IG_USERNAME,
    PAGE_ID,
    PAGE_NAME,
    PAGE_TOKEN,
    VERSION,
    MetaGraphFake,
)
from tribu.testing.publishing import publisher_round

WORKER = "test-host:1"
FEED = f"/{VERSION}/{PAGE_ID}/feed"
PUBLISH = f"/{VERSION}/{IG_ID}/media_publish"


@pytest.fixture(autouse=True)
def loopback(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 2.0


@pytest.fixture
def fake(settings, monkeypatch):
    monkeypatch.setattr(InstagramClient, "container_poll_delays", (0.01,) * 5)
    with MetaGraphFake() as server:
        settings.TRIBU_NETWORK_APPS = {
            "meta": {
                "client_id": APP_ID,
                "client_secret": APP_SECRET,
                "api_url": server.base_url,
                "auth_url": server.base_url,
                "version": VERSION,
            }
        }
        yield server


def make_channel(workspace, fake, network, account_id, handle):
    channel = Channel(
        workspace=workspace, network=network, name=f"Acme on {network}", base_url=fake.base_url,
        account_id=account_id, handle=handle,
        account_kind="page" if network == "facebook" else "profile",
    )  # fmt: skip
    channel.set_secrets({"access_token": PAGE_TOKEN, "page_id": PAGE_ID})
    channel.save()
    return channel


@pytest.fixture
def page(workspace, fake):
    return make_channel(workspace, fake, "facebook", PAGE_ID, PAGE_NAME)


@pytest.fixture
def instagram(workspace, fake, live_server, settings, tmp_path):
    settings.TRIBU_BASE_URL = live_server.url  # Instagram downloads the images from here
    settings.MEDIA_ROOT = str(tmp_path)
    return make_channel(workspace, fake, "instagram", IG_ID, f"@{IG_USERNAME}")


def jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), "orange").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def schedule(workspace, user):
    def make(channel, text="Bonjour la communauté !", *, image=False, **fields):
        post = posts_service.create_post(
            workspace, user, "owner", text=text, channels=[channel.pk],
            publish_at=timezone.now() - timedelta(seconds=1), **fields,
        )  # fmt: skip
        if image:
            data = jpeg()
            PostMedia.objects.create(
                post=post, file=ContentFile(data, name="orange.jpg"), alt_text="Un carré orange",
                content_type="image/jpeg", size_bytes=len(data), width=12, height=12,
            )  # fmt: skip
        posts_service.schedule(post, user, "owner")
        return post.deliveries.get()

    return make


def run(now=None):
    return publisher_round(WORKER, now)


def test_a_facebook_post_is_published_once(schedule, page, fake):
    delivery = schedule(page, first_comment="Le lien est ici")
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    delivery.refresh_from_db()
    [post] = fake.posts_with_text("Bonjour la communauté !")
    assert delivery.remote_id == post["id"]
    assert delivery.remote_url == post["permalink_url"]
    assert [c["message"] for c in post["comments"]] == ["Le lien est ici"]
    requests = list(
        delivery.log.filter(event="request").values_list("request", "status_code").order_by("id")
    )
    assert requests == [
        (f"POST {FEED}", 200),
        (f"GET /{VERSION}/{post['id']}", 200),
        (f"POST /{VERSION}/{post['id']}/comments", 200),
    ]
    assert run() == {}
    assert fake.stats() == {"posts": 1, "facebook_posts": 1, "instagram_media": 0, "duplicates": []}


def test_a_lost_facebook_answer_is_unknown_then_found_by_the_reconciler(schedule, page, fake):
    delivery = schedule(page, text="Réponse perdue")
    fake.drop_after_processing(path=FEED)
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}  # no idempotency: look first
    delivery.refresh_from_db()
    assert delivery.error_kind == "unknown" and delivery.reconcile_at is not None
    assert reconcile.reconcile(delivery.pk) == DeliveryState.PUBLISHED
    delivery.refresh_from_db()
    [post] = fake.posts
    assert delivery.state == DeliveryState.PUBLISHED
    assert (delivery.remote_id, delivery.remote_url) == (post["id"], post["permalink_url"])
    assert delivery.log.filter(event="found").exists()
    assert fake.stats()["posts"] == 1 and fake.duplicates() == []


def test_the_reconciler_publishes_again_what_facebook_does_not_have(schedule, page, fake):
    delivery = schedule(page, text="Jamais arrivé")
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.UNKNOWN, first_sent_at=timezone.now(), reconcile_at=timezone.now(),
        content={"text": "Jamais arrivé"},
    )  # fmt: skip
    assert reconcile.reconcile(delivery.pk) == DeliveryState.SCHEDULED
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    assert len(fake.posts_with_text("Jamais arrivé")) == 1


def test_a_dead_page_token_holds_the_channel(schedule, page, fake):
    delivery = schedule(page)
    fake.revoke(PAGE_TOKEN)
    assert run() == {delivery.pk: DeliveryState.HELD}
    delivery.refresh_from_db()
    page.refresh_from_db()
    assert delivery.hold_reason == HoldReason.RECONNECT
    assert page.state == ChannelState.RECONNECT
    assert fake.posts == []


def test_an_instagram_post_goes_out_once_even_when_its_answer_is_lost(
    schedule, instagram, fake, settings
):
    delivery = schedule(instagram, text="Carré orange #tribu", image=True)
    # First attempt: the container is prepared, then Meta fails: retried later.
    fake.fail(500, path=PUBLISH)
    assert run() == {delivery.pk: DeliveryState.RETRYING}
    delivery.refresh_from_db()
    container = delivery.stage["container"]
    assert fake.containers[container]["alt_text"] == "Un carré orange"
    # Second attempt: the same container; Meta publishes after the client stopped waiting.
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 0.5
    fake.slow(1.5, path=PUBLISH)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    for _wait in range(100):
        if fake.media:
            break
        time.sleep(0.05)
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 2.0
    assert reconcile.reconcile(delivery.pk) == DeliveryState.PUBLISHED
    delivery.refresh_from_db()
    [media] = fake.media
    assert media["container_id"] == container and media["caption"] == "Carré orange #tribu"
    assert (delivery.remote_id, delivery.remote_url) == (media["id"], media["permalink"])
    assert len(fake.containers) == 1 and len(fake.downloads) == 1
    assert fake.stats() == {"posts": 1, "facebook_posts": 0, "instagram_media": 1, "duplicates": []}
