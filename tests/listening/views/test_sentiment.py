"""Sentiment pages: correcting a mention, and the evaluation page."""

import pytest
from django.urls import reverse

from tribu.core.roles import Role
from tribu.insights.models import SentimentCorrection
from tribu.listening.models import Mention

NEGATIVE = "Service client catastrophique, livraison en retard, je suis vraiment très déçu."


@pytest.fixture
def mention(add_mentions):
    return add_mentions(("Avis client", NEGATIVE))[0]


def correct_url(workspace, mention):
    return reverse("listening:mention_sentiment", args=[workspace.slug, mention.pk])


def test_the_mention_page_shows_sentiment_and_its_tier(owner_client, workspace, mention):
    page = owner_client.get(reverse("listening:mention", args=[workspace.slug, mention.pk]))
    html = page.content.decode()
    assert mention.sentiment == "negative"
    assert "sentiment-negative" in html and "fast model" in html
    assert 'name="label" value="negative" checked' in html


def test_a_member_corrects_the_sentiment(client_for, make_user, make_member, workspace, mention):
    editor = make_user(language="fr")  # the interface speaks the member's language
    make_member(workspace, Role.CONTRIBUTOR, editor)
    response = client_for(editor).post(correct_url(workspace, mention), {"label": "neutral"})
    assert response.status_code == 302
    mention.refresh_from_db()
    assert (mention.sentiment, mention.sentiment_tier) == ("neutral", "human")
    page = client_for(editor).get(response.url).content.decode()
    assert "Corrigé par" in page and "Le modèle avait indiqué\u00a0: Négatif." in page


def test_a_viewer_cannot_correct(client_for, make_user, make_member, workspace, mention):
    viewer = make_user()
    make_member(workspace, Role.VIEWER, viewer)
    response = client_for(viewer).post(correct_url(workspace, mention), {"label": "neutral"})
    assert response.status_code == 403
    assert Mention.objects.get(pk=mention.pk).sentiment == "negative"
    page = client_for(viewer).get(reverse("listening:mention", args=[workspace.slug, mention.pk]))
    assert b'name="label"' not in page.content


def test_an_invalid_label_is_explained(owner_client, workspace, mention):
    response = owner_client.post(correct_url(workspace, mention), {"label": "furieux"}, follow=True)
    assert "Choose negative, neutral or positive." in response.content.decode()
    assert not SentimentCorrection.objects.exists()


def test_the_evaluation_page(owner_client, workspace, add_mentions):
    url = reverse("listening:sentiment_evaluation", args=[workspace.slug])
    assert "No correction yet." in owner_client.get(url).content.decode()
    first, second = add_mentions(("Un", NEGATIVE), ("Deux", NEGATIVE + " Vraiment."))
    owner_client.post(correct_url(workspace, first), {"label": "negative"})
    owner_client.post(correct_url(workspace, second), {"label": "positive"})
    html = owner_client.get(url).content.decode()
    assert "1 of 2" in html and "(50 %)" in html
    assert reverse("listening:mention", args=[workspace.slug, second.pk]) in html
