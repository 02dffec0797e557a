"""In a real browser, against the LinkedIn and X contract fakes: connect LinkedIn through the
operator's app (the network's consent page, then the account chooser), connect X with a
pasted token, then publish a LinkedIn page post with its first comment, exactly once."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.channels.models import Channel
from tribu.core.services.workspaces import create_workspace
from tribu.core.tick import beat
from tribu.publishing.models import Delivery
from tribu.publishing.publisher import claim_due, send
from tribu.testing import PASSWORD
from tribu.testing.fakes import linkedin as linkedin_fake
from tribu.testing.fakes import x as x_fake
from tribu.testing.fakes.linkedin import LinkedInFake
from tribu.testing.fakes.x import XFake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKER = "browser-test:1"
TEXT = "Portes ouvertes samedi (10 h – 18 h) : venez nombreux !"
COMMENT = "Inscription gratuite sur notre site."


@pytest.fixture
def fakes(settings):
    with LinkedInFake() as linkedin, XFake() as x:
        settings.TRIBU_NETWORK_APPS = {
            **settings.TRIBU_NETWORK_APPS,
            "linkedin": {
                "client_id": linkedin_fake.CLIENT_ID,
                "client_secret": linkedin_fake.CLIENT_SECRET,
                "api_url": linkedin.base_url,
                "auth_url": linkedin.base_url,
                "version": linkedin_fake.VERSION,
            },
            # No app registered on X: only a pasted token can connect it.
            "x": {"client_id": "", "client_secret": "", "api_url": x.base_url,
                  "auth_url": x.base_url, "version": ""},
        }  # fmt: skip
        yield linkedin, x


def test_connect_linkedin_pages_and_x_then_publish_with_a_first_comment(
    page, live_server, make_user, settings, fakes
):
    linkedin, x = fakes
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True  # the fakes listen on 127.0.0.1
    settings.TRIBU_BASE_URL = live_server.url  # the OAuth redirect URI
    owner = make_user("alice@example.com", name="Alice")
    create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))
    page.get_by_role("link", name="Channels", exact=True).click()

    # LinkedIn through the app: consent on LinkedIn, then choose the page.
    page.get_by_role("button", name="Connect with LinkedIn").click()
    page.get_by_role("link", name=re.compile(r"^Continue to 127\.0\.0\.1")).click()
    page.wait_for_url(re.compile(r"/connect/app/linkedin/choose/$"))
    page.get_by_role("checkbox", name=re.compile("Acme")).check()
    page.get_by_role("button", name="Connect the ticked accounts").click()
    page.wait_for_url(re.compile(r"/w/lumiere/channels/$"))
    page.get_by_text("is connected.").first.wait_for()

    # X has no app on this Tribu: the button says so, a pasted token works.
    x_card = page.locator("#connect-x")
    assert x_card.get_by_role("button", name="Connect with X").is_disabled()
    assert "TRIBU_X_CLIENT_ID" in x_card.inner_text()
    x_card.get_by_label("Access token").fill(x_fake.TOKEN)
    x_card.get_by_role("button", name="Connect with this token").click()
    page.wait_for_url(re.compile(r"/w/lumiere/channels/$"))
    assert page.locator(".channel-item").count() == 2
    linkedin_channel = Channel.objects.get(network="linkedin")
    assert linkedin_channel.account_id == linkedin_fake.ORG_URN

    # A post for the LinkedIn page, with its first comment, published now.
    page.get_by_role("link", name="New post", exact=True).click()
    page.get_by_role("checkbox", name=re.compile(r"^LinkedIn ")).check()
    page.get_by_role("textbox", name="Text", exact=True).fill(TEXT)
    page.get_by_label(re.compile(r"^First comment")).fill(COMMENT)
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url(re.compile(r"/publishing/posts/\d+/$"))

    beat(WORKER)
    deadline = timezone.now() + timedelta(seconds=30)
    while timezone.now() < deadline:
        for pk in claim_due(WORKER, timezone.now(), 10):
            send(pk, WORKER)
        if set(Delivery.objects.values_list("state", flat=True)) == {"published"}:
            break
        page.wait_for_timeout(200)
    assert set(Delivery.objects.values_list("state", flat=True)) == {"published"}
    assert linkedin.stats()["posts"] == 1 and not linkedin.stats()["duplicates"]
    assert [comment["message"]["text"] for comment in linkedin.comments] == [COMMENT]
    page.reload()
    assert "Published" in page.locator(".post-head").inner_text()
    hrefs = [a.get_attribute("href") for a in page.get_by_role("link").all()]
    assert any(href and href.startswith("https://www.linkedin.com/feed/update/") for href in hrefs)
