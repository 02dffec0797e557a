"""tribu.insights.services.trends: weighted log-odds with an informative Dirichlet prior."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from tribu.insights.models import WORKSPACE_SCOPE
from tribu.insights.services import trends
from tribu.insights.services.dashboard import period_for
from tribu.listening.items import ParsedItem
from tribu.listening.services.ingest import ingest_items

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def test_log_odds_equals_the_hand_computation():
    # y = 200 of n = 1000 now, y' = 40 of n' = 1000 before; prior a_w = 240, a_0 = 2000.
    delta, z = trends.log_odds(200, 40, 1000, 1000, 240, 2000)
    by_hand = math.log(440 / 2560) - math.log(280 / 2720)  # log-odds now - before
    assert delta == pytest.approx(by_hand) == pytest.approx(0.51261, abs=1e-5)
    assert z == pytest.approx(by_hand / math.sqrt(1 / 440 + 1 / 280))
    assert z == pytest.approx(6.7054, abs=1e-4)


def test_a_big_rise_beats_a_small_one_and_rare_terms_are_not_ranked():
    now = {"forte": 200, "petite": 3, "rare": 2, "stable": 300, "baisse": 50}
    before = {"forte": 40, "petite": 1, "rare": 0, "stable": 300, "baisse": 200}
    ranked = trends.score(now, before, 1000, 1000, min_count=3)
    order = [term.term for term in ranked]
    assert order[0] == "forte"
    assert order.index("forte") < order.index("petite")
    assert "rare" not in order  # under the minimum count
    small = next(term for term in ranked if term.term == "petite")
    assert 0 < small.z < trends.SIGNIFICANT_Z  # 1 → 3 is not significant
    assert ranked[0].significant
    stable = next(term for term in ranked if term.term == "stable")
    assert stable.z == pytest.approx(0, abs=1e-9)
    assert ranked[-1].term == "baisse" and ranked[-1].z < 0


def test_an_empty_previous_period_ranks_by_count():
    ranked = trends.score({"a": 5, "b": 9, "c": 1}, {}, 15, 0, min_count=2)
    assert [(t.term, t.now, t.before) for t in ranked] == [("b", 9, 0), ("a", 5, 0)]


def item(n, text, days_ago):
    # The number keeps the texts apart (identical texts are one mention) and is no term.
    return ParsedItem(
        url=f"https://news.example/{n}",
        text=f"{text} {n}",
        published_at=NOW - timedelta(days=days_ago),
    )


def test_rising_reads_both_periods_from_the_aggregates(workspace):
    items = []
    n = 0
    for _ in range(12):  # this week: #soldes and "livraison" in 12 mentions
        n += 1
        items.append(item(n, "Les #soldes commencent, livraison offerte", 1))
    for _ in range(2):  # the week before: #soldes in 2, "livraison" in 8
        n += 1
        items.append(item(n, "Les #soldes bientôt, livraison lente", 9))
    for _ in range(6):
        n += 1
        items.append(item(n, "Encore une livraison en retard", 10))
    ingest_items(workspace.pk, items)
    period = period_for(workspace, 7, now=NOW)
    now_counts, before_counts, n_now, n_before = trends.counts(
        workspace, WORKSPACE_SCOPE, period, min_count=1
    )
    assert (now_counts["#soldes"], before_counts["#soldes"]) == (12, 2)
    assert (now_counts["livraison"], before_counts["livraison"]) == (12, 8)
    # n counts every term use: 12 mentions x 4 terms now; 2 x 4 + 6 x 2 before.
    assert (n_now, n_before) == (48, 20)
    rising = trends.rising(workspace, WORKSPACE_SCOPE, period)
    assert [t.term for t in rising["hashtag"]] == ["#soldes"]
    assert rising["hashtag"][0].z > 0
    words = [t.term for t in rising["word"]]
    assert "retard" not in words  # absent this period
    assert "commencent" in words
