"""Listening in a real browser: sign in, search and filter the stream, star a mention with
the keyboard, then write a topic whose query is first wrong, fixed, tested and saved."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.core.services.workspaces import create_workspace
from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, Source, Topic
from tribu.listening.services.ingest import ingest
from tribu.listening.services.topics import create_topic
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed(owner):
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    create_topic(workspace, name="Lampes", query="lamp*", colour="#15803d")
    source = Source.objects.create(
        workspace=workspace, name="Déco Mag", url="https://deco.example/feed",
        paused_at=timezone.now(),
    )  # fmt: skip
    start = timezone.now() - timedelta(days=2)
    texts = [
        ("Une lampe Aube au salon", "La lampe Aube éclaire tout le salon."),
        ("Un fauteuil en rotin", "Le rotin revient à la mode."),
        ("Lampadaire Halo", "Ce lampadaire est superbe."),
    ]
    ingest(
        source,
        [
            ParsedItem(
                url=f"https://deco.example/{index}",
                title=title,
                text=text,
                published_at=start + timedelta(hours=index),
            )  # fmt: skip
            for index, (title, text) in enumerate(texts)
        ],
    )
    return workspace


def test_listening(page, live_server, make_user):
    owner = make_user("alice@example.com", name="Alice")
    seed(owner)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))

    # The stream, from the sidebar; newest first.
    page.goto(f"{live_server.url}/w/lumiere/")
    page.get_by_role("link", name="Listening").click()
    page.wait_for_url(re.compile(r"/w/lumiere/listening/$"))
    titles = page.locator(".mention-title a").all_inner_texts()
    assert titles == ["Lampadaire Halo", "Un fauteuil en rotin", "Une lampe Aube au salon"]

    # Full-text search (accent-insensitive), then a topic filter.
    page.get_by_placeholder("Search mentions").fill("eclaire")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"q=eclaire"))
    assert page.locator(".mention-title a").all_inner_texts() == ["Une lampe Aube au salon"]
    page.get_by_role("link", name="Clear filters").first.click()
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Topic").select_option(label="Lampes")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"topic="))
    assert page.locator(".mention-title a").all_inner_texts() == [
        "Lampadaire Halo",
        "Une lampe Aube au salon",
    ]

    # Keyboard: j focuses the first mention, s stars it (HTMX swaps the item in place).
    page.locator("h1").click()
    page.keyboard.press("j")
    first = page.locator("[data-mention]").first
    assert first.evaluate("element => element === document.activeElement")
    page.keyboard.press("s")
    page.locator("[data-mention]").first.locator("button", has_text="Unstar").wait_for()
    assert Mention.objects.get(title="Lampadaire Halo").starred
    # The swapped item keeps the focus, so the next key acts on it again.
    page.keyboard.press("m")
    page.locator("[data-mention]").first.locator("button", has_text="Mark unread").wait_for()
    assert Mention.objects.get(title="Lampadaire Halo").read
    # ? shows the shortcuts.
    page.keyboard.press("?")
    assert page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
    page.keyboard.press("Escape")

    # A new topic: the query is checked as it is typed, with the error placed in it.
    page.goto(f"{live_server.url}/w/lumiere/listening/topics/new/")
    page.get_by_label("Name").fill("Halo")
    query = page.get_by_label("Query", exact=True)
    query.fill("(lampadaire OR halo")
    error = page.locator("#query-check .query-error")
    error.wait_for()
    assert "At character" in error.inner_text()
    assert page.locator("#query-check mark").count() == 1
    query.fill("lampadaire OR halo")
    page.locator("#query-check .query-ok").wait_for()

    # The backtest shows what it would have matched, then the topic is saved.
    page.get_by_role("button", name="Test against stored mentions").click()
    backtest = page.locator("#backtest section")
    backtest.wait_for()
    assert "1 mention in the last 30 days" in backtest.inner_text()
    assert backtest.locator("svg[role=img]").count() == 1
    assert backtest.get_by_text("Lampadaire Halo").is_visible()
    page.get_by_role("button", name="Save the topic").click()
    page.wait_for_url(re.compile(r"/listening/topics/$"))
    assert page.get_by_text("Topic “Halo” saved.").is_visible()
    assert Topic.objects.filter(name="Halo", query="lampadaire OR halo").exists()
