"""The publisher and the reconciler with an X channel, against the X contract fake: X has no
idempotency, so a lost answer is never sent again blindly; `find()` settles it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tribu.channels.models import Channel, ChannelState
from tribu.channels.services import channels as channels_service
from tribu.publishing.models import Delivery, DeliveryState, HoldReason
from tribu.publishing.services import posts as posts_service
from tribu.publishing.services import reconcile
from tribu.testing.fakes.x import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    TOKEN,
    USER_ID,
    USERNAME,
    XFake,
)
from tribu.testing.publishing import publisher_round

WORKER = "test-host:1"
TWEETS = "/2/tweets"


@pytest.fixture(autouse=True)
def english_workspace(workspace):
    """The publisher writes its log in the workspace's language; these tests read English."""
    workspace.language = "en"
    workspace.save(update_fields=["language"])


@pytest.fixture
def fake():
    with XFake() as server:
        yield server


@pytest.fixture(autouse=True)
def loopback(settings, fake):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 2.0
    settings.TRIBU_NETWORK_APPS = {
        "x": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_url": fake.base_url,
            "auth_url": fake.base_url,
        }
    }


@pytest.fixture
def channel(workspace, fake):
    expires = timezone.now() + timedelta(hours=1)
    channel = Channel(
        workspace=workspace, network="x", name="Acme on X", base_url=fake.base_url,
        account_id=USER_ID, handle=f"@{USERNAME}", token_expires_at=expires,
    )  # fmt: skip
    channel.set_secrets(
        {
            "access_token": TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "token_expires_at": expires.isoformat(),
            "username": USERNAME,
        }
    )
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


def test_a_due_post_goes_out_once(schedule, fake):
    delivery = schedule()
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    delivery.refresh_from_db()
    [tweet] = fake.tweets
    assert delivery.remote_id == tweet["id"]
    assert delivery.remote_url == f"https://x.com/{USERNAME}/status/{tweet['id']}"
    request = delivery.log.get(event="request")
    assert (request.request, request.status_code) == ("POST /2/tweets", 201)
    assert run() == {} and len(fake.tweets) == 1


def test_a_thread_goes_out_as_a_chain_of_replies(schedule, fake):
    delivery = schedule(text="1/2 Le début", thread=["2/2 La suite"])
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    first, second = fake.tweets
    assert second["in_reply_to"] == first["id"]
    assert Delivery.objects.get(pk=delivery.pk).remote_id == first["id"]


def test_a_lost_answer_is_never_resent_and_the_reconciler_finds_the_post(schedule, fake):
    delivery = schedule(text="Réponse perdue")
    fake.drop_after_processing(path=TWEETS)
    # No idempotency on X: the outcome is unknown at once, nothing is sent again.
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    delivery.refresh_from_db()
    assert delivery.error_kind == "unknown" and delivery.reconcile_at is not None
    assert run(timezone.now() + timedelta(minutes=5)) == {}
    assert reconcile.reconcile(delivery.pk) == DeliveryState.PUBLISHED
    delivery.refresh_from_db()
    [tweet] = fake.tweets
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.remote_url == f"https://x.com/{USERNAME}/status/{tweet['id']}"
    assert delivery.log.filter(event="found").exists()
    read = delivery.log.filter(event="request", request=f"GET /2/users/{USER_ID}/tweets")
    assert read.count() == 1  # one billed page
    assert fake.stats() == {"posts": 1, "duplicates": [], "refused_duplicates": 0}


def test_a_timed_out_answer_is_settled_the_same_way(schedule, fake, settings):
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 0.3
    delivery = schedule(text="Trop lent")
    fake.stall_after_processing(1.0, path=TWEETS)
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 2.0
    assert reconcile.reconcile(delivery.pk) == DeliveryState.PUBLISHED
    assert len(fake.posts_with_text("Trop lent")) == 1


def test_the_duplicate_refusal_is_unknown_and_found_by_the_reconciler(schedule, fake):
    delivery = schedule(text="Déjà envoyé")
    # An earlier attempt of this delivery got through, unseen.
    earlier = fake.add_tweet("Déjà envoyé")
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    delivery.refresh_from_db()
    assert (delivery.error_kind, delivery.error_code) == ("unknown", "duplicate")
    assert delivery.stage["duplicate"]["part"] == 0
    assert reconcile.reconcile(delivery.pk) == DeliveryState.PUBLISHED
    delivery.refresh_from_db()
    assert delivery.remote_id == earlier["id"]
    assert fake.refused_duplicates == 1 and len(fake.tweets) == 1


def test_a_duplicate_of_an_older_post_waits_for_a_person_instead_of_looping(schedule, fake):
    delivery = schedule(text="Bon lundi !")
    fake.add_tweet("Bon lundi !", seconds_ago=7 * 24 * 3600)  # last week's ritual post
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    assert reconcile.reconcile(delivery.pk) == DeliveryState.UNKNOWN
    delivery.refresh_from_db()
    assert delivery.reconcile_at is None  # no further automatic step
    told = delivery.log.get(event="cannot_tell")
    assert "change a few words" in told.message
    assert len(fake.tweets) == 1


def test_a_post_that_never_arrived_is_queued_again(schedule, fake):
    delivery = schedule(text="Jamais arrivé")
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.UNKNOWN, first_sent_at=timezone.now(), reconcile_at=timezone.now(),
        content={"text": "Jamais arrivé"},
    )  # fmt: skip
    assert reconcile.reconcile(delivery.pk) == DeliveryState.SCHEDULED
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    assert len(fake.posts_with_text("Jamais arrivé")) == 1


def test_an_expired_token_is_refreshed_and_stored_before_publishing(schedule, fake, channel):
    past = timezone.now() - timedelta(minutes=1)
    secrets = {**channel.secret_values, "token_expires_at": past.isoformat()}
    channel.set_secrets(secrets)
    channel.token_expires_at = past
    channel.save()
    fake.expire_access_tokens()
    delivery = schedule()
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    channel.refresh_from_db()
    stored = channel.secret_values
    assert stored["refresh_token"] != REFRESH_TOKEN and stored["access_token"] != TOKEN
    assert stored["refresh_token"] in fake.refresh_tokens  # the live one is kept
    assert datetime.fromisoformat(stored["token_expires_at"]) > datetime.now(UTC)
    assert len(fake.tweets) == 1


def test_the_tick_refreshes_tokens_and_a_dead_refresh_token_asks_to_reconnect(channel, fake):
    assert channels_service.refresh(channel.pk) is True
    channel.refresh_from_db()
    assert channel.secret_values["refresh_token"] != REFRESH_TOKEN
    assert timedelta(minutes=119) < channel.token_expires_at - timezone.now()
    assert channel.next_refresh_at == channel.token_expires_at - timedelta(minutes=15)

    fake.refresh_tokens.clear()  # revoked on X's side
    assert channels_service.refresh(channel.pk) is False
    channel.refresh_from_db()
    assert channel.state == ChannelState.RECONNECT
    assert channel.problem_code == "refresh_invalid"


def test_a_refresh_that_lost_the_race_uses_the_tokens_another_worker_stored(channel, fake):
    from tribu.channels.networks import client_for

    slow = client_for(Channel.objects.get(pk=channel.pk))  # read the old tokens
    assert channels_service.refresh(channel.pk) is True  # another worker rotated them
    update = slow.refresh()  # X refuses the spent refresh token
    channel.refresh_from_db()
    assert update.secrets["refresh_token"] == channel.secret_values["refresh_token"]
    assert channel.state == ChannelState.ACTIVE


def test_a_revoked_token_holds_the_channel(schedule, fake, channel):
    fake.revoke(TOKEN)
    fake.refresh_tokens.clear()
    delivery = schedule()
    assert run() == {delivery.pk: DeliveryState.HELD}
    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert delivery.hold_reason == HoldReason.RECONNECT
    assert channel.state == ChannelState.RECONNECT


def test_spent_credits_fail_visibly(schedule, fake):
    fake.cap_usage()
    delivery = schedule()
    assert run() == {delivery.pk: DeliveryState.FAILED}
    delivery.refresh_from_db()
    assert (delivery.error_kind, delivery.error_code) == ("fatal", "usage_capped")
    assert fake.tweets == []


def test_a_rate_limit_waits_for_x_rate_limit_reset(schedule, fake):
    reset = int(timezone.now().timestamp()) + 600
    fake.fail(429, path=TWEETS, headers={"x-rate-limit-reset": str(reset)})
    delivery = schedule()
    before = timezone.now()
    assert run() == {delivery.pk: DeliveryState.RETRYING}
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= before + timedelta(seconds=590)
