"""The listening dashboard: volume over time, sentiment, networks, sources, authors, terms
and share of voice, for a workspace or one topic, over the last 7, 30 or 90 days.

Everything reads the aggregates (insights/models.py), never the mentions: a 90-day page at
a million mentions reads a few thousand VolumeBucket rows and grouped day rows. A period is
a number of LOCAL days in the workspace's time zone ending today; hourly buckets are
grouped into local days here, day aggregates (sources, authors, terms) are UTC days with
the same dates, which moves the edges by the zone's offset at most (see models.py).
"""

import time as time_module
from collections import Counter, defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from tribu.insights.models import WORKSPACE_SCOPE, AuthorDay, SourceDay, TermDay, VolumeBucket
from tribu.insights.services.aggregates import hour_of
from tribu.listening.models import Author, Mention, Source, Topic

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
HOURLY_UP_TO_DAYS = 7
TOP = 10
SENTIMENTS = ("negative", "neutral", "positive", "unknown")
NOT_ANALYSED = ""  # mentions stored before analysis existed
TERM_KINDS = ("word", "hashtag", "handle", "link")


@dataclass(frozen=True)
class Period:
    """`days` local days ending today: [since, until) in UTC."""

    days: int
    tz: object
    first_day: date  # local
    last_day: date  # local, today
    since: datetime  # UTC, local midnight of first_day
    until: datetime  # UTC, now

    @property
    def hourly(self):
        return self.days <= HOURLY_UP_TO_DAYS

    def previous(self):
        """The period of the same length just before this one."""
        first = self.first_day - timedelta(days=self.days)
        return Period(
            days=self.days,
            tz=self.tz,
            first_day=first,
            last_day=self.first_day - timedelta(days=1),
            since=local_midnight(first, self.tz),
            until=self.since,
        )


def local_midnight(day, tz):
    return timezone.make_aware(datetime.combine(day, time.min), tz).astimezone(UTC)


def parse_days(value):
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def period_for(workspace, days, now=None):
    tz = workspace.tzinfo
    now = now or timezone.now()
    today = timezone.localtime(now, tz).date()
    first = today - timedelta(days=days - 1)
    return Period(
        days=days,
        tz=tz,
        first_day=first,
        last_day=today,
        since=local_midnight(first, tz),
        until=now.astimezone(UTC),
    )


# Panels are pre-computed by the worker (services/warm.py, every WARM_SECONDS) into the
# shared cache, so a request reads one cache entry instead of grouping up to a million day
# rows (seconds at 90 days for a very busy workspace). An entry older than FRESH_SECONDS,
# or computed for another first day (after local midnight), is recomputed by the request
# itself: a missed warm-up slows a page, it never shows stale figures for long.
FRESH_SECONDS = 15 * 60
# Set by the warmer: compute and store every panel even when a fresh entry exists.
refreshing = ContextVar("insights_refreshing", default=False)


def cached(name, workspace, key, period, compute, *extra):
    cache_key = ":".join(
        str(part) for part in ("insights", name, workspace.pk, key, period.days, *extra)
    )
    now = time_module.time()
    if not refreshing.get():
        entry = cache.get(cache_key)
        if (
            entry is not None
            and entry["first_day"] == period.first_day
            and now - entry["at"] < FRESH_SECONDS
        ):
            return entry["value"]
    value = compute()
    cache.set(
        cache_key,
        {"value": value, "at": now, "first_day": period.first_day},
        FRESH_SECONDS * 2,
    )
    return value


def scope_key(topic):
    return topic.pk if topic is not None else WORKSPACE_SCOPE


def _day_param(day):
    """A date as the day aggregates store it (SQLite keeps dates as text)."""
    return TermDay._meta.get_field("day").get_db_prep_value(day, connection)


# Volume, sentiment and networks (VolumeBucket) -------------------------------------------


@dataclass
class Bucket:
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    label: str
    counts: Counter = field(default_factory=Counter)  # by sentiment

    @property
    def total(self):
        return sum(self.counts.values())


@dataclass
class Volume:
    buckets: list
    by_sentiment: Counter
    by_network: Counter

    @property
    def total(self):
        return sum(self.by_sentiment.values())


def _buckets(period):
    tz = period.tz
    if period.hourly:
        buckets = []
        hour = hour_of(period.since)
        last = hour_of(period.until)
        while hour <= last:
            local = timezone.localtime(hour, tz)
            label = local.strftime("%d/%m %H:00")
            buckets.append(Bucket(hour, hour + timedelta(hours=1), label))
            hour += timedelta(hours=1)
        return buckets
    buckets = []
    day = period.first_day
    while day <= period.last_day:
        start = local_midnight(day, tz)
        end = local_midnight(day + timedelta(days=1), tz)
        buckets.append(Bucket(start, min(end, period.until), day.strftime("%d/%m")))
        day += timedelta(days=1)
    return buckets


def _hours(workspace, keys, period):
    """(topic_key, UTC hour, network, sentiment, count) rows of the scopes in the period, in
    one index range scan. Each distinct hour is converted once (the ORM would parse every
    row's timestamp, which dominated the page at a million mentions)."""
    table = VolumeBucket._meta.db_table
    hour_field = VolumeBucket._meta.get_field("hour")
    marks = ", ".join(["%s"] * len(keys))
    sql = (
        f"SELECT topic_key, hour, network, sentiment, count FROM {table} "  # noqa: S608
        f"WHERE workspace_id = %s AND topic_key IN ({marks}) AND hour >= %s AND hour < %s"
    )
    params = [
        workspace.pk,
        *keys,
        hour_field.get_db_prep_value(period.since, connection),
        hour_field.get_db_prep_value(period.until, connection),
    ]
    converters = connection.ops.get_db_converters(hour_field.get_col(table))
    parsed = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for topic_key, raw_hour, network, sentiment, count in rows:
        hour = parsed.get(raw_hour)
        if hour is None:
            hour = raw_hour
            for converter in converters:
                hour = converter(hour, None, connection)
            if isinstance(hour, str):
                hour = datetime.fromisoformat(hour)
            if timezone.is_naive(hour):
                hour = hour.replace(tzinfo=UTC)
            parsed[raw_hour] = hour
        yield topic_key, hour, network, sentiment, count


def _local_days(period):
    """{UTC hour: local date} for the period's hours, computed once per hour."""
    cache = {}

    def day_of(hour):
        day = cache.get(hour)
        if day is None:
            day = cache[hour] = timezone.localtime(hour, period.tz).date()
        return day

    return day_of


def volume(workspace, key, period):
    """Counts per bucket and sentiment, and per network (one query; cached for a few
    minutes like the rankings, see FRESH_SECONDS)."""
    return cached("volume", workspace, key, period, lambda: _volume(workspace, key, period))


def _volume(workspace, key, period):
    buckets = _buckets(period)
    by_sentiment, by_network = Counter(), Counter()
    if period.hourly:
        index = {bucket.start: bucket for bucket in buckets}
    else:
        index = {bucket.start.astimezone(period.tz).date(): bucket for bucket in buckets}
    day_of = _local_days(period)
    for _key, hour, network, sentiment, count in _hours(workspace, [key], period):
        by_sentiment[sentiment] += count
        by_network[network] += count
        bucket = index.get(hour if period.hourly else day_of(hour))
        if bucket is not None:
            bucket.counts[sentiment] += count
    return Volume(buckets, by_sentiment, by_network)


# Sources, authors, terms (day aggregates) ------------------------------------------------


def _days(model, workspace, key, period):
    return model.objects.filter(
        workspace=workspace,
        topic_key=key,
        day__gte=period.first_day,
        day__lte=period.last_day,
    )


@dataclass
class Ranked:
    key: int
    name: str
    count: int
    obj: object = None
    engagement: int = 0


def top_sources(workspace, key, period, limit=TOP):
    rows = list(
        _days(SourceDay, workspace, key, period)
        .values("source_key")
        .annotate(total=Sum("count"))
        .filter(total__gt=0)
        .order_by("-total", "source_key")[:limit]
    )
    sources = Source.objects.filter(
        workspace=workspace, pk__in=[row["source_key"] for row in rows]
    ).only("id", "name", "url")
    names = {source.pk: str(source) for source in sources}
    return [
        Ranked(row["source_key"], names.get(row["source_key"], ""), row["total"]) for row in rows
    ]


def top_authors(workspace, key, period, limit=TOP):
    return cached(
        "top_authors",
        workspace,
        key,
        period,
        lambda: _top_authors(workspace, key, period, limit),
        limit,
    )


def _top_authors(workspace, key, period, limit):
    rows = list(
        _days(AuthorDay, workspace, key, period)
        .values("author_key")
        .annotate(total=Sum("count"), engaged=Sum("engagement"))
        .filter(total__gt=0)
        .order_by("-total", "author_key")[:limit]
    )
    authors = Author.objects.filter(workspace=workspace).in_bulk(
        [row["author_key"] for row in rows]
    )
    return [
        Ranked(
            row["author_key"],
            str(authors[row["author_key"]]),
            row["total"],
            authors[row["author_key"]],
            row["engaged"] or 0,
        )
        for row in rows
        if row["author_key"] in authors
    ]


# Term kinds in SQL, the same rules as terms.kind_of (checked by the tests).
KIND_SQL = (
    "CASE WHEN term LIKE '#%%' THEN 'hashtag' WHEN term LIKE '@%%' THEN 'handle' "
    "WHEN term LIKE '%%/%%' OR term LIKE '%%.%%' THEN 'link' ELSE 'word' END"
)


def top_terms(workspace, key, period, limit=TOP):
    """{kind: [(term, count)]}: the most used words, hashtags, handles and links, in one
    grouped query ranked per kind by a window function (cached, see FRESH_SECONDS)."""
    return cached(
        "terms", workspace, key, period, lambda: _top_terms(workspace, key, period, limit), limit
    )


def _top_terms(workspace, key, period, limit):
    table = TermDay._meta.db_table
    sql = (
        "SELECT term, total, kind FROM ("  # noqa: S608 (constants only)
        " SELECT term, total, kind, ROW_NUMBER() OVER"
        " (PARTITION BY kind ORDER BY total DESC, term) AS position FROM ("
        f"  SELECT term, SUM(count) AS total, {KIND_SQL} AS kind FROM {table}"
        "   WHERE workspace_id = %s AND topic_key = %s AND day >= %s AND day <= %s"
        "   GROUP BY term) grouped"
        ") ranked WHERE position <= %s ORDER BY kind, total DESC, term"
    )
    params = [
        workspace.pk,
        key,
        _day_param(period.first_day),
        _day_param(period.last_day),
        limit,
    ]
    result = {kind: [] for kind in TERM_KINDS}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for term, total, kind in cursor.fetchall():
            result[kind].append((term, int(total)))
    return result


def newest_mentions(workspace, topic, limit=5):
    """The few newest mentions shown under the charts (one indexed query)."""
    queryset = Mention.objects.filter(workspace=workspace, hidden=False)
    if topic is not None:
        queryset = Mention.objects.filter(
            topic_links__topic_id=topic.pk, topic_links__workspace=workspace, hidden=False
        ).order_by("-topic_links__sort_key")
    else:
        queryset = queryset.order_by("-sort_key")
    return list(queryset.select_related("source")[:limit])


# Share of voice ------------------------------------------------------------------------


@dataclass
class ShareOfVoice:
    topics: list  # brand topics first, then competitors
    days: list  # local dates
    daily: dict  # topic id -> [count per day]
    totals: Counter  # topic id -> count
    by_sentiment: dict  # sentiment -> Counter(topic id -> count)
    by_network: dict  # network -> Counter(topic id -> count)

    @property
    def total(self):
        return sum(self.totals.values())

    def share(self, topic_id, counts=None):
        counts = self.totals if counts is None else counts
        whole = sum(counts.values())
        return 100.0 * counts.get(topic_id, 0) / whole if whole else 0.0

    def daily_shares(self):
        """topic id -> [share of the day's mentions in %, per day]."""
        shares = {topic.pk: [] for topic in self.topics}
        for index in range(len(self.days)):
            whole = sum(self.daily[topic.pk][index] for topic in self.topics)
            for topic in self.topics:
                value = self.daily[topic.pk][index]
                shares[topic.pk].append(round(100.0 * value / whole, 1) if whole else 0.0)
        return shares


def share_of_voice(workspace, period):
    """Brand topics against competitor topics: daily counts, and totals per sentiment and
    per network, from one VolumeBucket query (cached for a few minutes). None without a
    brand and a competitor."""
    return cached(
        "sov", workspace, WORKSPACE_SCOPE, period, lambda: _share_of_voice(workspace, period)
    )


def _share_of_voice(workspace, period):
    topics = list(
        Topic.objects.filter(
            workspace=workspace, kind__in=[Topic.Kind.BRAND, Topic.Kind.COMPETITOR]
        ).order_by("kind", "name", "id")
    )
    kinds = {topic.kind for topic in topics}
    if Topic.Kind.BRAND not in kinds or Topic.Kind.COMPETITOR not in kinds:
        return None
    days = []
    day = period.first_day
    while day <= period.last_day:
        days.append(day)
        day += timedelta(days=1)
    position = {day: index for index, day in enumerate(days)}
    daily = {topic.pk: [0] * len(days) for topic in topics}
    totals = Counter()
    by_sentiment, by_network = defaultdict(Counter), defaultdict(Counter)
    keys = [topic.pk for topic in topics]
    day_of = _local_days(period)
    for topic_key, hour, network, sentiment, count in _hours(workspace, keys, period):
        index = position.get(day_of(hour))
        if index is not None:
            daily[topic_key][index] += count
        totals[topic_key] += count
        by_sentiment[sentiment][topic_key] += count
        by_network[network][topic_key] += count
    return ShareOfVoice(topics, days, daily, totals, dict(by_sentiment), dict(by_network))
