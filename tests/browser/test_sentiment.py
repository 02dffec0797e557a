"""Sentiment in a real browser: filter the stream by sentiment, open a mention, correct the
model's label, and read the evaluation page (in English, the user's language)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.core.services.workspaces import create_workspace
from tribu.listening.items import ParsedItem
from tribu.listening.services.ingest import ingest_items
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_correct_a_sentiment_and_see_the_evaluation(page, live_server, make_user):
    owner = make_user("alice@example.com", name="Alice")
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    start = timezone.now() - timedelta(days=1)
    texts = [
        ("Livraison ratée", "Commande perdue, service client injoignable, je suis très déçu."),
        ("Bravo", "Merci pour cette superbe lampe, équipe adorable, je recommande vivement !"),
    ]
    ingest_items(
        workspace.pk,
        [
            ParsedItem(
                url=f"https://deco.example/{n}",
                title=title,
                text=text,
                published_at=start + timedelta(hours=n),
            )  # fmt: skip
            for n, (title, text) in enumerate(texts)
        ],
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))

    page.goto(f"{live_server.url}/w/lumiere/listening/")
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Sentiment").select_option(label="Negative")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"sentiment=negative"))
    assert page.locator(".mention-title a").all_inner_texts() == ["Livraison ratée"]

    page.get_by_role("link", name="Livraison ratée").click()
    section = page.locator("section", has=page.get_by_role("heading", name="Sentiment"))
    assert "fast model" in section.inner_text()
    page.get_by_label("Neutral").check()
    page.get_by_role("button", name="Save the correction").click()
    page.get_by_text("Sentiment corrected.").wait_for()
    assert "corrected by the team" in section.inner_text()
    assert "The model had said: Negative." in section.inner_text()

    page.get_by_role("link", name="How the model agrees with the team").click()
    page.get_by_role("heading", name="Sentiment: the model and the team").wait_for()
    assert "0 of 1" in page.locator("dl.facts").inner_text()
    table = page.get_by_role("table").first
    assert "Negative" in table.inner_text()
    page.get_by_role("link", name=re.compile("Livraison ratée")).click()
    page.wait_for_url(re.compile(r"/mentions/\d+/$"))
