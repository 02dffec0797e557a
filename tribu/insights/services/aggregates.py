"""Incremental aggregates of mentions (see insights/models.py).

Ingestion calls `add_mentions` inside its batch transaction, so the aggregates always agree
with the stored mentions and links. A changed sentiment (accurate tier, a team correction)
moves its counts with `move_sentiment`; a topic whose links were recomputed is rebuilt from
its links with `rebuild_topic`. Every write is one "INSERT … ON CONFLICT DO UPDATE SET
count = count + excluded.count" statement per table and batch (executemany), the same SQL
on SQLite and PostgreSQL: concurrent workers add to the same rows without losing updates.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count

from tribu.insights import terms as term_extraction
from tribu.insights.models import WORKSPACE_SCOPE, AuthorDay, SourceDay, TermDay, VolumeBucket
from tribu.listening.models import Mention, MentionTopic

VOLUME, SOURCES, AUTHORS, TERMS = "volume", "sources", "authors", "terms"
ALL_PARTS = (VOLUME, SOURCES, AUTHORS, TERMS)
# A scope-day with more distinct terms than this loses its single-use terms at housekeeping.
TERMS_PER_DAY_KEPT_WHOLE = 5000
REBUILD_CHUNK = 2000


def hour_of(moment):
    moment = moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def engagement_of(mention):
    total = 0
    for value in (mention.engagement or {}).values():
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            total += int(value)
    return total


def add_mentions(mentions, scopes, *, sign=1, parts=ALL_PARTS):
    """Count `mentions` (+1 each, or -1 with sign=-1) in each of their scopes.

    `scopes` maps a mention's id to the scope keys it counts in: WORKSPACE_SCOPE for the
    whole stream and the ids of the topics it matched."""
    volume, sources, authors, term_counts = Counter(), Counter(), defaultdict(_zero4), Counter()
    for mention in mentions:
        keys = scopes.get(mention.pk, ())
        if not keys:
            continue
        hour = hour_of(mention.published_at)
        day = hour.date()
        ws = mention.workspace_id
        mention_terms = ()
        if TERMS in parts:
            mention_terms = term_extraction.extract(mention.title, mention.text)
        engagement = engagement_of(mention) if AUTHORS in parts else 0
        for scope in keys:
            if VOLUME in parts:
                volume[(ws, scope, hour, mention.network, mention.sentiment)] += sign
            if SOURCES in parts:
                sources[(ws, scope, day, mention.source_id or 0)] += sign
            if AUTHORS in parts and mention.author_id:
                row = authors[(ws, scope, day, mention.author_id)]
                row[0] += sign
                row[1] += sign * engagement
                row[2] += sign * (mention.sentiment == "negative")
                row[3] += sign * (mention.sentiment == "positive")
            for term in mention_terms:
                term_counts[(ws, scope, day, term)] += sign
    with connection.cursor() as cursor:
        _upsert(cursor, VolumeBucket, volume, ("count",))
        _upsert(cursor, SourceDay, sources, ("count",))
        _upsert(
            cursor,
            AuthorDay,
            {key: tuple(values) for key, values in authors.items()},
            ("count", "engagement", "negative", "positive"),
        )
        _upsert(cursor, TermDay, term_counts, ("count",))


def _zero4():
    return [0, 0, 0, 0]


KEY_FIELDS = {
    VolumeBucket: ("workspace", "topic_key", "hour", "network", "sentiment"),
    SourceDay: ("workspace", "topic_key", "day", "source_key"),
    AuthorDay: ("workspace", "topic_key", "day", "author_key"),
    TermDay: ("workspace", "topic_key", "day", "term"),
}


def _upsert(cursor, model, counts, value_names):
    if not counts:
        return
    meta = model._meta
    key_fields = [meta.get_field(name) for name in KEY_FIELDS[model]]
    # Dates and datetimes go through their field's own conversion, so rows written here
    # are found by ORM look-ups (SQLite stores them as text in Django's format).
    converters = [
        field if field.get_internal_type() in ("DateTimeField", "DateField") else None
        for field in key_fields
    ]
    rows = []
    for key, values in counts.items():
        values = values if isinstance(values, tuple) else (values,)
        if not any(values):
            continue
        row = [
            value if field is None else field.get_db_prep_value(value, connection)
            for value, field in zip(key, converters, strict=True)
        ]
        rows.append([*row, *values])
    if not rows:
        return
    table = meta.db_table
    key_columns = [field.column for field in key_fields]
    value_columns = [meta.get_field(name).column for name in value_names]
    columns = ", ".join(f'"{c}"' for c in [*key_columns, *value_columns])
    marks = ", ".join(["%s"] * (len(key_columns) + len(value_columns)))
    updates = ", ".join(f'"{c}" = "{table}"."{c}" + excluded."{c}"' for c in value_columns)
    conflict = ", ".join(f'"{c}"' for c in key_columns)
    cursor.executemany(
        f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) '  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
        rows,
    )


def scopes_for(mentions):
    """{mention id: [WORKSPACE_SCOPE, topic ids…]} read from the stored links."""
    scopes = {mention.pk: [WORKSPACE_SCOPE] for mention in mentions}
    links = MentionTopic.objects.filter(mention_id__in=list(scopes)).values_list(
        "mention_id", "topic_id"
    )
    for mention_id, topic_id in links:
        scopes[mention_id].append(topic_id)
    return scopes


def move_sentiment(changes):
    """Move counts for mentions whose sentiment changed: `changes` is a list of
    (mention with its NEW sentiment, old sentiment). Call inside the transaction that saves
    the new sentiments."""
    if not changes:
        return
    scopes = scopes_for([mention for mention, _old in changes])
    # Only counts and tone move: engagement is left out of both sides (it did not change).
    add_mentions([_tone(m, old) for m, old in changes], scopes, sign=-1, parts=(VOLUME, AUTHORS))
    add_mentions([_tone(m, m.sentiment) for m, _old in changes], scopes, parts=(VOLUME, AUTHORS))


def _tone(mention, sentiment):
    """What the volume and author counts need of a mention, with the given sentiment."""
    return Mention(
        pk=mention.pk,
        workspace_id=mention.workspace_id,
        published_at=mention.published_at,
        network=mention.network,
        sentiment=sentiment,
        author_id=mention.author_id,
        engagement={},
    )


AGGREGATE_FIELDS = (
    "id",
    "workspace_id",
    "published_at",
    "network",
    "sentiment",
    "source_id",
    "author_id",
    "engagement",
    "title",
    "text",
)


def rebuild_topic(topic_id, workspace_id):
    """Recompute one topic's aggregates from its links (after a re-match)."""
    with transaction.atomic():
        delete_scope(workspace_id, topic_id)
        last = None
        while True:
            links = MentionTopic.objects.filter(topic_id=topic_id).order_by("-sort_key")
            if last is not None:
                links = links.filter(sort_key__lt=last)
            chunk = list(links.values_list("sort_key", "mention_id")[:REBUILD_CHUNK])
            if not chunk:
                break
            last = chunk[-1][0]
            ids = [mention_id for _key, mention_id in chunk]
            mentions = Mention.objects.filter(pk__in=ids).only(*AGGREGATE_FIELDS)
            add_mentions(mentions, {mention_id: [topic_id] for mention_id in ids})


def rebuild_workspace(workspace_id):
    """Recompute every aggregate of a workspace from its mentions and links (repair)."""
    with transaction.atomic():
        for model in KEY_FIELDS:
            model.objects.filter(workspace_id=workspace_id).delete()
        last = None
        while True:
            mentions = Mention.objects.filter(workspace_id=workspace_id).order_by("-sort_key")
            if last is not None:
                mentions = mentions.filter(sort_key__lt=last)
            chunk = list(mentions.only(*AGGREGATE_FIELDS, "sort_key")[:REBUILD_CHUNK])
            if not chunk:
                break
            last = chunk[-1].sort_key
            add_mentions(chunk, scopes_for(chunk))


def delete_scope(workspace_id, topic_key):
    for model in KEY_FIELDS:
        model.objects.filter(workspace_id=workspace_id, topic_key=topic_key).delete()


def prune_terms(now=None, *, keep_whole=TERMS_PER_DAY_KEPT_WHOLE):
    """Drop single-use terms from scope-days with more than `keep_whole` distinct terms.

    Housekeeping, hourly and idempotent: it looks at days two to five days old (late
    mentions still arrive for the last two), so each run reads a few days' rows only."""
    now = now or datetime.now(UTC)
    before = (now - timedelta(days=2)).date()
    busy = (
        TermDay.objects.filter(day__lt=before, day__gte=before - timedelta(days=3))
        .values("workspace_id", "topic_key", "day")
        .annotate(n=Count("id"))
        .filter(n__gt=keep_whole)
    )
    removed = 0
    for row in busy:
        removed += TermDay.objects.filter(
            workspace_id=row["workspace_id"],
            topic_key=row["topic_key"],
            day=row["day"],
            count__lte=1,
        ).delete()[0]
    return removed


def hourly_volume(workspace_id, topic_key, since, until, *, sentiment=None):
    """{UTC hour: count} for since <= hour < until (hours without mentions are absent)."""
    buckets = VolumeBucket.objects.filter(
        workspace_id=workspace_id, topic_key=topic_key, hour__gte=since, hour__lt=until
    )
    if sentiment is not None:
        buckets = buckets.filter(sentiment=sentiment)
    totals = Counter()
    for hour, count in buckets.values_list("hour", "count"):
        totals[hour] += count
    return dict(totals)
