"""tribu.insights.services.warm: the worker pre-computes the panels pages read."""

from datetime import UTC, date, datetime, timedelta

import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribu.insights.services import dashboard, influencers, trends, warm
from tribu.listening.items import ParsedItem
from tribu.listening.services import topics
from tribu.listening.services.ingest import ingest_items

NOW = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)


def seed(workspace, count=6, first=0):
    items = [
        ParsedItem(
            url=f"https://blog.example/{n}",
            text=f"Tribu livraison numéro {n}, un texte assez long pour compter.",
            author_handle=f"@auteur{n % 2}",
            published_at=NOW - timedelta(hours=n + 1),
        )
        for n in range(first, first + count)
    ]
    ingest_items(workspace.pk, items, now=NOW)


def panels(workspace, topic, period):
    for key in (dashboard.WORKSPACE_SCOPE, topic.pk):
        yield dashboard.volume(workspace, key, period)
        yield dashboard.top_authors(workspace, key, period)
        yield dashboard.top_terms(workspace, key, period)
        yield trends.rising(workspace, key, period)


def test_pages_read_panels_without_touching_the_aggregates(workspace):
    topic = topics.create_topic(workspace, name="Tribu", query="tribu")
    seed(workspace)
    with time_machine.travel(NOW, tick=False):
        assert warm.warm_workspace(workspace.pk) == 2  # the workspace and its topic
        period = dashboard.period_for(workspace, 30)
        with CaptureQueriesContext(connection) as queries:
            results = list(panels(workspace, topic, period))
        assert queries.captured_queries == []
        assert results[0].total == 6
        # Author rankings read their watch flags fresh, one small query.
        with CaptureQueriesContext(connection) as queries:
            ranked = influencers.ranked(workspace, topic.pk, period)
        assert len(queries.captured_queries) == 1 and len(ranked) == 2


def test_warming_replaces_older_figures(workspace):
    seed(workspace)
    with time_machine.travel(NOW, tick=False):
        period = dashboard.period_for(workspace, 7)
        assert dashboard.volume(workspace, 0, period).total == 6
        seed(workspace, count=3, first=10)
        # A fresh entry is served as is until the worker refreshes it…
        assert dashboard.volume(workspace, 0, period).total == 6
        warm.warm_workspace(workspace.pk)
        assert dashboard.volume(workspace, 0, period).total == 9
    # …and an entry older than FRESH_SECONDS is recomputed by the request itself.
    seed(workspace, count=1, first=20)
    later = NOW + timedelta(seconds=dashboard.FRESH_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        period = dashboard.period_for(workspace, 7)
        assert dashboard.volume(workspace, 0, period).total == 10


def test_the_claimer_warms_each_workspace_once_per_interval(workspace, make_workspace):
    other = make_workspace()
    seed(workspace)
    cache.clear()
    assert warm.claim_dashboard_warmups(NOW) == 2  # huey runs the tasks inline in tests
    period = dashboard.period_for(workspace, 30)
    assert cache.get(f"insights:volume:{workspace.pk}:0:30") is not None
    assert cache.get(f"insights:volume:{other.pk}:0:30") is not None
    assert warm.claim_dashboard_warmups(NOW) == 0
    assert period.days == 30


def test_a_workspace_is_warmed_as_soon_as_its_local_day_begins(workspace, make_workspace):
    montreal = make_workspace()
    montreal.timezone = "America/Montreal"
    montreal.save()
    seed(workspace)
    cache.clear()
    warm._days_seen.clear()
    assert warm.claim_dashboard_warmups(NOW) == 2  # the round: both workspaces
    paris_midnight = datetime(2025, 3, 5, 23, 0, tzinfo=UTC)
    with time_machine.travel(paris_midnight - timedelta(seconds=5), tick=False):
        assert warm.claim_dashboard_warmups(timezone.now()) == 0  # same day everywhere
    with time_machine.travel(paris_midnight + timedelta(seconds=5), tick=False):
        # Midnight in Paris, not yet in Montreal: only the Paris workspace, before the round.
        assert warm.claim_dashboard_warmups(timezone.now()) == 1
        period = dashboard.period_for(workspace, 30)
        assert period.last_day == date(2025, 3, 6)
        entry = cache.get(f"insights:volume:{workspace.pk}:0:30")
        assert entry["first_day"] == period.first_day
        assert warm.claim_dashboard_warmups(timezone.now()) == 0
        # Another worker, which has not seen the new day yet, finds it already claimed.
        warm._days_seen.clear()
        assert warm.claim_dashboard_warmups(timezone.now()) == 0


def test_a_deleted_workspace_is_skipped(workspace):
    assert warm.warm_workspace(workspace.pk + 1000) == 0
