"""Pre-computes the dashboards' panels in the worker (see dashboard.cached).

Every WARM_SECONDS the tick enqueues one task per workspace; the task computes, for the
workspace and each of its topics and each period, the panels the dashboard, trends and
author pages read, and stores them in the shared cache. Pages then read one cache entry
each, whatever the number of mentions.
"""

import logging

from django.core.cache import cache
from django.utils import timezone

from tribu.core.models import Workspace
from tribu.core.tick import claimer
from tribu.insights.services import dashboard, influencers, trends
from tribu.listening.models import Topic

logger = logging.getLogger(__name__)

WARM_SECONDS = 5 * 60
WARM_LOCK = "insights:warm:tick"


def warm_workspace(workspace_id, now=None):
    """Recompute every cached panel of a workspace; returns how many scopes were warmed."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    scopes = [None, *Topic.objects.filter(workspace=workspace).order_by("pk")]
    token = dashboard.refreshing.set(True)
    try:
        for days in dashboard.PERIODS:
            period = dashboard.period_for(workspace, days, now=now)
            dashboard.share_of_voice(workspace, period)
            for topic in scopes:
                key = dashboard.scope_key(topic)
                dashboard.volume(workspace, key, period)
                dashboard.top_authors(workspace, key, period)
                dashboard.top_terms(workspace, key, period)
                trends.rising(workspace, key, period)
                for sort in influencers.SORTS:
                    influencers.ranked(workspace, key, period, sort)
    finally:
        dashboard.refreshing.reset(token)
    return len(scopes)


@claimer
def claim_dashboard_warmups(now):
    """Every WARM_SECONDS, one task per workspace. The cache lock (add only succeeds for
    the first worker in the window) keeps several workers from warming the same panels."""
    if not cache.add(WARM_LOCK, timezone.now().isoformat(), WARM_SECONDS):
        return 0
    from tribu.insights.tasks import warm_dashboards_task

    ids = list(Workspace.objects.values_list("pk", flat=True))
    for workspace_id in ids:
        warm_dashboards_task(workspace_id)
    return len(ids)
