"""Short links in a real browser: shorten an address on the links page, follow the short
link (it lands on the page with its UTM parameters), and see the click counted."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tribu.channels.models import Channel
from tribu.core.services.workspaces import create_workspace
from tribu.publishing.models import ShortLink
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lumiere(make_user):
    owner = make_user("alice@example.com", name="Alice")
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    Channel.objects.create(
        workspace=workspace, network="mastodon", name="Lumière sur Mastodon",
        base_url="https://mastodon.example", account_id="1",
    )  # fmt: skip
    return workspace


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def test_shorten_follow_and_count(page, live_server, lumiere, httpserver, settings):
    settings.TRIBU_BASE_URL = live_server.url  # short links are served by this live server
    httpserver.expect_request("/nouveautes").respond_with_data(
        '<!doctype html><link rel="icon" href="data:,"><title>Nouveautés</title>'
        "<h1>Les nouveautés</h1>",
        content_type="text/html; charset=utf-8",
    )
    # The shop answers on 127.0.0.1, a host other than Tribu's "localhost".
    landing = httpserver.url_for("/nouveautes?ref=tribu").replace("localhost", "127.0.0.1")

    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/lumiere/publishing/links/")
    expect(page.get_by_text("No short link yet.")).to_be_visible()
    page.get_by_label("Address to shorten").fill(landing)
    page.get_by_label("Channel").select_option(label="Lumière sur Mastodon (Mastodon)")
    page.get_by_label("Campaign").fill("printemps")
    page.get_by_role("button", name="Shorten").click()

    expect(page.get_by_text("Short link ready:")).to_be_visible()
    link = ShortLink.objects.get(workspace=lumiere)
    short = f"{live_server.url}/l/{link.code}"
    expect(page.get_by_text(f"Short link ready: {short}")).to_be_visible()
    row = page.locator(f"#link-{link.code}")
    expect(row).to_contain_text(short)
    expect(row).to_contain_text("Lumière sur Mastodon")
    expect(row.locator(".clicks")).to_have_text("0")

    page.goto(short)
    expect(page.get_by_role("heading", name="Les nouveautés")).to_be_visible()
    params = parse_qs(urlsplit(page.url).query)
    assert params["ref"] == ["tribu"] and params["utm_source"] == ["mastodon"]
    assert params["utm_medium"] == ["social"] and params["utm_campaign"] == ["printemps"]

    page.goto(f"{live_server.url}/w/lumiere/publishing/links/")
    row = page.locator(f"#link-{link.code}")
    expect(row.locator(".clicks")).to_have_text("1")
    expect(row.locator(".bot-clicks")).to_have_text("0")
