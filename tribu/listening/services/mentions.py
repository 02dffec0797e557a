"""The mention stream: filters, search, order, cursor pagination, triage and CSV export.

Every query starts from one workspace's mentions. Newest first is `-sort_key` (publication
time, unique; see models.py), so a page is one index scan and the cursor is one integer.
Date filters become sort_key bounds for the same reason.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from tribu.listening import search
from tribu.listening.models import Mention, MentionTopic, Topic
from tribu.listening.services.dedupe import base_sort_key

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
ORDERS = ("newest", "relevance")
FLAGS = ("read", "starred", "hidden")


@dataclass
class StreamFilters:
    topic: int | None = None
    source: int | None = None
    network: str = ""
    lang: str = ""
    sentiment: str = ""  # a Sentiment value (insights links to "the mentions behind")
    author: int | None = None  # an Author id (insights author pages)
    since: date | datetime | None = None  # inclusive; a date means from its midnight
    until: date | datetime | None = None  # inclusive; a date means through its end
    read: bool | None = None  # None: read and unread
    starred: bool | None = None  # True: starred only
    hidden: bool | None = False  # False: hide hidden mentions; True: only them; None: all
    q: str = ""
    order: str = "newest"

    @classmethod
    def from_params(cls, params):
        """Filters from query parameters (a QueryDict or dict of strings). Values that do not
        parse are ignored, like an empty field: a bad bookmark still shows a stream."""
        get = params.get
        return cls(
            topic=_int(get("topic")),
            source=_int(get("source")),
            network=(get("network") or "").strip()[:16],
            lang=(get("lang") or "").strip()[:8],
            sentiment=(get("sentiment") or "").strip()[:8],
            author=_int(get("author")),
            since=_date(get("since")),
            until=_date(get("until")),
            read=_bool(get("read")),
            starred=True if _bool(get("starred")) else None,
            hidden=_hidden(get("hidden")),
            q=(get("q") or "").strip()[:500],
            order=get("order") if get("order") in ORDERS else "newest",
        )

    def as_params(self):
        """The inverse of from_params, without defaults (for links and CSV export)."""
        params = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value == spec.default or value in ("", None) and spec.name != "hidden":
                continue
            if isinstance(value, bool):
                value = "1" if value else "0"
            elif spec.name == "hidden" and value is None:
                value = "all"
            params[spec.name] = str(value)
        return params


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _bool(value):
    if value in ("1", "true", "yes", "on", True):
        return True
    if value in ("0", "false", "no", "off", False):
        return False
    return None


def _hidden(value):
    if value == "all":
        return None
    return _bool(value) or False


def _date(value):
    if not value:
        return None
    if isinstance(value, date):
        return value
    try:
        return parse_date(value) or parse_datetime(value)  # "2025-03-01" is a whole day
    except ValueError:
        return None


def _bound(value, tz, end=False):
    """A sort_key bound for a date or datetime (naive values in the workspace's zone).
    `end` makes it inclusive: through the end of the date, or up to the datetime."""
    if isinstance(value, datetime):
        moment = value if timezone.is_aware(value) else timezone.make_aware(value, tz)
        # Sort keys sit at most a few microseconds after their publication time.
        return base_sort_key(moment) + (SORT_KEY_SLACK if end else 0)
    day = value + timedelta(days=1) if end else value
    moment = timezone.make_aware(datetime.combine(day, time.min), tz)
    return base_sort_key(moment) - 1 if end else base_sort_key(moment)


SORT_KEY_SLACK = 999


def stream(workspace, filters=None):
    """The workspace's mentions for `filters` (StreamFilters), in the requested order."""
    filters = filters or StreamFilters()
    searched = bool(search.parse(filters.q))
    if filters.topic is not None and not searched:
        # The topic's links drive the query, newest first on their (topic, -sort_key)
        # index; a link's workspace is its mention's, which scopes the query. (Filtering
        # the mention's workspace too would lead SQLite to walk the workspace instead.)
        queryset = Mention.objects.filter(
            topic_links__topic_id=filters.topic, topic_links__workspace=workspace
        )
    else:
        queryset = Mention.objects.filter(workspace=workspace)
    if filters.topic is not None and searched:
        # The search drives the query; each candidate checks its link (unique index).
        links = MentionTopic.objects.filter(topic_id=filters.topic, workspace=workspace)
        queryset = queryset.filter(Exists(links.filter(mention=OuterRef("pk"))))
    if filters.source is not None:
        queryset = queryset.filter(source_id=filters.source)
    if filters.network:
        queryset = queryset.filter(network=filters.network)
    if filters.lang:
        queryset = queryset.filter(lang=filters.lang)
    if filters.sentiment:
        queryset = queryset.filter(sentiment=filters.sentiment)
    if filters.author is not None:
        queryset = queryset.filter(author_id=filters.author)
    tz = workspace.tzinfo
    if filters.since:
        queryset = queryset.filter(sort_key__gte=_bound(filters.since, tz))
    if filters.until:
        queryset = queryset.filter(sort_key__lte=_bound(filters.until, tz, end=True))
    if filters.read is not None:
        queryset = queryset.filter(read=filters.read)
    if filters.starred:
        queryset = queryset.filter(starred=True)
    if filters.hidden is not None:
        queryset = queryset.filter(hidden=filters.hidden)
    if searched:
        return search.filter_mentions(
            queryset, workspace.pk, filters.q, relevance=filters.order == "relevance"
        )
    if filters.topic is not None:
        return queryset.order_by("-topic_links__sort_key")
    return queryset.order_by("-sort_key")


def with_topics(queryset):
    """Prefetch each mention's topics (name, colour) and source for display."""
    return queryset.select_related("source").prefetch_related(
        Prefetch("topics", queryset=Topic.objects.only("id", "name", "colour", "workspace_id"))
    )


# Cursor pagination -----------------------------------------------------------------------


def page(queryset, cursor=None, size=PAGE_SIZE):
    """One page: (mentions, next cursor or None). Newest-first pages use keyset pagination
    on sort_key ("k<sort_key>"): stable while new mentions arrive. Relevance pages use an
    offset ("o<offset>"). An unreadable cursor starts from the first page."""
    size = max(1, min(int(size or PAGE_SIZE), MAX_PAGE_SIZE))
    relevance = search.is_ranked(queryset)
    offset = 0
    if cursor:
        kind, _sep, value = str(cursor).partition(":")
        number = _int(value)
        if number is not None:
            if kind == "k" and not relevance:
                queryset = _before(queryset, number)
            elif kind == "o" and relevance and number >= 0:
                offset = number
    items = list(queryset[offset : offset + size + 1])
    more = len(items) > size
    items = items[:size]
    if not more or not items:
        return items, None
    if relevance:
        return items, f"o:{offset + size}"
    return items, f"k:{items[-1].sort_key}"


def _before(queryset, sort_key):
    """Keyset condition on the column that drives the query, so the database seeks to the
    cursor instead of skipping the pages before it."""
    if queryset.query.order_by == ("-topic_links__sort_key",):
        return queryset.extra(where=['"listening_mentiontopic"."sort_key" < %s'], params=[sort_key])
    return search.before(queryset, sort_key)


# Triage ---------------------------------------------------------------------------------


def set_flag(workspace, ids, flag, value=True):
    """Set read, starred or hidden on the workspace's mentions among `ids`; returns how
    many changed. Ids of other workspaces are silently out of reach."""
    if flag not in FLAGS:
        raise ValueError(f"unknown flag {flag!r}")
    ids = [pk for pk in (_int(pk) for pk in ids) if pk is not None]
    if not ids:
        return 0
    return (
        Mention.objects.filter(workspace=workspace, pk__in=ids)
        .exclude(**{flag: value})
        .update(**{flag: value})
    )


def set_flag_for_stream(workspace, filters, flag, value=True):
    """The same for every mention of a filtered stream ("mark all as read")."""
    if flag not in FLAGS:
        raise ValueError(f"unknown flag {flag!r}")
    # Ids first: the search's raw SQL names the mention table, so the stream cannot be
    # nested as a subquery (Django would rename its tables).
    ids = list(stream(workspace, filters).values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(ids), 500):
        changed += (
            Mention.objects.filter(workspace=workspace, pk__in=ids[start : start + 500])
            .exclude(**{flag: value})
            .update(**{flag: value})
        )
    return changed


# CSV export -----------------------------------------------------------------------------

CSV_EXPORT_LIMIT = 100_000


def csv_header():
    return [
        _("Published"),
        _("Network"),
        _("Source"),
        _("Author"),
        _("Handle"),
        _("Title"),
        _("Text"),
        _("Address"),
        _("Topics"),
        _("Language"),
        _("Sentiment"),
        _("Read"),
        _("Starred"),
        _("Also seen"),
    ]


def _cell(value):
    """Spreadsheets run cells starting with = + - @ as formulas: neutralise them."""
    value = "" if value is None else str(value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(workspace, filters=None, limit=CSV_EXPORT_LIMIT):
    """The header, then one row per mention of the filtered stream (lazy, in chunks)."""
    yield csv_header()
    tz = workspace.tzinfo
    names = dict(Topic.objects.filter(workspace=workspace).values_list("id", "name"))
    queryset = stream(workspace, filters).select_related("source")[:limit]
    chunk = []
    for mention in queryset.iterator(chunk_size=1000):
        chunk.append(mention)
        if len(chunk) == 1000:
            yield from _csv_chunk(chunk, names, tz)
            chunk = []
    yield from _csv_chunk(chunk, names, tz)


def _csv_chunk(mentions, names, tz):
    if not mentions:
        return
    links = {}
    for mention_id, topic_id in MentionTopic.objects.filter(
        mention_id__in=[m.pk for m in mentions]
    ).values_list("mention_id", "topic_id"):
        links.setdefault(mention_id, []).append(names.get(topic_id, ""))
    yes, no = _("yes"), _("no")
    for m in mentions:
        yield [
            timezone.localtime(m.published_at, tz).isoformat(timespec="seconds"),
            m.network,
            _cell(str(m.source) if m.source_id else ""),
            _cell(m.author_name),
            _cell(m.author_handle),
            _cell(m.title),
            _cell(m.text),
            _cell(m.url),
            _cell(", ".join(sorted(links.get(m.pk, [])))),
            m.lang,
            m.get_sentiment_display() if m.sentiment else "",
            yes if m.read else no,
            yes if m.starred else no,
            m.also_seen,
        ]
