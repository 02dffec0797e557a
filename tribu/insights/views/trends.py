"""Rising terms, hashtags, accounts and links, for the workspace or one topic."""

from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tribu.core.access import workspace_view
from tribu.insights import charts
from tribu.insights.services import dashboard as periods
from tribu.insights.services import trends as service
from tribu.insights.views.dashboard import _term_kind_labels
from tribu.insights.views.links import period_url
from tribu.listening.models import Topic


@workspace_view("workspace.view")
@require_GET
def trends(request):
    workspace = request.workspace
    topics = list(Topic.objects.filter(workspace=workspace).order_by("name", "id"))
    topic = None
    topic_id = request.GET.get("topic") or ""
    if topic_id:
        if not topic_id.isdigit():
            topic_id = "0"
        topic = get_object_or_404(Topic, pk=int(topic_id), workspace=workspace)
    days = periods.parse_days(request.GET.get("days"))
    period = periods.period_for(workspace, days)
    rising = service.rising(workspace, periods.scope_key(topic), period)
    groups = [
        (
            kind,
            label,
            [(term, period_url(workspace, topic, period, q=term.term)) for term in rising[kind]],
        )
        for kind, label in _term_kind_labels()
    ]
    if request.GET.get("format") == "csv":
        scope = f"topic-{topic.pk}" if topic is not None else "workspace"
        header = [_("Kind"), _("Term"), _("Now"), _("Before"), _("z-score")]
        rows = [
            [str(label), term.term, term.now, term.before, round(term.z, 2)]
            for _kind, label, terms in groups
            for term, _url in terms
        ]
        return charts.csv_response(f"trends-{scope}-{period.days}d.csv", header, rows)
    context = {
        "topic": topic,
        "topics": topics,
        "period": period,
        "previous": period.previous(),
        "periods": periods.PERIODS,
        "groups": groups,
        "min_count": service.MIN_COUNT,
        "significant_z": service.SIGNIFICANT_Z,
    }
    return render(request, "insights/trends.html", context)
