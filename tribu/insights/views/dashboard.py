"""The listening dashboard, for the workspace and for one topic, with a CSV per chart
(`?format=csv&chart=<key>`)."""

from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tribu.core.access import workspace_view
from tribu.insights import charts
from tribu.insights.services import dashboard as service
from tribu.insights.views.links import bucket_url, period_url, stream_url
from tribu.listening.models import Sentiment, Topic

SENTIMENT_LABELS = {
    "negative": Sentiment.NEGATIVE.label,
    "neutral": Sentiment.NEUTRAL.label,
    "positive": Sentiment.POSITIVE.label,
    "unknown": Sentiment.UNKNOWN.label,
}
CHARTS = (
    "volume",
    "sentiment",
    "networks",
    "sources",
    "authors",
    "terms",
    "sov",
    "sov_sentiment",
    "sov_network",
)


def sentiment_label(value):
    if value == service.NOT_ANALYSED:
        return _("Not analysed")
    return str(SENTIMENT_LABELS.get(value, value))


@workspace_view("workspace.view")
@require_GET
def dashboard(request):
    return _dashboard(request, None)


@workspace_view("workspace.view")
def topic_dashboard(request, topic_id):
    # The look-up comes first: another workspace's topic is 404 whatever the method.
    topic = get_object_or_404(Topic, pk=topic_id, workspace=request.workspace)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _dashboard(request, topic)


def _dashboard(request, topic):
    workspace = request.workspace
    days = service.parse_days(request.GET.get("days"))
    period = service.period_for(workspace, days)
    key = service.scope_key(topic)
    wanted = request.GET.get("chart") if request.GET.get("format") == "csv" else None
    if wanted is not None and wanted not in CHARTS:
        raise Http404(_("There is no chart of that name."))

    def needed(*names):
        return wanted is None or wanted in names

    context = {
        "topic": topic,
        "period": period,
        "periods": service.PERIODS,
        "csv": {name: f"?days={days}&format=csv&chart={name}" for name in CHARTS},
    }
    if needed("volume", "sentiment", "networks"):
        volume = service.volume(workspace, key, period)
        context["volume"] = volume
        context["volume_chart"] = _volume_chart(workspace, topic, period, volume)
        context["sentiments"] = _sentiment_rows(workspace, topic, period, volume)
        context["sentiment_bar"] = charts.share_bar(
            "chart-sentiment",
            _("Sentiment split"),
            ", ".join(
                f"{row['label']}: {row['count']} ({row['percent']:.0f} %)"
                for row in context["sentiments"]
            ),
            [
                (row["label"], row["count"], f"sent-{row['key'] or 'none'}")
                for row in context["sentiments"]
            ],
        )
        context["networks"] = _network_rows(workspace, topic, period, volume)
        context["total_url"] = period_url(workspace, topic, period)
    if needed("sources"):
        context["sources"] = [
            (row, period_url(workspace, topic, period, source=row.key) if row.key else None)
            for row in service.top_sources(workspace, key, period)
        ]
    if needed("authors"):
        context["authors"] = [
            (row, period_url(workspace, topic, period, author=row.key))
            for row in service.top_authors(workspace, key, period)
        ]
    if needed("terms"):
        terms = service.top_terms(workspace, key, period)
        context["term_groups"] = [
            (
                kind,
                label,
                [
                    (term, count, period_url(workspace, topic, period, q=term))
                    for term, count in terms[kind]
                ],
            )
            for kind, label in _term_kind_labels()
        ]
    if needed("sov", "sov_sentiment", "sov_network"):
        sov = service.share_of_voice(workspace, period)
        context["sov"] = sov
        if sov is not None:
            context.update(_sov_context(workspace, period, sov))
    if wanted is not None:
        return _csv(wanted, context, topic, period)
    context["newest"] = service.newest_mentions(workspace, topic)
    context["topics"] = list(Topic.objects.filter(workspace=workspace).order_by("name", "id"))
    return render(request, "insights/dashboard.html", context)


def _term_kind_labels():
    return [
        ("word", _("Words")),
        ("hashtag", _("Hashtags")),
        ("handle", _("Accounts mentioned")),
        ("link", _("Links")),
    ]


def _volume_chart(workspace, topic, period, volume):
    labels = [bucket.label for bucket in volume.buckets]
    series = [
        charts.Series(
            sentiment_label(value),
            [bucket.counts.get(value, 0) for bucket in volume.buckets],
            css_class=f"sent-{value or 'none'}",
        )
        for value in (*service.SENTIMENTS, service.NOT_ANALYSED)
        if volume.by_sentiment.get(value)
    ]
    if not series:
        series = [charts.Series(_("Mentions"), [0] * len(labels), css_class="sent-none")]
    unit = _("hour") if period.hourly else _("day")
    chart = charts.Chart(
        key="chart-volume",
        title=_("Mentions per %(unit)s, by sentiment") % {"unit": unit},
        description=_(
            "%(total)s mentions over the last %(days)s days; busiest %(unit)s: %(peak)s "
            "with %(count)s mentions."
        )
        % {
            "total": volume.total,
            "days": period.days,
            "unit": unit,
            "peak": max(volume.buckets, key=lambda b: b.total).label if volume.buckets else "",
            "count": max((b.total for b in volume.buckets), default=0),
        },
        labels=labels,
        series=series,
        links=[bucket_url(workspace, topic, period, bucket) for bucket in volume.buckets],
    )
    return charts.stacked_bars(
        chart, tick_every=24 if period.hourly else 7 if period.days > 30 else None
    )


def _percent(count, total):
    return 100.0 * count / total if total else 0.0


def _sentiment_rows(workspace, topic, period, volume):
    total = volume.total
    rows = []
    for value in (*service.SENTIMENTS, service.NOT_ANALYSED):
        count = volume.by_sentiment.get(value, 0)
        if value == service.NOT_ANALYSED and not count:
            continue
        rows.append(
            {
                "key": value,
                "label": sentiment_label(value),
                "count": count,
                "percent": _percent(count, total),
                # The stream cannot select "not analysed" (an empty value): no link.
                "url": period_url(workspace, topic, period, sentiment=value) if value else None,
                "analysed": value in ("negative", "neutral", "positive"),
            }
        )
    return rows


def _network_rows(workspace, topic, period, volume):
    total = volume.total
    return [
        {
            "network": network,
            "count": count,
            "percent": _percent(count, total),
            "url": period_url(workspace, topic, period, network=network),
        }
        for network, count in volume.by_network.most_common(service.TOP)
    ]


def _sov_context(workspace, period, sov):
    shares = sov.daily_shares()
    labels = [day.strftime("%d/%m") for day in sov.days]
    chart = charts.Chart(
        key="chart-sov",
        title=_("Share of voice per day"),
        description=", ".join(
            _("%(topic)s: %(share).0f %% of %(total)s mentions")
            % {"topic": topic.name, "share": sov.share(topic.pk), "total": sov.total}
            for topic in sov.topics
        ),
        labels=labels,
        series=[
            charts.Series(topic.name, shares[topic.pk], colour=topic.colour) for topic in sov.topics
        ],
        links=[stream_url(workspace, since=day, until=day) for day in sov.days],
    )
    charts.stacked_bars(chart, percent=True, tick_every=7 if len(labels) > 30 else None)
    topics = []
    for topic in sov.topics:
        topics.append(
            {
                "topic": topic,
                "count": sov.totals.get(topic.pk, 0),
                "share": sov.share(topic.pk),
                "url": period_url(workspace, topic, period),
                "daily": sov.daily[topic.pk],
            }
        )
    sentiment_rows = []
    for value in (*service.SENTIMENTS, service.NOT_ANALYSED):
        counts = sov.by_sentiment.get(value)
        if not counts:
            continue
        sentiment_rows.append(
            {
                "label": sentiment_label(value),
                "cells": [
                    {
                        "count": counts.get(topic.pk, 0),
                        "share": sov.share(topic.pk, counts),
                        "url": period_url(workspace, topic, period, sentiment=value)
                        if value
                        else None,
                    }
                    for topic in sov.topics
                ],
            }
        )
    network_rows = []
    for network, counts in sorted(sov.by_network.items(), key=lambda item: -sum(item[1].values())):
        network_rows.append(
            {
                "label": network,
                "cells": [
                    {
                        "count": counts.get(topic.pk, 0),
                        "share": sov.share(topic.pk, counts),
                        "url": period_url(workspace, topic, period, network=network),
                    }
                    for topic in sov.topics
                ],
            }
        )
    return {
        "sov_chart": chart,
        "sov_topics": topics,
        "sov_sentiment": sentiment_rows,
        "sov_network": network_rows,
    }


def _csv(wanted, context, topic, period):
    scope = f"topic-{topic.pk}" if topic is not None else "workspace"
    filename = f"{wanted}-{scope}-{period.days}d.csv"
    if wanted == "volume":
        chart = context["volume_chart"]
        header, rows = charts.chart_csv(chart)
        header = [_("Period start"), *header[1:], _("Total")]
        rows = [[label, *values, sum(values)] for label, *values in rows]
        return charts.csv_response(filename, header, rows)
    if wanted == "sentiment":
        rows = [
            [row["label"], row["count"], round(row["percent"], 1)] for row in context["sentiments"]
        ]
        return charts.csv_response(filename, [_("Sentiment"), _("Mentions"), _("Share (%)")], rows)
    if wanted == "networks":
        rows = [
            [row["network"], row["count"], round(row["percent"], 1)] for row in context["networks"]
        ]
        return charts.csv_response(filename, [_("Network"), _("Mentions"), _("Share (%)")], rows)
    if wanted == "sources":
        rows = [[row.name or _("No source"), row.count] for row, _url in context["sources"]]
        return charts.csv_response(filename, [_("Source"), _("Mentions")], rows)
    if wanted == "authors":
        rows = [
            [row.name, row.obj.handle, row.obj.network, row.count, row.engagement]
            for row, _url in context["authors"]
        ]
        header = [_("Author"), _("Handle"), _("Network"), _("Mentions"), _("Engagement")]
        return charts.csv_response(filename, header, rows)
    if wanted == "terms":
        rows = [
            [str(label), term, count]
            for _kind, label, terms in context["term_groups"]
            for term, count, _url in terms
        ]
        return charts.csv_response(filename, [_("Kind"), _("Term"), _("Mentions")], rows)
    sov = context["sov"]
    if sov is None:
        raise Http404(_("Share of voice needs a brand topic and a competitor topic."))
    names = [topic.name for topic in sov.topics]
    if wanted == "sov":
        header = [_("Day"), *[f"{name} ({_('mentions')})" for name in names]]
        header += [f"{name} (%)" for name in names]
        shares = sov.daily_shares()
        rows = [
            [day.isoformat()]
            + [sov.daily[t.pk][index] for t in sov.topics]
            + [shares[t.pk][index] for t in sov.topics]
            for index, day in enumerate(sov.days)
        ]
        return charts.csv_response(filename, header, rows)
    key = "sov_sentiment" if wanted == "sov_sentiment" else "sov_network"
    first = _("Sentiment") if wanted == "sov_sentiment" else _("Network")
    header = [first, *[f"{name} ({_('mentions')})" for name in names]]
    header += [f"{name} (%)" for name in names]
    rows = [
        [row["label"]]
        + [cell["count"] for cell in row["cells"]]
        + [round(cell["share"], 1) for cell in row["cells"]]
        for row in context[key]
    ]
    return charts.csv_response(filename, header, rows)
