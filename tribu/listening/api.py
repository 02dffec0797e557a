"""Listening in the REST API: sources (with their health), topics (validated queries and
backtests) and the mention stream (filters, search, cursor pagination, triage).

Reading needs workspace.view; changing sources and topics listening.manage; marking
mentions read, starred or hidden mentions.triage. Every row is reached through the token's
workspace, so another workspace's ids answer 404.
"""

from datetime import date, datetime
from typing import Literal

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from tribu.api.v1.errors import ApiError
from tribu.api.v1.pagination import PageQuery, paginate
from tribu.api.v1.permissions import require
from tribu.listening.models import Mention, Source, Topic, colour_validator
from tribu.listening.services import mentions as mentions_service
from tribu.listening.services import sources as sources_service
from tribu.listening.services import topics as topics_service

router = Router(tags=["listening"])


def invalid(message, field):
    return ApiError(
        422,
        "invalid",
        _("Some fields are not valid: see “errors” for each field."),
        {field: [str(message)]},
    )


# Sources -----------------------------------------------------------------------------------


class SourceOut(Schema):
    id: int
    kind: str
    name: str
    url: str
    config: dict
    enabled: bool
    status: str
    status_label: str
    paused: bool
    paused_at: datetime | None
    paused_reason: str
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    consecutive_failures: int
    items_seen: int
    next_poll_at: datetime | None
    poll_interval_seconds: int
    created_at: datetime


class SourcePage(Schema):
    items: list[SourceOut]
    next: str | None


class SourceIn(Schema):
    kind: Literal[tuple(Source.Kind.values)] = Source.Kind.FEED
    url: str = Field("", max_length=2000)
    name: str = Field("", max_length=200)
    config: dict | None = None


class SourcePatch(Schema):
    name: str | None = Field(None, max_length=200)
    enabled: bool | None = None
    paused: bool | None = None


def source_out(source):
    health = sources_service.health(source)
    return {
        "id": source.pk,
        "kind": source.kind,
        "name": source.name,
        "url": source.url,
        # Tokens given to a connector are never read back.
        "config": {
            key: value
            for key, value in (source.config or {}).items()
            if key not in sources_service.SECRET_OPTIONS
        },
        "enabled": source.enabled,
        "status": health.status,
        "status_label": health.label,
        "paused": health.paused,
        "paused_at": source.paused_at,
        "paused_reason": health.paused_reason,
        "last_polled_at": source.last_polled_at,
        "last_success_at": health.last_success_at,
        "last_error": health.last_error,
        "last_error_at": health.last_error_at,
        "consecutive_failures": health.consecutive_failures,
        "items_seen": health.items_seen,
        "next_poll_at": health.next_poll_at,
        "poll_interval_seconds": source.poll_interval_seconds,
        "created_at": source.created_at,
    }


def workspace_sources(request):
    return Source.objects.filter(workspace=request.auth.workspace)


def source_error(error):
    if isinstance(error, sources_service.DuplicateSource):
        return ApiError(409, "conflict", error.message, {error.field: [error.message]})
    return invalid(error.message, error.field)


@router.get("/sources", response=SourcePage, summary="Listening sources and their health")
@require("workspace.view")
def list_sources(request, page: Query[PageQuery]):
    return paginate(workspace_sources(request), page, source_out)


@router.post("/sources", response={201: SourceOut}, summary="Follow a feed or a network search")
@require("listening.manage")
def create_source(request, payload: SourceIn, response: HttpResponse):
    try:
        source = sources_service.create_source(
            request.auth.workspace,
            kind=payload.kind,
            url=payload.url,
            name=payload.name,
            config=payload.config,
            actor=request.auth.user,
            request=request,
        )
    except sources_service.SourceError as error:
        raise source_error(error) from None
    response.status_code = 201
    return source_out(source)


@router.get("/sources/{source_id}", response=SourceOut)
@require("workspace.view")
def get_source(request, source_id: int):
    return source_out(get_object_or_404(workspace_sources(request), pk=source_id))


@router.patch(
    "/sources/{source_id}", response=SourceOut, summary="Rename, turn off, pause or resume"
)
@require("listening.manage")
def update_source(request, source_id: int, payload: SourcePatch):
    source = get_object_or_404(workspace_sources(request), pk=source_id)
    try:
        source = sources_service.update_source(
            source,
            name=payload.name,
            enabled=payload.enabled,
            paused=payload.paused,
            actor=request.auth.user,
            request=request,
        )
    except sources_service.SourceError as error:
        raise source_error(error) from None
    return source_out(source)


@router.delete("/sources/{source_id}", response={204: None}, summary="Stop following a source")
@require("listening.manage")
def delete_source(request, source_id: int):
    source = get_object_or_404(workspace_sources(request), pk=source_id)
    sources_service.delete_source(source, actor=request.auth.user, request=request)
    return HttpResponse(status=204)


# Topics ------------------------------------------------------------------------------------


TopicKind = Literal[tuple(Topic.Kind.values)]


def check_colour(value):
    if value is not None:
        try:
            colour_validator(value)
        except Exception:  # noqa: BLE001 - Django's ValidationError: reword for the API
            raise ValueError(_("Enter a colour as # followed by six hexadecimal digits.")) from None
    return value


class TopicOut(Schema):
    id: int
    name: str
    query: str
    colour: str
    kind: str
    created_at: datetime
    updated_at: datetime
    rematch_pending: bool


class TopicPage(Schema):
    items: list[TopicOut]
    next: str | None


class TopicIn(Schema):
    name: str = Field(..., max_length=120)
    query: str = Field(..., max_length=5000)
    colour: str | None = None
    kind: TopicKind = Topic.Kind.BRAND

    _colour = field_validator("colour")(classmethod(lambda cls, value: check_colour(value)))


class TopicPatch(Schema):
    name: str | None = Field(None, max_length=120)
    query: str | None = Field(None, max_length=5000)
    colour: str | None = None
    kind: TopicKind | None = None

    _colour = field_validator("colour")(classmethod(lambda cls, value: check_colour(value)))


class BacktestIn(Schema):
    query: str = Field(..., max_length=5000)
    days: int = Field(30, ge=1, le=365)


class DayCount(Schema):
    date: date
    count: int


class TopicRef(Schema):
    id: int
    name: str
    colour: str


class MentionOut(Schema):
    id: int
    url: str
    title: str
    text: str
    published_at: datetime
    fetched_at: datetime
    topics: list[int]  # ids of the matched topics, in name order
    topic_details: list[TopicRef]
    source: str | None
    source_id: int | None
    network: str
    author: str
    author_handle: str
    author_url: str
    lang: str
    # negative | neutral | positive | unknown; "" when not analysed (stored before analysis)
    sentiment: str
    sentiment_score: float | None
    read: bool
    starred: bool
    hidden: bool
    also_seen: int


class BacktestOut(Schema):
    total: int
    per_day: list[DayCount]
    sample: list[MentionOut]
    scanned: int
    truncated: bool


def topic_out(topic):
    return {
        "id": topic.pk,
        "name": topic.name,
        "query": topic.query,
        "colour": topic.colour,
        "kind": topic.kind,
        "created_at": topic.created_at,
        "updated_at": topic.updated_at,
        "rematch_pending": topic.rematch_pending,
    }


def workspace_topics(request):
    return Topic.objects.filter(workspace=request.auth.workspace)


def topic_error_response(error):
    """422 with the field at fault; an invalid query also gets where and how to fix it."""
    body = {
        "code": "invalid",
        "message": _("Some fields are not valid: see “errors” for each field."),
        "errors": {error.field: [error.message]},
    }
    query_error = error.query_error
    if query_error is not None:
        body["query_error"] = {
            "code": query_error.code,
            "position": query_error.position,
            "message": query_error.message,
            "expected": query_error.expected,
            "suggestion": query_error.suggestion,
        }
    return JsonResponse(body, status=422, json_dumps_params={"ensure_ascii": False})


@router.get("/topics", response=TopicPage, summary="Topics: saved queries")
@require("workspace.view")
def list_topics(request, page: Query[PageQuery]):
    return paginate(workspace_topics(request), page, topic_out)


@router.post("/topics", response={201: TopicOut}, summary="Save a query as a topic")
@require("listening.manage")
def create_topic(request, payload: TopicIn, response: HttpResponse):
    try:
        topic = topics_service.create_topic(
            request.auth.workspace,
            name=payload.name,
            query=payload.query,
            kind=payload.kind,
            colour=payload.colour,
            actor=request.auth.user,
            request=request,
        )
    except topics_service.TopicError as error:
        return topic_error_response(error)
    response.status_code = 201
    return topic_out(topic)


@router.post(
    "/topics/backtest",
    response=BacktestOut,
    summary="What a query would have matched in stored history",
)
@require("workspace.view")
def backtest_topic(request, payload: BacktestIn):
    try:
        result = topics_service.backtest(request.auth.workspace, payload.query, payload.days)
    except topics_service.TopicError as error:
        return topic_error_response(error)
    mention_topics = topics_by_mention([mention.pk for mention in result.sample])
    return {
        "total": result.total,
        "per_day": [{"date": day, "count": count} for day, count in result.per_day],
        "sample": [mention_out(mention, mention_topics) for mention in result.sample],
        "scanned": result.scanned,
        "truncated": result.truncated,
    }


@router.get("/topics/{topic_id}", response=TopicOut)
@require("workspace.view")
def get_topic(request, topic_id: int):
    return topic_out(get_object_or_404(workspace_topics(request), pk=topic_id))


@router.patch("/topics/{topic_id}", response=TopicOut, summary="Change a topic")
@require("listening.manage")
def update_topic(request, topic_id: int, payload: TopicPatch):
    topic = get_object_or_404(workspace_topics(request), pk=topic_id)
    changes = payload.dict(exclude_none=True)
    try:
        topic = topics_service.update_topic(
            topic, actor=request.auth.user, request=request, **changes
        )
    except topics_service.TopicError as error:
        return topic_error_response(error)
    return topic_out(topic)


@router.delete("/topics/{topic_id}", response={204: None}, summary="Delete a topic")
@require("listening.manage")
def delete_topic(request, topic_id: int):
    topic = get_object_or_404(workspace_topics(request), pk=topic_id)
    topics_service.delete_topic(topic, actor=request.auth.user, request=request)
    return HttpResponse(status=204)


# Mentions ----------------------------------------------------------------------------------


def topics_by_mention(mention_ids):
    """{mention id: [topic refs]} in one query."""
    from tribu.listening.models import MentionTopic

    found = {}
    links = (
        MentionTopic.objects.filter(mention_id__in=mention_ids)
        .select_related("topic")
        .order_by("topic__name", "topic_id")
    )
    for link in links:
        found.setdefault(link.mention_id, []).append(
            {"id": link.topic_id, "name": link.topic.name, "colour": link.topic.colour}
        )
    return found


def mention_out(mention, mention_topics):
    return {
        "id": mention.pk,
        "url": mention.url,
        "title": mention.title,
        "text": mention.text,
        "published_at": mention.published_at,
        "fetched_at": mention.fetched_at,
        "topics": [topic["id"] for topic in mention_topics.get(mention.pk, [])],
        "topic_details": mention_topics.get(mention.pk, []),
        "source": mention.source.name if mention.source_id else None,
        "source_id": mention.source_id,
        "network": mention.network,
        "author": mention.author_name,
        "author_handle": mention.author_handle,
        "author_url": mention.author_url,
        "lang": mention.lang,
        "sentiment": mention.sentiment,
        "sentiment_score": mention.sentiment_score,
        "read": mention.read,
        "starred": mention.starred,
        "hidden": mention.hidden,
        "also_seen": mention.also_seen,
    }


class MentionPage(Schema):
    items: list[MentionOut]
    next: str | None


class CopyOut(Schema):
    url: str
    network: str
    author: str
    author_handle: str
    seen_at: datetime


class MentionDetailOut(MentionOut):
    html: str
    author_followers: int | None
    engagement: dict
    copies: list[CopyOut]


class MentionQuery(Schema):
    topic: int | None = None
    source: int | None = None
    network: str = Field("", max_length=16)
    lang: str = Field("", max_length=8)
    since: datetime | date | None = None
    until: datetime | date | None = None
    q: str = Field("", max_length=500)
    read: bool | None = None
    starred: bool | None = None
    hidden: Literal["false", "true", "all"] = "false"
    order: Literal[tuple(mentions_service.ORDERS)] = "newest"
    cursor: str | None = Field(None, pattern=r"^[ko]:\d+$")
    limit: int = Field(mentions_service.PAGE_SIZE, ge=1, le=mentions_service.MAX_PAGE_SIZE)


class MentionPatch(Schema):
    read: bool | None = None
    starred: bool | None = None
    hidden: bool | None = None


def workspace_mentions(request):
    return Mention.objects.filter(workspace=request.auth.workspace).select_related("source")


def mention_detail(mention):
    detail = mention_out(mention, topics_by_mention([mention.pk]))
    detail.update(
        html=mention.html,
        author_followers=mention.author_followers,
        engagement=mention.engagement or {},
        copies=[
            {
                "url": copy.url,
                "network": copy.network,
                "author": copy.author_name,
                "author_handle": copy.author_handle,
                "seen_at": copy.seen_at,
            }
            for copy in mention.copies.all()
        ],
    )
    return detail


@router.get("/mentions", response=MentionPage, summary="The mention stream, filtered")
@require("workspace.view")
def list_mentions(request, filters: Query[MentionQuery]):
    """Newest first (or by relevance with `q` and `order=relevance`); pass `next` back as
    `cursor` for the following page. Hidden mentions are left out unless `hidden=true` (only
    them) or `hidden=all`."""
    stream_filters = mentions_service.StreamFilters(
        topic=filters.topic,
        source=filters.source,
        network=filters.network.strip(),
        lang=filters.lang.strip(),
        since=filters.since,
        until=filters.until,
        read=filters.read,
        starred=True if filters.starred else None,
        hidden={"false": False, "true": True, "all": None}[filters.hidden],
        q=filters.q.strip(),
        order=filters.order,
    )
    queryset = mentions_service.stream(request.auth.workspace, stream_filters)
    mentions, next_cursor = mentions_service.page(
        queryset.select_related("source"), filters.cursor, filters.limit
    )
    mention_topics = topics_by_mention([mention.pk for mention in mentions])
    return {
        "items": [mention_out(mention, mention_topics) for mention in mentions],
        "next": next_cursor,
    }


@router.get("/mentions/{mention_id}", response=MentionDetailOut)
@require("workspace.view")
def get_mention(request, mention_id: int):
    return mention_detail(get_object_or_404(workspace_mentions(request), pk=mention_id))


@router.patch(
    "/mentions/{mention_id}",
    response=MentionDetailOut,
    summary="Mark a mention read, starred or hidden",
)
@require("mentions.triage")
def triage_mention(request, mention_id: int, payload: MentionPatch):
    mention = get_object_or_404(workspace_mentions(request), pk=mention_id)
    for flag, value in payload.dict(exclude_none=True).items():
        mentions_service.set_flag(request.auth.workspace, [mention.pk], flag, value)
    mention.refresh_from_db()
    return mention_detail(mention)
