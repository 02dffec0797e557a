"""The mention stream: filters and search, cursor pagination, triage (one mention, a
selection, or everything the filter shows), the mention page and the CSV export."""

import csv

from django.contrib import messages
from django.http import HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tribu.core.access import can, workspace_view
from tribu.insights.models import SentimentCorrection
from tribu.listening.forms import StreamFilterForm
from tribu.listening.models import Author, Mention, Sentiment
from tribu.listening.services import analysis
from tribu.listening.services import mentions as service
from tribu.listening.views.palette import colour_class

# POSTed action → (flag, value) for services.mentions.set_flag.
ACTIONS = {
    "read": ("read", True),
    "unread": ("read", False),
    "star": ("starred", True),
    "unstar": ("starred", False),
    "hide": ("hidden", True),
    "unhide": ("hidden", False),
}
# Filters that narrow the stream; "order" only sorts it.
NARROWING = (
    "topic",
    "source",
    "network",
    "lang",
    "sentiment",
    "author",
    "since",
    "until",
    "read",
    "starred",
    "q",
)


def _decorate(mentions):
    """Topic chips in each topic's palette colour, in name order."""
    for mention in mentions:
        topics = sorted(mention.topics.all(), key=lambda topic: topic.name.casefold())
        mention.chips = [(topic, colour_class(topic.colour)) for topic in topics]
    return mentions


def _stream_url(workspace, params):
    url = reverse("listening:stream", args=[workspace.slug])
    return f"{url}?{urlencode(params)}" if params else url


@workspace_view("workspace.view")
@require_GET
def stream(request):
    workspace = request.workspace
    filters = service.StreamFilters.from_params(request.GET)
    params = filters.as_params()
    mentions, cursor = service.page(
        service.with_topics(service.stream(workspace, filters)), request.GET.get("cursor")
    )
    _decorate(mentions)
    next_url = _stream_url(workspace, {**params, "cursor": cursor}) if cursor else None
    context = {
        "mentions": mentions,
        "next_url": next_url,
        "can_triage": can(request, "mentions.triage"),
        "return_url": request.get_full_path(),
    }
    if request.htmx and request.GET.get("cursor"):
        # "Older mentions" through HTMX: the next items, replacing the button.
        return render(request, "listening/_stream_items.html", context)
    form = StreamFilterForm(request.GET, workspace=workspace)
    active = [name for name in NARROWING if name in params and name != "q"]
    if filters.hidden is not False:
        active.append("hidden")
    context.update(
        {
            "filters": form,
            "filter_selects": [
                form[name]
                for name in (
                    "topic",
                    "source",
                    "network",
                    "lang",
                    "sentiment",
                    "read",
                    "since",
                    "until",
                )
            ]
            + [form["order"]],
            "starred": bool(filters.starred),
            "show_hidden": filters.hidden is None,
            "active": bool(active),
            "active_count": len(active),
            "query_string": urlencode(params),
            "has_topics": bool(form.topics),
            "author": Author.objects.filter(workspace=workspace, pk=filters.author).first()
            if filters.author is not None
            else None,
        }
    )
    return render(request, "listening/stream.html", context)


def _back(request, default):
    """The stream page the action came from, if it is one of ours."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) and target.startswith("/"):
        return target
    return default


@workspace_view("mentions.triage")
def mention_triage(request, mention_id):
    """Mark one mention read/unread, starred/unstarred, hidden/shown. With HTMX the
    response is the updated item; without, a redirect back to the stream."""
    mention = get_object_or_404(Mention, pk=mention_id, workspace=request.workspace)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    stream_url = reverse("listening:stream", args=[request.workspace.slug])
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, _("Choose an action: read, unread, star, unstar, hide or show."))
        return redirect(_back(request, stream_url))
    flag, value = ACTIONS[action]
    service.set_flag(request.workspace, [mention.pk], flag, value)
    if request.htmx:
        mention = get_object_or_404(
            service.with_topics(Mention.objects.filter(workspace=request.workspace)),
            pk=mention.pk,
        )
        _decorate([mention])
        return render(
            request,
            "listening/_mention.html",
            {"m": mention, "can_triage": True, "return_url": _back(request, stream_url)},
        )
    return redirect(f"{_back(request, stream_url)}#mention-{mention.pk}")


@workspace_view("mentions.triage")
@require_POST
def mention_bulk(request):
    stream_url = reverse("listening:stream", args=[request.workspace.slug])
    action = request.POST.get("action", "")
    ids = request.POST.getlist("ids")
    if action not in ACTIONS or not ids:
        messages.error(
            request, _("Select mentions with their checkboxes, then choose what to do with them.")
        )
        return redirect(_back(request, stream_url))
    flag, value = ACTIONS[action]
    changed = service.set_flag(request.workspace, ids, flag, value)
    messages.success(
        request,
        ngettext("%(count)s mention updated.", "%(count)s mentions updated.", changed)
        % {"count": changed},
    )
    return redirect(_back(request, stream_url))


@workspace_view("mentions.triage")
@require_POST
def mention_read_all(request):
    """Mark as read every mention of the filtered stream: the filters come in the query
    string, exactly as the stream page had them."""
    filters = service.StreamFilters.from_params(request.GET)
    changed = service.set_flag_for_stream(request.workspace, filters, "read", True)
    messages.success(
        request,
        ngettext("%(count)s mention marked as read.", "%(count)s mentions marked as read.", changed)
        % {"count": changed},
    )
    return redirect(_back(request, _stream_url(request.workspace, filters.as_params())))


@workspace_view("workspace.view")
def mention_detail(request, mention_id):
    mention = get_object_or_404(
        service.with_topics(Mention.objects.filter(workspace=request.workspace)), pk=mention_id
    )
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    _decorate([mention])
    stream_url = reverse("listening:stream", args=[request.workspace.slug])
    correction = (
        SentimentCorrection.objects.filter(mention=mention).select_related("corrected_by").first()
    )
    labels = dict(Sentiment.choices)
    return render(
        request,
        "listening/mention.html",
        {
            "mention": mention,
            "copies": mention.copies.all()[:100],
            "engagement": sorted((mention.engagement or {}).items()),
            "raw": sorted((mention.raw or {}).items())[:30],
            "can_triage": can(request, "mentions.triage"),
            "can_correct": can(request, "mentions.correct"),
            "correction": correction,
            "model_label": labels.get(correction.model_label, "") if correction else "",
            "sentiment_choices": [c for c in Sentiment.choices if c[0] != Sentiment.UNKNOWN],
            "tier_label": analysis.tier_names().get(mention.sentiment_tier, ""),
            "return_url": request.get_full_path(),
            "back_url": stream_url,
        },
    )


class _Echo:
    """csv.writer writes into this and gets the line back, for a streamed response."""

    def write(self, value):
        return value


@workspace_view("workspace.view")
@require_GET
def stream_csv(request):
    filters = service.StreamFilters.from_params(request.GET)
    writer = csv.writer(_Echo())
    rows = service.csv_rows(request.workspace, filters)
    response = StreamingHttpResponse(
        _lines(writer, rows, translation.get_language()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="mentions-{request.workspace.slug}.csv"'
    )
    return response


def _lines(writer, rows, language):
    """The CSV lines. The response is iterated after the view has returned, when the
    request's language is no longer active: the column names need it back."""
    with translation.override(language):
        # A byte-order mark, so that spreadsheets read the accents as UTF-8.
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)
