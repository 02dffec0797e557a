"""The publisher against the LinkedIn contract fake: a page's post with its first comment goes
out once; an answer lost on the way back is looked for by the reconciler instead of being
sent again (LinkedIn has no idempotency); a member's profile, whose posts cannot be read,
waits for a person."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.channels.models import Channel, ChannelState
from tribu.channels.networks.linkedin import LinkedInClient
from tribu.publishing.models import Delivery, DeliveryState, HoldReason
from tribu.publishing.services import deliveries as deliveries_service
from tribu.publishing.services import posts as posts_service
from tribu.publishing.services import reconcile
from tribu.testing.fakes.linkedin import (
    CLIENT_ID,
    CLIENT_SECRET,
    MEMBER_URN,
    ORG_URN,
    TOKEN,
    LinkedInFake,
)
from tribu.testing.publishing import log_events, publisher_round

WORKER = "test-host:1"


@pytest.fixture(autouse=True)
def english_workspace(workspace):
    """The publisher writes its log in the workspace's language; these tests read English."""
    workspace.language = "en"
    workspace.save(update_fields=["language"])


@pytest.fixture
def fake():
    with LinkedInFake() as server:
        yield server


@pytest.fixture(autouse=True)
def linkedin_app(settings, fake, monkeypatch):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    settings.TRIBU_PUBLISH_REQUEST_TIMEOUT = 2.0
    settings.TRIBU_NETWORK_APPS = {
        "linkedin": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_url": fake.base_url,
            "auth_url": fake.base_url,
            "version": "202606",
        }
    }
    monkeypatch.setattr(LinkedInClient, "comment_retry_delays", (0.01,))
    monkeypatch.setattr(LinkedInClient, "member_media_grace", 0.01)


def make_channel(workspace, fake, author, name):
    channel = Channel(
        workspace=workspace, network="linkedin", name=name, base_url=fake.base_url,
        account_id=author, handle=name,
        account_kind="organization" if author == ORG_URN else "profile",
    )  # fmt: skip
    channel.set_secrets({"access_token": TOKEN, "author": author})
    channel.save()
    return channel


@pytest.fixture
def page(workspace, fake):
    return make_channel(workspace, fake, ORG_URN, "Acme on LinkedIn")


@pytest.fixture
def profile(workspace, fake):
    return make_channel(workspace, fake, MEMBER_URN, "Camille on LinkedIn")


@pytest.fixture
def schedule(workspace, user):
    def make(channel, text="Bonjour (enfin) #Tribu", **fields):
        post = posts_service.create_post(
            workspace, user, "owner", text=text, channels=[channel.pk],
            publish_at=timezone.now() - timedelta(seconds=1), **fields,
        )  # fmt: skip
        posts_service.schedule(post, user, "owner")
        return post.deliveries.get()

    return make


def run(now=None):
    return publisher_round(WORKER, now)


def events(delivery):
    return log_events(delivery)


def test_a_pages_post_and_its_first_comment_go_out_once(schedule, page, fake):
    delivery = schedule(page, first_comment="Le lien : https://acme.example/rentree")
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    delivery.refresh_from_db()
    [post] = fake.posts
    assert post["_text"] == "Bonjour (enfin) #Tribu"
    assert delivery.remote_id == post["id"]
    assert delivery.remote_url == f"https://www.linkedin.com/feed/update/{post['id']}/"
    [comment] = fake.comments
    assert comment["object"] == post["id"] and comment["actor"] == ORG_URN
    assert delivery.stage["post"] == post["id"]  # saved before the comment
    assert events(delivery) == ["scheduled", "sending", "request", "request", "published"]
    assert fake.stats()["duplicates"] == []


def test_a_lost_answer_is_found_by_the_reconciler_not_sent_again(schedule, page, fake):
    delivery = schedule(page, text="Réponse perdue")
    fake.drop_after_processing(path="/rest/posts")
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}  # no idempotency: no blind retry
    delivery.refresh_from_db()
    assert delivery.error_kind == "unknown" and delivery.reconcile_at is not None
    assert len(fake.posts) == 1
    assert reconcile.reconcile(delivery.pk) == DeliveryState.PUBLISHED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.remote_id == fake.posts[0]["id"]
    assert "found" in events(delivery)
    assert run() == {}
    assert fake.stats() == {"posts": 1, "comments": 0, "images": 0, "duplicates": []}


def test_a_201_without_post_urn_is_looked_for_then_published_once(schedule, page, fake):
    delivery = schedule(page, text="Rien n'apparaît")
    fake.publish_without_id()
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    assert fake.posts == []
    assert reconcile.reconcile(delivery.pk) == DeliveryState.SCHEDULED
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    assert len(fake.posts_with_text("Rien n'apparaît")) == 1


def test_a_profiles_lost_answer_waits_for_a_person(schedule, profile, fake, user):
    delivery = schedule(profile, text="Sur mon profil")
    fake.drop_after_processing(path="/rest/posts")
    assert run() == {delivery.pk: DeliveryState.UNKNOWN}
    assert reconcile.reconcile(delivery.pk) == DeliveryState.UNKNOWN
    delivery.refresh_from_db()
    line = delivery.log.get(event="cannot_tell")
    assert "It was published" in line.message and "Camille on LinkedIn" in line.message
    assert not [r for r in fake.requests if r.method == "GET" and r.path == "/rest/posts"]
    deliveries_service.mark_published(delivery, user, url="https://www.linkedin.com/feed/")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED
    assert len(fake.posts) == 1


def test_a_revoked_token_holds_the_channels_posts(schedule, page, fake):
    delivery = schedule(page)
    fake.revoke(TOKEN)
    assert run() == {delivery.pk: DeliveryState.HELD}
    delivery.refresh_from_db()
    page.refresh_from_db()
    assert delivery.hold_reason == HoldReason.RECONNECT and delivery.error_code == "token_revoked"
    assert page.state == ChannelState.RECONNECT
    assert fake.posts == []


def test_a_daily_limit_retries_later_without_posting(schedule, page, fake):
    delivery = schedule(page)
    fake.fail(429, path="/rest/posts")
    before = timezone.now()
    assert run() == {delivery.pk: DeliveryState.RETRYING}
    delivery.refresh_from_db()
    assert delivery.error_code == "rate_limited"
    assert delivery.next_attempt_at >= before + timedelta(seconds=60)
    assert fake.posts == []
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    assert len(fake.posts) == 1


def test_a_failed_comment_is_retried_alone(schedule, page, fake):
    delivery = schedule(page, text="Commentaire plus tard", first_comment="Et voilà")
    fake.fail(503, path="/rest/socialActions/")
    assert run() == {delivery.pk: DeliveryState.RETRYING}
    delivery.refresh_from_db()
    assert "published on LinkedIn" in delivery.error_message
    assert delivery.stage["post"] == fake.posts[0]["id"]
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    assert len(fake.posts) == 1 and len(fake.comments) == 1


def test_a_first_comment_refused_for_good_publishes_with_a_warning_and_a_notification(
    schedule, page, fake, user
):
    from tribu.notifications.models import Notification

    delivery = schedule(page, first_comment="Le lien")
    fake.fail(422, path="/rest/socialActions/")
    assert run() == {delivery.pk: DeliveryState.PUBLISHED}
    delivery.refresh_from_db()
    assert len(fake.posts) == 1 and fake.comments == []
    warning = delivery.log.get(event="warning")
    assert "first comment could not be added" in warning.message
    notification = Notification.objects.get(kind="delivery.attention", user=user)
    assert notification.params["warning"] == warning.message
    assert run() == {}  # nothing is sent again
