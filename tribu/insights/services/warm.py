"""Pre-computes the dashboards' panels in the worker (see dashboard.cached).

Every WARM_SECONDS the tick enqueues one task per workspace; the task computes, for the
workspace and each of its topics and each period, the panels the dashboard, trends and
author pages read, and stores them in the shared cache. Pages then read one cache entry
each, whatever the number of mentions.
"""

import logging
import zoneinfo

from django.core.cache import cache
from django.utils import timezone

from tribu.core.models import Workspace
from tribu.core.tick import claimer
from tribu.insights.services import dashboard, influencers, trends
from tribu.listening.models import Topic

logger = logging.getLogger(__name__)

WARM_SECONDS = 5 * 60
WARM_LOCK = "insights:warm:tick"
DAY_LOCK_SECONDS = 2 * 24 * 3600


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


# Workspace id -> the local day this worker last saw it in (saves a cache call per
# workspace per tick).
_days_seen = {}


@claimer
def claim_dashboard_warmups(now):
    """Every WARM_SECONDS, one task per workspace; and at once for a workspace whose local
    day has just begun. Its periods moved at midnight, so every cached panel became another
    day's: without this, pages would compute their own panels (up to a second or more on a
    busy workspace) until the next round. Cache locks (add only succeeds for the first
    worker) keep several workers from warming the same panels."""
    from tribu.insights.tasks import warm_dashboards_task

    round_due = cache.add(WARM_LOCK, timezone.now().isoformat(), WARM_SECONDS)
    enqueued = 0
    for workspace_id, zone in Workspace.objects.values_list("pk", "timezone"):
        day = timezone.localtime(now, zoneinfo.ZoneInfo(zone)).date()
        new_day = _days_seen.get(workspace_id) != day
        _days_seen[workspace_id] = day
        if new_day:
            new_day = cache.add(f"insights:warm:day:{workspace_id}:{day}", 1, DAY_LOCK_SECONDS)
        if round_due or new_day:
            warm_dashboards_task(workspace_id)
            enqueued += 1
    return enqueued
