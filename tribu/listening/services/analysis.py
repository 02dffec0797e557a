"""Sentiment after ingestion: the accurate tier for matched mentions, and team corrections.

Ingestion gives every mention the fast tier (services/ingest.py, analyse_mentions). Mentions
that match a topic are the ones dashboards and alerts count, so the worker then re-reads them
with the accurate tier (`refine_sentiment`), in batches, outside the ingestion transaction:
the encoder reads ~30 texts a second and must not hold the polling worker's transaction.
A mention corrected by the team keeps the team's label: the accurate tier never overwrites it.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.core.services import audit
from tribu.insights.models import SentimentCorrection
from tribu.insights.services import aggregates
from tribu.listening.models import Mention, Sentiment
from tribu.nlp import sentiment
from tribu.nlp.sentiment import LABELS

logger = logging.getLogger(__name__)

REFINE_BATCH = 64
# The encoder reads the first 512 tokens at most; a few hundred words carry an article's tone.
ACCURATE_TEXT = 2000


def accurate_enabled():
    return settings.TRIBU_ACCURATE_SENTIMENT and sentiment.accurate_available()


def schedule_refinement(mention_ids):
    """Queue the accurate tier for these mentions once the current transaction commits."""
    if not mention_ids or not accurate_enabled():
        return
    from tribu.listening.tasks import refine_sentiment_task

    ids = list(mention_ids)
    for start in range(0, len(ids), REFINE_BATCH):
        chunk = ids[start : start + REFINE_BATCH]
        transaction.on_commit(lambda chunk=chunk: refine_sentiment_task(chunk))


def mention_text(mention, limit):
    text = f"{mention.title}\n{mention.text}" if mention.title else mention.text
    return text[:limit]


def refine_sentiment(mention_ids):
    """Accurate-tier sentiment for mentions still labelled by the fast tier; returns how many
    changed label. Idempotent: a mention already refined or corrected is skipped."""
    languages = sentiment.accurate_model().languages
    candidates = list(
        Mention.objects.filter(
            pk__in=mention_ids, sentiment_tier=sentiment.FAST, lang__in=languages
        )
        .only("id", "title", "text", "lang")
        .order_by("pk")
    )
    if not candidates:
        return 0
    results = sentiment.analyse_many(
        [mention_text(m, ACCURATE_TEXT) for m in candidates],
        [m.lang for m in candidates],
        tier=sentiment.ACCURATE,
    )
    by_id = {m.pk: result for m, result in zip(candidates, results, strict=True)}
    changed = []
    with transaction.atomic():
        # Read again under lock: a team correction may have landed while the encoder ran.
        current = Mention.objects.select_for_update().filter(
            pk__in=list(by_id), sentiment_tier=sentiment.FAST
        )
        for mention in current:
            result = by_id[mention.pk]
            if result.label == sentiment.UNKNOWN:
                continue
            old = mention.sentiment
            mention.sentiment = result.label
            mention.sentiment_score = result.score
            mention.sentiment_tier = result.tier
            mention.save(update_fields=["sentiment", "sentiment_score", "sentiment_tier"])
            if old != result.label:
                changed.append((mention, old))
        aggregates.move_sentiment(changed)
    return len(changed)


HUMAN = "human"
# "unknown" is what the model says when it cannot judge; a person always can.
CORRECTABLE = {value for value in Sentiment.values if value != Sentiment.UNKNOWN}


class CorrectionError(ValueError):
    pass


def correct_sentiment(mention, label, *, actor, request=None):
    """The team's sentiment for a mention: shown everywhere instead of the model's, counted
    in the aggregates, and kept with the model's label for the evaluation page. Correcting
    again replaces the team's label but keeps what the model had said."""
    if label not in CORRECTABLE:
        raise CorrectionError(_("Choose negative, neutral or positive."))
    with transaction.atomic():
        mention = Mention.objects.select_for_update().get(pk=mention.pk)
        old = mention.sentiment
        correction = SentimentCorrection.objects.filter(mention=mention).first()
        if correction is None:
            correction = SentimentCorrection(
                workspace_id=mention.workspace_id,
                mention=mention,
                model_label=mention.sentiment,
                model_score=mention.sentiment_score,
                model_tier=mention.sentiment_tier,
                lang=mention.lang,
            )
        correction.label = label
        correction.corrected_by = actor
        correction.corrected_at = timezone.now()
        correction.save()
        mention.sentiment = label
        mention.sentiment_score = None
        mention.sentiment_tier = HUMAN
        mention.save(update_fields=["sentiment", "sentiment_score", "sentiment_tier"])
        if old != label:
            aggregates.move_sentiment([(mention, old)])
        audit.record(
            mention.workspace,
            "mention.sentiment_corrected",
            actor=actor,
            request=request,
            target=str(mention)[:80],
            label=label,
            model_label=correction.model_label,
        )
    return mention


@dataclass
class Evaluation:
    corrections: int = 0
    agreements: int = 0
    # confusion[model label][team label] = count, for the three labels
    confusion: dict = field(default_factory=dict)
    per_class: list = field(default_factory=list)  # (label, precision, recall, f1, support)
    macro_f1: float | None = None
    by_tier: list = field(default_factory=list)  # (tier, corrections, agreement share)
    by_language: list = field(default_factory=list)  # (lang, corrections, agreement share)
    unanalysed: int = 0  # corrections of mentions the model had no label for

    @property
    def agreement(self):
        return self.agreements / self.corrections if self.corrections else None


def evaluation(workspace):
    """How often the model agreed with the team's corrections, by label, tier and language.

    Corrections are a biased sample (people correct what looks wrong), so the page says the
    figures measure agreement on corrected mentions, not accuracy on all mentions."""
    rows = list(
        SentimentCorrection.objects.filter(workspace=workspace).values_list(
            "label", "model_label", "model_tier", "lang"
        )
    )
    result = Evaluation()
    result.confusion = {model: dict.fromkeys(LABELS, 0) for model in LABELS}
    tiers, languages = {}, {}
    for label, model_label, tier, lang in rows:
        if model_label not in LABELS:
            result.unanalysed += 1
            continue
        result.corrections += 1
        agreed = label == model_label
        result.agreements += agreed
        result.confusion[model_label][label] += 1
        for bucket, key in ((tiers, tier or "?"), (languages, lang or "und")):
            total, agree = bucket.get(key, (0, 0))
            bucket[key] = (total + 1, agree + agreed)
    f1s = []
    for label in LABELS:
        true_positive = result.confusion[label][label]
        predicted = sum(result.confusion[label].values())
        support = sum(result.confusion[model][label] for model in LABELS)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result.per_class.append((label, precision, recall, f1, support))
        if support:
            f1s.append(f1)
    result.macro_f1 = sum(f1s) / len(f1s) if f1s else None
    result.by_tier = [(key, n, agree / n) for key, (n, agree) in sorted(tiers.items())]
    result.by_language = [(key, n, agree / n) for key, (n, agree) in sorted(languages.items())]
    return result


def tier_names():
    """What produced a mention's sentiment, in words."""
    return {
        sentiment.FAST: _("fast model"),
        sentiment.ACCURATE: _("accurate model"),
        HUMAN: _("corrected by the team"),
    }
