"""Ingestion: parsed items from a source become stored, indexed and matched mentions.

Per batch (BATCH items), in one transaction: canonical URLs and duplicate keys are
computed in Python; ONE query finds the mentions already holding any of the batch's keys
and one more the near-duplicate copies already recorded; new mentions are bulk-inserted,
then their topic links, their full-text index rows (SQLite; PostgreSQL's trigger indexes
on insert) and the near-duplicate copies. No query runs per item. Each new mention's
language and fast-tier sentiment are computed before its insert (analyse_mentions), so the
search index stems it in its language; duplicates are never analysed.

Topics are matched with the process-wide Matcher of services/topics.py (all topics of all
workspaces compiled once); only topics of the mention's workspace are kept.

Counts in the IngestReport:
- created: new mentions stored;
- duplicates: items already stored (same canonical URL, same guid from the same source, or
  an exact copy with no new address to record);
- grouped: near-duplicates or exact copies seen at a new address, recorded as MentionCopy
  under the first mention ("also seen in N places");
- matched: topic links created.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from tribu.core.models import Workspace
from tribu.insights.models import WORKSPACE_SCOPE
from tribu.insights.services import aggregates
from tribu.listening import search
from tribu.listening.models import Mention, MentionCopy, MentionTopic
from tribu.listening.query.document import Document
from tribu.listening.services import analysis, authors, dedupe, topics
from tribu.nlp import language, sentiment

logger = logging.getLogger(__name__)

BATCH = 500
# A date this far in the future is a feed's mistake: it would pin the item on top of the
# stream for years, so it is read as "now".
FUTURE_TOLERANCE = timedelta(hours=1)
MAX_TITLE = 1000
MAX_TEXT = 100_000
# Language and sentiment read the start of a long article only: their cost grows with the
# text, and a few hundred words say its language and tone as well as the whole.
NLP_TEXT = 2000


@dataclass
class IngestReport:
    created: int = 0
    duplicates: int = 0
    grouped: int = 0
    matched: int = 0
    mention_ids: list = field(default_factory=list)

    def add(self, other):
        self.created += other.created
        self.duplicates += other.duplicates
        self.grouped += other.grouped
        self.matched += other.matched
        self.mention_ids += other.mention_ids


@dataclass(slots=True)
class _Candidate:
    item: object
    canonical: str
    url_key: int | None
    guid_key: int | None
    content_hash: int | None
    near_key: int | None
    published_at: object


def ingest(source, items, *, now=None):
    """Store `items` (ParsedItem) found by `source`; returns an IngestReport. The source's
    health counters (items_seen) are the poller's to update."""
    return ingest_items(source.workspace_id, items, source=source, now=now)


def ingest_items(workspace_id, items, *, source=None, now=None):
    """Store `items` in a workspace, with or without a source (demo data, imports)."""
    now = now or timezone.now()
    report = IngestReport()
    candidates = [_prepare(item, now) for item in items]
    languages = _languages(workspace_id, source)
    for start in range(0, len(candidates), BATCH):
        batch = candidates[start : start + BATCH]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    report.add(_ingest_batch(workspace_id, source, batch, now, languages))
                break
            except IntegrityError:
                # Another worker stored some of these items (or took a sort key) between
                # our lookup and our insert: look again, it will now see them.
                if attempt == 2:
                    raise
                logger.info("Ingest batch collided with a concurrent one; retrying")
    return report


def _languages(workspace_id, source):
    workspace = source.workspace if source is not None else None
    if workspace is None or workspace.pk != workspace_id:
        workspace = Workspace.objects.only("mention_languages").get(pk=workspace_id)
    return workspace.mention_language_codes


def _prepare(item, now):
    canonical = dedupe.canonical_url(item.url)
    published = item.published_at or now
    if published > now + FUTURE_TOLERANCE:
        published = now
    author = item.author_handle or item.author_name
    return _Candidate(
        item=item,
        canonical=canonical,
        url_key=dedupe.url_key(canonical),
        guid_key=dedupe.guid_key(item.guid),
        content_hash=dedupe.content_hash(item.network, author, item.title, item.text),
        near_key=dedupe.near_key(item.title, item.text),
        published_at=published,
    )


def _existing(workspace_id, source, batch):
    """Keys already stored: {kind: {key: mention id}}, plus copy URL keys.

    One query per kind of key, each a seek on that key's index (a single OR of the four
    made SQLite walk the whole workspace: a cost that grew with every stored mention)."""
    url_keys = {c.url_key for c in batch if c.url_key is not None}
    guid_keys = {c.guid_key for c in batch if c.guid_key is not None}
    hashes = {c.content_hash for c in batch if c.content_hash is not None}
    near_keys = {c.near_key for c in batch if c.near_key is not None}
    mentions = Mention.objects.filter(workspace_id=workspace_id).order_by()
    lookups = [
        mentions.filter(url_key__in=url_keys),
        mentions.filter(content_hash__in=hashes),
        mentions.filter(near_key__in=near_keys),
    ]
    if source is not None and guid_keys:
        lookups.append(Mention.objects.filter(source=source, guid_key__in=guid_keys).order_by())
    columns = ("sort_key", "id", "url_key", "guid_key", "source_id", "content_hash", "near_key")
    rows = {}
    for lookup, keys in zip(lookups, (url_keys, hashes, near_keys, guid_keys), strict=False):
        if keys:
            rows.update((row[0], row) for row in lookup.values_list(*columns))
    found = {"url": {}, "guid": {}, "hash": {}, "near": {}}
    source_id = source.pk if source is not None else None
    # The first mention of a near-duplicate group wins: oldest sort key first.
    for _key, pk, u, g, s, h, n in sorted(rows.values()):
        if u is not None:
            found["url"].setdefault(u, pk)
        if g is not None and s == source_id:
            found["guid"].setdefault(g, pk)
        if h is not None:
            found["hash"].setdefault(h, pk)
        if n is not None:
            found["near"].setdefault(n, pk)
    copies = set()
    if url_keys:
        copies = set(
            MentionCopy.objects.filter(workspace_id=workspace_id, url_key__in=url_keys)
            .order_by()
            .values_list("url_key", flat=True)
            .distinct()
        )
    return found, copies


def _taken_among(keys):
    used = set(Mention.objects.filter(sort_key__in=keys).values_list("sort_key", flat=True))
    return used | search.indexed_sort_keys(keys)


def _taken_between(low, high):
    used = set(
        Mention.objects.filter(sort_key__gte=low, sort_key__lte=high).values_list(
            "sort_key", flat=True
        )
    )
    return used | search.indexed_sort_keys_between(low, high)


def _ingest_batch(workspace_id, source, batch, now, languages=language.DEFAULT_LANGUAGES):
    report = IngestReport()
    found, copy_keys = _existing(workspace_id, source, batch)
    new = []  # candidates to store
    copies = []  # (candidate, mention id or the new candidate it copies)
    # Keys of this batch's new mentions, so duplicates inside one batch are caught too.
    batch_keys = {"url": {}, "guid": {}, "hash": {}, "near": {}}

    for candidate in batch:
        if _known(candidate, found, copy_keys, batch_keys, ("url", "guid")) is not None:
            report.duplicates += 1
            continue
        original = _known(candidate, found, copy_keys, batch_keys, ("hash", "near"))
        if original is not None:
            if candidate.url_key is None:
                report.duplicates += 1  # nothing new to record: no address
            else:
                copies.append((candidate, original))
                copy_keys.add(candidate.url_key)
                report.grouped += 1
            continue
        new.append(candidate)
        for kind, key in _keys(candidate):
            batch_keys[kind].setdefault(key, candidate)

    mentions = _insert_mentions(workspace_id, source, new, now, languages)
    report.created = len(mentions)
    report.mention_ids = [mention.pk for mention in mentions]
    links = link_topics(mentions, source)
    report.matched = len(links)
    search.index_mentions(mentions)
    scopes = {mention.pk: [WORKSPACE_SCOPE] for mention in mentions}
    for link in links:
        scopes[link.mention_id].append(link.topic_id)
    aggregates.add_mentions(mentions, scopes)
    analysis.schedule_refinement(sorted({link.mention_id for link in links}))
    _record_copies(
        workspace_id, source, copies, dict(zip(map(id, new), mentions, strict=True)), now
    )
    return report


def _keys(candidate):
    for kind, key in (
        ("url", candidate.url_key),
        ("guid", candidate.guid_key),
        ("hash", candidate.content_hash),
        ("near", candidate.near_key),
    ):
        if key is not None:
            yield kind, key


def _known(candidate, found, copy_keys, batch_keys, kinds):
    """The stored mention id (or new candidate of this batch) sharing one of `kinds`."""
    for kind, key in _keys(candidate):
        if kind not in kinds:
            continue
        if key in found[kind]:
            return found[kind][key]
        if key in batch_keys[kind]:
            return batch_keys[kind][key]
        if kind == "url" and key in copy_keys:
            return 0  # a copy already recorded: a plain duplicate
    return None


def _insert_mentions(workspace_id, source, new, now, languages=language.DEFAULT_LANGUAGES):
    if not new:
        return []
    sort_keys = dedupe.allocate_sort_keys(
        [dedupe.base_sort_key(c.published_at) for c in new], _taken_among, _taken_between
    )
    source_id = source.pk if source is not None else None
    mentions = []
    for candidate, sort_key in zip(new, sort_keys, strict=True):
        item = candidate.item
        mentions.append(
            Mention(
                workspace_id=workspace_id,
                source_id=source_id,
                network=(item.network or "web")[:16],
                url=item.url,
                canonical_url=candidate.canonical,
                guid=item.guid,
                title=(item.title or "")[:MAX_TITLE],
                text=(item.text or "")[:MAX_TEXT],
                html=item.html or "",
                author_name=(item.author_name or "")[:255],
                author_handle=(item.author_handle or "")[:255],
                author_url=item.author_url or "",
                author_followers=item.author_followers,
                published_at=candidate.published_at,
                fetched_at=now,
                engagement=item.engagement or {},
                raw=item.raw or {},
                sort_key=sort_key,
                url_key=candidate.url_key,
                guid_key=candidate.guid_key if source_id is not None else None,
                content_hash=candidate.content_hash,
                near_key=candidate.near_key,
            )
        )
    analyse_mentions(mentions, languages)
    authors.attach_authors(workspace_id, mentions, now)
    if connection.vendor == "sqlite":
        return _sqlite_insert(mentions)
    return Mention.objects.bulk_create(mentions)


def analyse_mentions(mentions, languages=language.DEFAULT_LANGUAGES):
    """Language and fast-tier sentiment of new, not yet saved mentions, in place.

    Runs before the insert: the search index (SQLite rows here, PostgreSQL's trigger)
    stems each mention in its language. Detection is restricted to the workspace's
    languages. Languages without a sentiment model get "unknown" with no score: a guess
    would be shown as fact."""
    texts = [
        (f"{mention.title}\n{mention.text}" if mention.title else mention.text)[:NLP_TEXT]
        for mention in mentions
    ]
    for mention, text in zip(mentions, texts, strict=True):
        mention.lang, mention.lang_confidence = language.detect(text, languages)
    results = sentiment.analyse_many(texts, [m.lang for m in mentions], tier=sentiment.FAST)
    for mention, result in zip(mentions, results, strict=True):
        mention.sentiment = result.label
        mention.sentiment_score = result.score if result.label != sentiment.UNKNOWN else None
        mention.sentiment_tier = result.tier


def _prepared_columns(model):
    """(column names, [(attname, field or None)]) of a model's INSERT without its id:
    the field is kept where the value needs the field's own conversion (dates, JSON)."""
    columns, getters = [], []
    for model_field in model._meta.local_concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(model_field.column)
        converts = model_field.get_internal_type() in ("DateTimeField", "JSONField")
        getters.append((model_field.attname, model_field if converts else None))
    return columns, getters


def _sqlite_insert(objects):
    """Insert model instances with ONE executemany and give them their ids.

    Django's bulk_create on SQLite splits 500 mentions into ~20 statements (999 variables
    each) and spends more time compiling them than SQLite spends storing the rows. Values
    go through the fields' own get_db_prep_save where it converts (aware datetimes to
    UTC text, JSON), so rows are stored exactly as bulk_create stores them. Ids are read
    back through the unique sort_key (one indexed query per 500 rows)."""
    model = type(objects[0])
    columns, getters = _prepared_columns(model)
    rows = [
        [
            getattr(obj, attname)
            if prep is None
            else prep.get_db_prep_save(getattr(obj, attname), connection)
            for attname, prep in getters
        ]
        for obj in objects
    ]
    table = model._meta.db_table
    marks = ", ".join(["%s"] * len(columns))
    names = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)  # noqa: S608
        if model is Mention:
            by_key = {obj.sort_key: obj for obj in objects}
            keys = list(by_key)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                cursor.execute(
                    f'SELECT "id", "sort_key" FROM "{table}" WHERE "sort_key" IN '  # noqa: S608
                    f"({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                for pk, sort_key in cursor.fetchall():
                    by_key[sort_key].pk = pk
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def document_for(mention, source_name=""):
    author = " ".join(part for part in (mention.author_name, mention.author_handle) if part)
    return Document(
        text=mention.text,
        title=mention.title,
        author=author,
        url=mention.canonical_url or mention.url,
        lang=mention.lang,
        source=source_name,
        network=mention.network,
    )


def link_topics(mentions, source=None):
    """Match new mentions against every topic of their workspace; returns the links made."""
    if not mentions:
        return []
    compiled = topics.current_matcher()
    if compiled.empty:
        return []
    source_name = str(source) if source is not None else ""
    links = []
    for mention in mentions:
        for topic_id in compiled.match(document_for(mention, source_name), mention.workspace_id):
            links.append(
                MentionTopic(
                    mention_id=mention.pk,
                    topic_id=topic_id,
                    workspace_id=mention.workspace_id,
                    published_at=mention.published_at,
                    sort_key=mention.sort_key,
                )
            )
    if links and connection.vendor == "sqlite":
        _sqlite_insert(links)  # no ids needed: nothing reads them back
    else:
        MentionTopic.objects.bulk_create(links)
    return links


def _record_copies(workspace_id, source, copies, stored, now):
    """MentionCopy rows for near-duplicates, and the also_seen counters in one UPDATE per
    distinct increment."""
    if not copies:
        return
    rows = []
    for candidate, original in copies:
        if isinstance(original, _Candidate):
            original = stored[id(original)].pk
        item = candidate.item
        rows.append(
            MentionCopy(
                workspace_id=workspace_id,
                mention_id=original,
                source=source,
                url=candidate.canonical or item.url,
                url_key=candidate.url_key,
                author_name=(item.author_name or "")[:255],
                author_handle=(item.author_handle or "")[:255],
                network=(item.network or "web")[:16],
                seen_at=now,
            )
        )
    MentionCopy.objects.bulk_create(rows)
    per_mention = Counter(row.mention_id for row in rows)
    by_increment = {}
    for mention_id, count in per_mention.items():
        by_increment.setdefault(count, []).append(mention_id)
    for count, ids in by_increment.items():
        Mention.objects.filter(pk__in=ids).update(also_seen=F("also_seen") + count)
