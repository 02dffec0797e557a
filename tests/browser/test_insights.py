"""Insights in a real browser: the dashboard, a topic dashboard, trends, an author page
(watch them) and the watch list, on a phone-sized screen for the dashboard."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from tribu.core.services.workspaces import create_workspace
from tribu.listening.items import ParsedItem
from tribu.listening.models import Author, Topic
from tribu.listening.services.ingest import ingest_items
from tribu.listening.services.topics import create_topic
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed(owner):
    cache.clear()
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    create_topic(workspace, name="Lumière", query="lumière")
    create_topic(workspace, name="Halo", query="halo", kind=Topic.Kind.COMPETITOR)
    now = timezone.now()
    texts = [
        ("@jeanne", "La lampe Lumière éclaire tout le salon #deco"),
        ("@jeanne", "Encore une lampe Lumière, superbe #deco"),
        ("@paul", "Halo sort une lampe https://halo.example/lampe"),
    ]
    ingest_items(
        workspace.pk,
        [
            ParsedItem(
                url=f"https://social.example/{n}",
                text=text,
                author_handle=handle,
                network="mastodon",
                published_at=now - timedelta(hours=n + 1),
            )
            for n, (handle, text) in enumerate(texts)
        ],
    )
    return workspace


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def test_insights(page, live_server, make_user):
    owner = make_user("alice@example.com", name="Alice")
    seed(owner)
    sign_in(page, live_server)

    page.goto(f"{live_server.url}/w/lumiere/")
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(re.compile(r"/w/lumiere/insights/$"))
    assert page.get_by_role("heading", name="Listening dashboard").is_visible()
    assert page.get_by_role("img", name=re.compile("Mentions per day")).is_visible()
    assert page.locator(".big-number").inner_text() == "3 mentions"
    # The table alternative opens from its summary.
    page.get_by_text("Show the data as a table").first.click()
    assert page.locator("details[open] table").first.is_visible()
    assert page.get_by_role("heading", name="Share of voice").is_visible()

    # 7 days: hourly buckets; then the topic's dashboard.
    page.get_by_role("link", name="7 days").click()
    page.wait_for_url(re.compile(r"days=7"))
    assert page.get_by_role("img", name=re.compile("Mentions per hour")).is_visible()
    page.locator(".scope-picker").get_by_role("link", name="Lumière").click()
    page.wait_for_url(re.compile(r"/insights/topics/\d+/"))
    assert page.get_by_role("heading", name="Dashboard: Lumière").is_visible()
    assert page.locator(".big-number").inner_text() == "2 mentions"
    # A number leads to the mentions behind it.
    page.get_by_role("link", name="2 mentions using #deco").click()
    page.wait_for_url(re.compile(r"/listening/\?"))
    assert page.locator("[data-mention]").count() == 2

    # Trends.
    page.get_by_role("link", name="Trends").first.click()
    page.wait_for_url(re.compile(r"/insights/trends/"))
    assert page.get_by_role("heading", name="Hashtags").is_visible()

    # Authors, then one author's page, where she is watched.
    page.get_by_role("link", name="Authors").first.click()
    page.wait_for_url(re.compile(r"/insights/authors/"))
    page.get_by_role("link", name="@jeanne").click()
    page.wait_for_url(re.compile(r"/insights/authors/\d+/"))
    assert page.get_by_role("img", name=re.compile("Mentions by @jeanne")).is_visible()
    page.get_by_role("button", name="Watch @jeanne").click()
    page.get_by_text("@jeanne is on the watch list.").wait_for()
    assert Author.objects.get(handle="@jeanne").watched

    # The watch list shows her, with a way to stop watching.
    page.goto(f"{live_server.url}/w/lumiere/insights/watch-list/")
    assert page.get_by_role("link", name="@jeanne").is_visible()
    page.get_by_role("button", name="Stop watching @jeanne").click()
    page.get_by_text("Nobody on the watch list yet.").wait_for()

    # On a phone, the dashboard's chart fits the screen.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/w/lumiere/insights/")
    width = page.locator("svg.chart").first.bounding_box()["width"]
    assert width <= 390
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')]"
        ".filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
