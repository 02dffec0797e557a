"""Sentiment: a team member corrects a mention's label; the evaluation page shows how the
model agrees with the team's corrections."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tribu.core.access import workspace_view
from tribu.insights.models import SentimentCorrection
from tribu.listening.models import Mention, Sentiment
from tribu.listening.services import analysis

RECENT_CORRECTIONS = 50


@workspace_view("mentions.correct")
def mention_sentiment(request, mention_id):
    # Looked up before the method check: another workspace's mention answers 404, not 405.
    mention = get_object_or_404(Mention, pk=mention_id, workspace=request.workspace)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    url = reverse("listening:mention", args=[request.workspace.slug, mention.pk])
    try:
        analysis.correct_sentiment(
            mention, request.POST.get("label", ""), actor=request.user, request=request
        )
    except analysis.CorrectionError as error:
        messages.error(request, str(error))
        return redirect(url)
    messages.success(request, _("Sentiment corrected. Thank you: the evaluation page counts it."))
    return redirect(url)


@workspace_view("workspace.view")
@require_GET
def sentiment_evaluation(request):
    result = analysis.evaluation(request.workspace)
    tier_names = analysis.tier_names()
    labels = {value: label for value, label in Sentiment.choices}
    confusion_rows = [
        (labels[model], [result.confusion[model][team] for team in analysis.LABELS])
        for model in analysis.LABELS
    ]
    recent = (
        SentimentCorrection.objects.filter(workspace=request.workspace)
        .select_related("mention", "corrected_by")
        .order_by("-corrected_at", "-id")[:RECENT_CORRECTIONS]
    )
    return render(
        request,
        "listening/sentiment_evaluation.html",
        {
            "result": result,
            "team_labels": [labels[label] for label in analysis.LABELS],
            "confusion_rows": confusion_rows,
            "per_class": [
                (labels[label], precision, recall, f1, support)
                for label, precision, recall, f1, support in result.per_class
            ],
            "recent": recent,
            "labels": labels,
            "by_tier": [
                (tier_names.get(tier, tier), count, share) for tier, count, share in result.by_tier
            ],
        },
    )
