"""Topics: saved queries. Create, update and delete with validation; the process-wide
matcher that ingestion uses; backtests over stored history; re-matching after a change.
"""

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.core.services import audit
from tribu.insights.services import aggregates
from tribu.listening.models import Mention, MentionTopic, Topic
from tribu.listening.services import analysis

logger = logging.getLogger(__name__)

# A backtest reads at most this many of the newest mentions in its period, so it answers
# in about a second whatever the size of the history; the result says when it stopped.
BACKTEST_LIMIT = 50_000
BACKTEST_SAMPLE = 10
REMATCH_BATCH = 2_000


class TopicError(ValueError):
    """A topic cannot be saved. `field` names the form field at fault; `query_error` holds
    the QueryError (position, expected, suggestion) when the query is invalid."""

    def __init__(self, message, *, field="query", query_error=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.query_error = query_error


def parse_query(query):
    """The parsed query, or TopicError carrying the QueryError."""
    from tribu.listening.query import QueryError, parse

    if not (query or "").strip():
        raise TopicError(_('Write a query, for example: tribu OR "tribu app".'))
    try:
        return parse(query)
    except QueryError as error:
        raise TopicError(str(error), query_error=error) from error


def _check_name(workspace, name, exclude=None):
    name = (name or "").strip()
    if not name:
        raise TopicError(_("Give the topic a name."), field="name")
    taken = Topic.objects.filter(workspace=workspace, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise TopicError(
            _("A topic named “%(name)s” already exists: choose another name.") % {"name": name},
            field="name",
        )
    return name


def create_topic(workspace, *, name, query, kind=Topic.Kind.BRAND, colour=None, actor=None,
                 request=None):  # fmt: skip
    """Validate and save a new topic, then re-match stored history in the background."""
    name = _check_name(workspace, name)
    parse_query(query)
    fields = {"kind": kind}
    if colour:
        fields["colour"] = colour
    now = timezone.now()
    with transaction.atomic():
        topic = Topic.objects.create(
            workspace=workspace,
            name=name,
            query=query.strip(),
            created_at=now,
            updated_at=now,
            rematch_requested_at=now,
            **fields,
        )
        audit.record(workspace, "topic.created", actor=actor, request=request, target=name)
        transaction.on_commit(lambda: _enqueue_rematch(topic))
    return topic


def update_topic(topic, *, actor=None, request=None, **changes):
    """Change name, query, kind or colour. A new query bumps the version and re-matches."""
    if "name" in changes:
        changes["name"] = _check_name(topic.workspace, changes["name"], exclude=topic)
    query_changed = "query" in changes and changes["query"].strip() != topic.query
    if query_changed:
        parse_query(changes["query"])
        changes["query"] = changes["query"].strip()
    now = timezone.now()
    with transaction.atomic():
        for name, value in changes.items():
            if name not in ("name", "query", "kind", "colour"):
                raise TypeError(f"update_topic() got an unexpected field {name!r}")
            setattr(topic, name, value)
        topic.updated_at = now
        if query_changed:
            topic.version += 1
            topic.rematch_requested_at = now
        topic.save()
        audit.record(topic.workspace, "topic.updated", actor=actor, request=request,
                     target=topic.name)  # fmt: skip
        if query_changed:
            transaction.on_commit(lambda: _enqueue_rematch(topic))
    return topic


def delete_topic(topic, *, actor=None, request=None):
    workspace, name = topic.workspace, topic.name
    with transaction.atomic():
        aggregates.delete_scope(topic.workspace_id, topic.pk)
        topic.delete()
        audit.record(workspace, "topic.deleted", actor=actor, request=request, target=name)


def _enqueue_rematch(topic):
    from tribu.listening.tasks import rematch_topic

    rematch_topic(topic.pk, topic.version)


# The process-wide matcher ---------------------------------------------------------------


class CompiledTopics:
    """Every topic of every workspace in one Matcher, with each topic's workspace."""

    def __init__(self, matcher, workspaces, version):
        self.matcher = matcher
        self.workspaces = workspaces  # topic id -> workspace id
        self.version = version

    @property
    def empty(self):
        return not self.workspaces

    def match(self, document, workspace_id):
        return [
            topic_id
            for topic_id in self.matcher.match(document)
            if self.workspaces.get(topic_id) == workspace_id
        ]


_compiled = None
_lock = threading.Lock()


def topics_version():
    """Changes whenever a topic is created, edited or deleted (one cheap aggregate)."""
    row = Topic.objects.aggregate(count=Count("id"), last=Max("updated_at"), top=Max("id"))
    return (row["count"], row["last"], row["top"])


def current_matcher():
    """The compiled matcher, rebuilt when the topics changed since it was built."""
    global _compiled
    version = topics_version()
    compiled = _compiled
    if compiled is not None and compiled.version == version:
        return compiled
    with _lock:
        if _compiled is None or _compiled.version != version:
            _compiled = build_matcher(version)
        return _compiled


def build_matcher(version=None):
    version = version or topics_version()
    rows = list(Topic.objects.values_list("id", "workspace_id", "query"))
    if not rows:
        return CompiledTopics(None, {}, version)
    from tribu.listening.query import Matcher, QueryError, parse

    queries, workspaces = {}, {}
    for pk, workspace_id, query in rows:
        try:
            queries[pk] = parse(query)
        except QueryError:
            # Saved queries are validated; one that no longer parses (after a language
            # change) must not stop every other topic from matching.
            logger.warning("Topic %s has an invalid query; it matches nothing", pk)
            continue
        workspaces[pk] = workspace_id
    return CompiledTopics(Matcher.build(queries), workspaces, version)


# Backtest and re-match -----------------------------------------------------------------


@dataclass
class Backtest:
    total: int
    per_day: list  # [(date, count)], every day of the period, oldest first
    sample: list  # the newest matching mentions
    scanned: int  # mentions examined
    truncated: bool  # True when the period held more than BACKTEST_LIMIT mentions

    def as_dict(self):
        return {
            "total": self.total,
            "per_day": self.per_day,
            "sample": self.sample,
            "scanned": self.scanned,
            "truncated": self.truncated,
        }


# What a mention needs to become a query Document (ingest.document_for).
DOCUMENT_FIELDS = ("id", "title", "text", "author_name", "author_handle", "url",
                   "canonical_url", "lang", "network", "published_at", "sort_key",
                   "source__name", "source__url")  # fmt: skip


def backtest(workspace, query, days=30, *, limit=BACKTEST_LIMIT, now=None):
    """What `query` would have matched among the workspace's stored mentions of the last
    `days` days (at most the newest `limit` of them). Raises TopicError if invalid."""
    from tribu.listening.query import Matcher
    from tribu.listening.services.ingest import document_for

    parsed = parse_query(query)
    matcher = Matcher.build({0: parsed})
    now = now or timezone.now()
    since = now - timedelta(days=days)
    tz = workspace.tzinfo
    rows = (
        Mention.objects.filter(workspace=workspace, published_at__gte=since)
        .select_related("source")
        .only(*DOCUMENT_FIELDS)
        .order_by("-sort_key")
    )
    per_day = Counter()
    sample = []
    total = scanned = 0
    for mention in rows[:limit].iterator(chunk_size=2000):
        scanned += 1
        source_name = str(mention.source) if mention.source_id else ""
        if matcher.match(document_for(mention, source_name)):
            total += 1
            per_day[timezone.localtime(mention.published_at, tz).date()] += 1
            if len(sample) < BACKTEST_SAMPLE:
                sample.append(mention)
    today = timezone.localtime(now, tz).date()
    days_list = [today - timedelta(days=offset) for offset in range(days, -1, -1)]
    return Backtest(
        total=total,
        per_day=[(day, per_day.get(day, 0)) for day in days_list],
        sample=sample,
        scanned=scanned,
        truncated=scanned >= limit,
    )


def rematch(topic_id, version=None, *, batch=REMATCH_BATCH):
    """Recompute the topic's links over all stored mentions of its workspace. Idempotent;
    a run for an outdated version stops (the newer run will do the work). Returns the
    number of mentions linked, or None when skipped."""
    from tribu.listening.query import Matcher
    from tribu.listening.services.ingest import document_for

    topic = Topic.objects.filter(pk=topic_id).first()
    if topic is None or (version is not None and topic.version != version):
        return None
    matcher = Matcher.build({topic.pk: parse_query(topic.query)})
    linked = 0
    last_key = None
    while True:
        chunk = (
            Mention.objects.filter(workspace_id=topic.workspace_id)
            .select_related("source")
            .only(*DOCUMENT_FIELDS, "workspace_id")
            .order_by("-sort_key")
        )
        if last_key is not None:
            chunk = chunk.filter(sort_key__lt=last_key)
        mentions = list(chunk[:batch])
        if not mentions:
            break
        last_key = mentions[-1].sort_key
        matching = [
            m
            for m in mentions
            if matcher.match(document_for(m, str(m.source) if m.source_id else ""))
        ]
        with transaction.atomic():
            # Stop if the query changed meanwhile: the newer task owns the links now.
            if not Topic.objects.filter(pk=topic.pk, version=topic.version).exists():
                return None
            keys = [m.sort_key for m in mentions]
            MentionTopic.objects.filter(
                topic=topic, sort_key__lte=keys[0], sort_key__gte=keys[-1]
            ).exclude(mention_id__in=[m.pk for m in matching]).delete()
            MentionTopic.objects.bulk_create(
                [
                    MentionTopic(
                        mention_id=m.pk,
                        topic_id=topic.pk,
                        workspace_id=topic.workspace_id,
                        published_at=m.published_at,
                        sort_key=m.sort_key,
                    )
                    for m in matching
                ],
                ignore_conflicts=True,
            )
        linked += len(matching)
        analysis.schedule_refinement([m.pk for m in matching])
    aggregates.rebuild_topic(topic.pk, topic.workspace_id)
    Topic.objects.filter(pk=topic.pk, version=topic.version).update(
        rematched_at=timezone.now(), rematched_version=topic.version
    )
    return linked
