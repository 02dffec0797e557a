"""tribu.insights.services.influencers: rankings equal the mentions; the watch list."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from tribu.core.models import AuditEvent
from tribu.insights.models import WORKSPACE_SCOPE
from tribu.insights.services import influencers
from tribu.insights.services.dashboard import period_for
from tribu.listening.items import ParsedItem
from tribu.listening.models import Author, Mention
from tribu.listening.services.ingest import ingest_items

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
NEGATIVE = "Service client catastrophique, livraison en retard, je suis vraiment très déçu."


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.fixture
def authors(workspace):
    # (handle, followers, mentions, likes each)
    plan = [("@star", 90_000, 1, 500), ("@busy", 10, 5, 1), ("@mid", 2_000, 3, 20)]
    items = []
    n = 0
    for handle, followers, count, likes in plan:
        for k in range(count):
            n += 1
            items.append(
                ParsedItem(
                    url=f"https://social.example/{n}",
                    text=NEGATIVE if handle == "@busy" and k == 0 else f"Bonjour numéro {n}",
                    author_handle=handle,
                    author_followers=followers,
                    network="mastodon",
                    published_at=NOW - timedelta(hours=n),
                    engagement={"likes": likes},
                )
            )
    ingest_items(workspace.pk, items)
    return {a.handle: a for a in Author.objects.filter(workspace=workspace)}


def test_rankings_by_activity_reach_and_engagement(workspace, authors):
    period = period_for(workspace, 7, now=NOW)
    by = {
        sort: [
            s.author.handle for s in influencers.ranked(workspace, WORKSPACE_SCOPE, period, sort)
        ]
        for sort in influencers.SORTS
    }
    assert by["activity"] == ["@busy", "@mid", "@star"]
    assert by["reach"] == ["@star", "@mid", "@busy"]
    assert by["engagement"] == ["@star", "@mid", "@busy"]
    stats = {s.author.handle: s for s in influencers.ranked(workspace, WORKSPACE_SCOPE, period)}
    counts = Counter(Mention.objects.values_list("author__handle", flat=True))
    assert {handle: s.mentions for handle, s in stats.items()} == counts
    assert stats["@mid"].engagement == 60
    busy_negative = Mention.objects.filter(author__handle="@busy", sentiment="negative").count()
    assert stats["@busy"].negative == busy_negative


def test_author_mentions_newest_first_and_sentiment_over_time(workspace, authors):
    busy = authors["@busy"]
    mentions = influencers.author_mentions(busy)
    assert [m.published_at for m in mentions] == sorted(
        (m.published_at for m in Mention.objects.filter(author=busy)), reverse=True
    )
    period = period_for(workspace, 7, now=NOW)
    series = influencers.sentiment_over_time(busy, period)
    assert len(series.days) == 7
    assert sum(series.mentions) == 5
    assert sum(series.negative) == Mention.objects.filter(author=busy, sentiment="negative").count()
    assert sum(series.other) == 5 - sum(series.negative) - sum(series.positive)
    assert influencers.author_totals(busy, period) == (5, 5)


def test_watching_is_audited_once(workspace, authors, user):
    star = authors["@star"]
    assert influencers.set_watched(star, True, actor=user)
    assert not influencers.set_watched(star, True, actor=user)  # already watched
    assert star.watched and star.watched_at is not None
    assert [a.handle for a in influencers.watchlist(workspace)] == ["@star"]
    assert influencers.set_watched(star, False, actor=user)
    assert influencers.watchlist(workspace) == []
    actions = list(AuditEvent.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert actions.count("author.watched") == 1
    assert actions.count("author.unwatched") == 1
