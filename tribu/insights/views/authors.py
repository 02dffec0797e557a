"""Authors ranked by reach, activity and engagement; an author's page; the watch list."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tribu.core.access import can, workspace_view
from tribu.insights import charts
from tribu.insights.services import dashboard as periods
from tribu.insights.services import influencers as service
from tribu.insights.views.links import period_url, stream_url
from tribu.listening.models import Author, Topic


def _topic(request):
    topic_id = request.GET.get("topic") or ""
    if not topic_id:
        return None
    if not topic_id.isdigit():
        topic_id = "0"
    return get_object_or_404(Topic, pk=int(topic_id), workspace=request.workspace)


@workspace_view("workspace.view")
@require_GET
def authors(request):
    workspace = request.workspace
    topic = _topic(request)
    sort = request.GET.get("sort")
    sort = sort if sort in service.SORTS else service.DEFAULT_SORT
    period = periods.period_for(workspace, periods.parse_days(request.GET.get("days")))
    ranked = service.ranked(workspace, periods.scope_key(topic), period, sort)
    rows = [
        (stats, period_url(workspace, topic, period, author=stats.author.pk)) for stats in ranked
    ]
    if request.GET.get("format") == "csv":
        header = [_("Author"), _("Handle"), _("Network"), _("Followers"), _("Mentions"),
                  _("Engagement")]  # fmt: skip
        data = [
            [str(s.author), s.author.handle, s.author.network, s.reach, s.mentions, s.engagement]
            for s, _url in rows
        ]
        scope = f"topic-{topic.pk}" if topic is not None else "workspace"
        return charts.csv_response(f"authors-{scope}-{period.days}d.csv", header, data)
    context = {
        "rows": rows,
        "topic": topic,
        "topics": list(Topic.objects.filter(workspace=workspace).order_by("name", "id")),
        "sort": sort,
        "sorts": [
            ("activity", _("Activity")),
            ("reach", _("Reach")),
            ("engagement", _("Engagement")),
        ],
        "period": period,
        "periods": periods.PERIODS,
        "can_watch": can(request, "authors.watch"),
    }
    return render(request, "insights/authors.html", context)


@workspace_view("workspace.view")
def author_detail(request, author_id):
    workspace = request.workspace
    # The look-up comes first: another workspace's author is 404 whatever the method.
    author = get_object_or_404(Author, pk=author_id, workspace=workspace)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    period = periods.period_for(workspace, periods.parse_days(request.GET.get("days")))
    series = service.sentiment_over_time(author, period)
    labels = [day.strftime("%d/%m") for day in series.days]
    chart = charts.Chart(
        key="chart-author",
        title=_("Mentions by %(author)s per day, by sentiment") % {"author": author},
        description=_(
            "%(total)s mentions over the last %(days)s days: %(negative)s negative, "
            "%(positive)s positive, %(other)s neutral or not analysed."
        )
        % {
            "total": sum(series.mentions),
            "days": period.days,
            "negative": sum(series.negative),
            "positive": sum(series.positive),
            "other": sum(series.other),
        },
        labels=labels,
        series=[
            charts.Series(_("Negative"), series.negative, css_class="sent-negative"),
            charts.Series(_("Positive"), series.positive, css_class="sent-positive"),
            charts.Series(_("Neutral or not analysed"), series.other, css_class="sent-neutral"),
        ],
        links=[
            stream_url(workspace, since=day, until=day, author=author.pk) for day in series.days
        ],
    )
    charts.stacked_bars(chart, tick_every=7 if len(labels) > 30 else None)
    if request.GET.get("format") == "csv":
        header, data = charts.chart_csv(chart)
        return charts.csv_response(
            f"author-{author.pk}-{period.days}d.csv", [_("Day"), *header[1:]], data
        )
    total, engagement = service.author_totals(author, period)
    context = {
        "author": author,
        "chart": chart,
        "period": period,
        "periods": periods.PERIODS,
        "mentions": service.author_mentions(author),
        "total": total,
        "engagement": engagement,
        "all_url": stream_url(workspace, author=author.pk),
        "csv_url": f"?days={period.days}&format=csv",
        "can_watch": can(request, "authors.watch"),
    }
    return render(request, "insights/author.html", context)


@workspace_view("workspace.view")
@require_GET
def watchlist(request):
    context = {
        "authors": service.watchlist(request.workspace),
        "can_watch": can(request, "authors.watch"),
    }
    return render(request, "insights/watchlist.html", context)


@workspace_view("authors.watch")
def author_watch(request, author_id):
    """POST watch=1 adds the author to the watch list, watch=0 removes them."""
    author = get_object_or_404(Author, pk=author_id, workspace=request.workspace)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    watched = request.POST.get("watch") == "1"
    if service.set_watched(author, watched, request=request):
        if watched:
            messages.success(request, _("%(author)s is on the watch list.") % {"author": author})
        else:
            messages.success(
                request, _("%(author)s is no longer on the watch list.") % {"author": author}
            )
    default = reverse("insights:author", args=[request.workspace.slug, author.pk])
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)
