"""End to end in a real browser, against the network contract fakes: connect Mastodon (OAuth
round trip) and Bluesky (app password), compose one post for both, get it approved by a
client through the approval link, and watch the publisher send it, exactly once each."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.core.services.workspaces import create_workspace
from tribu.core.tick import beat
from tribu.publishing.models import Delivery, Post, PostStatus, PublishingSettings
from tribu.publishing.publisher import claim_due, send
from tribu.testing import PASSWORD
from tribu.testing.fakes.bluesky import DEFAULT_APP_PASSWORD, DEFAULT_HANDLE, BlueskyPdsFake
from tribu.testing.fakes.mastodon import TOKEN, MastodonPublishFake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKER = "browser-test:1"
TEXT = "Atelier réparation samedi à 10 h ! #MaisonLumiere"


@pytest.fixture
def fakes():
    with MastodonPublishFake() as mastodon, BlueskyPdsFake() as bluesky:
        yield mastodon, bluesky


def test_compose_approve_by_client_and_publish(page, browser, live_server, make_user, settings,
                                               fakes):  # fmt: skip
    mastodon, bluesky = fakes
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True  # the fakes listen on 127.0.0.1
    settings.TRIBU_BASE_URL = live_server.url  # OAuth redirect and approval links
    owner = make_user("alice@example.com", name="Alice")
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    PublishingSettings.objects.create(workspace=workspace, require_approval=True)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))

    # Mastodon through OAuth: the instance's consent page approves and comes back.
    page.get_by_role("link", name="Channels", exact=True).click()
    page.get_by_label("Mastodon server").first.fill(mastodon.base_url)
    page.get_by_role("button", name="Connect with Mastodon").click()
    page.get_by_role("link", name=re.compile(r"^Continue to 127\.0\.0\.1")).click()
    page.get_by_text("is connected.").first.wait_for()
    # Bluesky with an app password.
    page.get_by_label("Server (PDS)").fill(bluesky.base_url)
    page.get_by_label("Handle").fill(DEFAULT_HANDLE)
    page.get_by_label("App password").fill(DEFAULT_APP_PASSWORD)
    page.get_by_role("button", name="Connect Bluesky").click()
    page.wait_for_url(re.compile(r"/w/lumiere/channels/$"))
    assert page.locator(".channel-item").count() == 2

    # Compose for both, due now (the current minute, in the workspace's time zone).
    page.get_by_role("link", name="New post", exact=True).click()
    for box in page.get_by_role("checkbox", name=re.compile(r"^(Mastodon|Bluesky) ")).all():
        box.check()
    page.get_by_role("textbox", name="Text", exact=True).fill(TEXT)
    now = timezone.localtime(timezone.now(), workspace.tzinfo)
    page.get_by_label("Publish on (date and time)").fill(now.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Send for review").click()
    page.wait_for_url(re.compile(r"/publishing/posts/\d+/$"))
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW

    # The client approves through the link, signed out, in another browser.
    page.get_by_label("Who will review it (optional)").fill("Claire Roux")
    page.get_by_role("button", name="Create the link").click()
    link = page.locator("#approval-url").inner_text().strip()
    client_context = browser.new_context(locale="fr-FR")
    client = client_context.new_page()
    client.set_default_timeout(10_000)
    client.goto(link)
    client.get_by_role("textbox", name=re.compile("name|nom", re.I)).fill("Claire Roux")
    # The page speaks the workspace's language (French here).
    client.get_by_role("button", name="Valider", exact=True).click()
    client.locator(".message-success").wait_for()
    client_context.close()
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED

    # A worker's publisher rounds, run here: the test database is SQLite's shared-cache
    # memory database, whose table locks do not wait for each other across threads (real
    # worker processes are tested in tests/publishing/test_publisher_workers.py).
    beat(WORKER)
    deadline = timezone.now() + timedelta(seconds=30)
    while timezone.now() < deadline:
        for pk in claim_due(WORKER, timezone.now(), 10):
            send(pk, WORKER)
        if set(Delivery.objects.values_list("state", flat=True)) == {"published"}:
            break
        page.wait_for_timeout(200)
    assert set(Delivery.objects.values_list("state", flat=True)) == {"published"}
    assert len(mastodon.posts_with_text(TEXT)) == 1
    assert len(bluesky.posts_with_text(TEXT)) == 1

    # The team sees it published, with the link to each network's post and the log.
    page.reload()
    assert "Published" in page.locator(".post-head").inner_text()
    hrefs = [a.get_attribute("href") for a in page.get_by_role("link").all()]
    assert any(href and href.startswith("https://mastodon.example/@") for href in hrefs)
    assert any(href and href.startswith("https://bsky.app/profile/") for href in hrefs)
    assert page.get_by_text("POST /api/v1/statuses").count() >= 1


def test_decisions_on_a_late_post_and_an_unknown_outcome(page, live_server, make_user, settings):
    """The post page's decisions, clicked: a post held as too late is published now; an
    outcome nobody could check is settled by hand ("it was published")."""
    from tribu.channels.models import Channel
    from tribu.publishing.models import DeliveryState, HoldReason, PostVariant

    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    owner = make_user("alice@example.com", name="Alice")
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    with MastodonPublishFake() as mastodon:
        channel = Channel(
            workspace=workspace, network="mastodon", name="Lumière",
            base_url=mastodon.base_url, account_id=mastodon.account["id"],
        )  # fmt: skip
        channel.set_secrets({"access_token": TOKEN})
        channel.save()
        due = timezone.now() - timedelta(hours=2)
        posts = []
        for text, state, reason in (("Trop tard", DeliveryState.HELD, HoldReason.LATE),
                                    ("Incertain", DeliveryState.UNKNOWN, "")):  # fmt: skip
            post = Post.objects.create(workspace=workspace, text=text, publish_at=due,
                                       status=PostStatus.SCHEDULED)  # fmt: skip
            PostVariant.objects.create(post=post, channel=channel)
            Delivery.objects.create(workspace=workspace, post=post, channel=channel, state=state,
                                    hold_reason=reason, due_at=due, next_attempt_at=due,
                                    content={"text": text})  # fmt: skip
            posts.append(post)

        page.goto(f"{live_server.url}/")
        page.get_by_label("Email address").fill("alice@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/w/"))

        page.goto(f"{live_server.url}/w/lumiere/publishing/posts/{posts[0].pk}/")
        page.get_by_role("button", name="Publish now").click()
        page.wait_for_url(re.compile(rf"/posts/{posts[0].pk}/$"))
        assert Delivery.objects.get(post=posts[0]).state == DeliveryState.SCHEDULED
        beat(WORKER)
        for pk in claim_due(WORKER, timezone.now(), 10):
            send(pk, WORKER)
        page.reload()
        assert "Published" in page.locator(".post-head").inner_text()
        assert len(mastodon.posts_with_text("Trop tard")) == 1

        page.goto(f"{live_server.url}/w/lumiere/publishing/posts/{posts[1].pk}/")
        page.get_by_role("button", name="It was published").click()
        page.wait_for_url(re.compile(rf"/posts/{posts[1].pk}/$"))
        assert Delivery.objects.get(post=posts[1]).state == DeliveryState.PUBLISHED
        assert mastodon.posts_with_text("Incertain") == []  # nothing was sent again
