"""Rising terms, hashtags, handles and links: this period against the previous one.

The statistic is the weighted log-odds ratio with an informative Dirichlet prior (Monroe,
Colaresi & Quinn 2008, "Fightin' Words", eq. 16 and 19). For a term w used y_w times among
n term uses now, y'_w among n' before, with prior counts a_w summing to a_0:

    delta_w = log((y_w + a_w) / (n + a_0 - y_w - a_w))
            - log((y'_w + a_w) / (n' + a_0 - y'_w - a_w))
    var_w   = 1 / (y_w + a_w) + 1 / (y'_w + a_w)
    z_w     = delta_w / sqrt(var_w)

The prior is the two periods' combined counts (a_w = y_w + y'_w, a_0 = n + n'): it shrinks
rare terms towards "no change", so 1 → 3 mentions scores far below 40 → 200, while the
z-score still rewards a big relative rise. Terms used fewer than MIN_COUNT times in the
current period are not ranked at all. Counts are mentions using the term (TermDay).
"""

import math
from dataclasses import dataclass

from django.db import connection

from tribu.insights import terms as term_extraction
from tribu.insights.models import TermDay
from tribu.insights.services.dashboard import TERM_KINDS, _day_param, cached

MIN_COUNT = 5
TOP = 10
SIGNIFICANT_Z = 1.96


@dataclass
class TrendingTerm:
    term: str
    kind: str
    now: int
    before: int
    delta: float
    z: float

    @property
    def significant(self):
        return self.z >= SIGNIFICANT_Z


def log_odds(y_now, y_before, n_now, n_before, a_w, a_0):
    """(delta, z) of one term, Monroe et al. eq. 16 and 19."""
    delta = math.log((y_now + a_w) / (n_now + a_0 - y_now - a_w)) - math.log(
        (y_before + a_w) / (n_before + a_0 - y_before - a_w)
    )
    variance = 1.0 / (y_now + a_w) + 1.0 / (y_before + a_w)
    return delta, delta / math.sqrt(variance)


def score(now_counts, before_counts, n_now, n_before, *, min_count=MIN_COUNT):
    """TrendingTerms for the terms of `now_counts` used at least `min_count` times, the
    prior being the combined counts; n_now/n_before are all term uses of each period
    (including terms not passed in). Highest z first."""
    a_0 = n_now + n_before
    scored = []
    if not n_now or not n_before:
        # One empty period: every term is "new"; rank by count (the z-score is undefined).
        for term, y in now_counts.items():
            if y >= min_count:
                kind = term_extraction.kind_of(term)
                scored.append(TrendingTerm(term, kind, y, before_counts.get(term, 0), 0.0, 0.0))
        scored.sort(key=lambda t: (-t.now, t.term))
        return scored
    for term, y in now_counts.items():
        if y < min_count:
            continue
        y_before = before_counts.get(term, 0)
        a_w = y + y_before
        delta, z = log_odds(y, y_before, n_now, n_before, a_w, a_0)
        scored.append(TrendingTerm(term, term_extraction.kind_of(term), y, y_before, delta, z))
    scored.sort(key=lambda t: (-t.z, t.term))
    return scored


def counts(workspace, key, period, *, min_count=MIN_COUNT):
    """({term: count now}, {term: count before}, n_now, n_before) for `period` and the one
    before it: one grouped query for the candidate terms, one for the totals."""
    previous = period.previous()
    table = TermDay._meta.db_table
    split = _day_param(period.first_day)
    bounds = [
        workspace.pk,
        key,
        _day_param(previous.first_day),
        _day_param(period.last_day),
    ]
    where = "workspace_id = %s AND topic_key = %s AND day >= %s AND day <= %s"
    now_sum = "SUM(CASE WHEN day >= %s THEN count ELSE 0 END)"
    before_sum = "SUM(CASE WHEN day < %s THEN count ELSE 0 END)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {now_sum}, {before_sum} FROM {table} WHERE {where}",  # noqa: S608
            [split, split, *bounds],
        )
        n_now, n_before = (int(value or 0) for value in cursor.fetchone())
        cursor.execute(
            f"SELECT term, {now_sum}, {before_sum} FROM {table} WHERE {where} "  # noqa: S608
            f"GROUP BY term HAVING {now_sum} >= %s",
            [split, split, *bounds, split, min_count],
        )
        now_counts, before_counts = {}, {}
        for term, y_now, y_before in cursor.fetchall():
            now_counts[term] = int(y_now)
            before_counts[term] = int(y_before)
    return now_counts, before_counts, n_now, n_before


def rising(workspace, key, period, *, limit=TOP, min_count=MIN_COUNT):
    """{kind: [TrendingTerm]}: the terms rising most in each kind (z > 0); cached for a
    few minutes like the dashboard's rankings."""
    return cached(
        "trends",
        workspace,
        key,
        period,
        lambda: _rising(workspace, key, period, limit, min_count),
        limit,
        min_count,
    )


def _rising(workspace, key, period, limit, min_count):
    now_counts, before_counts, n_now, n_before = counts(workspace, key, period, min_count=min_count)
    ranked = score(now_counts, before_counts, n_now, n_before, min_count=min_count)
    result = {kind: [] for kind in TERM_KINDS}
    for term in ranked:
        group = result[term.kind]
        if len(group) < limit and (term.z > 0 or not n_before):
            group.append(term)
    return result
