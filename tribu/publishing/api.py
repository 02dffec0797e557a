"""Publishing in the REST API: channels (connect, list, status), posts (create, update,
schedule, approve, list by period), deliveries (status and log), and the crisis switch.

Connecting needs channels.manage; writing posts content.draft; scheduling content.schedule;
approving content.approve; pausing publishing.pause. Every row is reached through the
token's workspace, so another workspace's ids answer 404.
"""

from datetime import datetime, timedelta
from typing import Literal

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tribu.api.v1.errors import ApiError
from tribu.api.v1.pagination import PageQuery, paginate
from tribu.api.v1.permissions import require
from tribu.channels.models import Channel, Network
from tribu.channels.networks.http import APP_KEYS, app_for_network
from tribu.channels.services import channels as channels_service
from tribu.publishing.models import Delivery, Post, PostStatus, PostVariant
from tribu.publishing.services import deliveries as deliveries_service
from tribu.publishing.services import pause as pause_service
from tribu.publishing.services import posts as posts_service

router = Router(tags=["publishing"])

MAX_PERIOD = timedelta(days=400)


def invalid(message, field):
    return ApiError(
        422,
        "invalid",
        _("Some fields are not valid: see “errors” for each field."),
        {field: [str(message)]},
    )


def aware(value, field):
    if value is None:
        return None
    if timezone.is_naive(value):
        raise invalid(_("Give a time zone, e.g. 2026-12-01T09:00:00+01:00 or …Z for UTC."), field)
    return value


# Channels ---------------------------------------------------------------------------------


class ChannelIn(Schema):
    network: Literal[tuple(Network.values)]
    base_url: str = ""
    name: str = ""
    # Mastodon, LinkedIn, Facebook, Instagram, X, Threads: a pasted access token is a
    # legitimate way to connect.
    access_token: str | None = None
    # X's tokens last two hours: with the refresh token Tribu keeps them alive.
    refresh_token: str | None = None
    expires_at: datetime | None = None
    # Which page, organization or Instagram account, when the token reaches several.
    account_id: str | None = None
    # Bluesky: a handle and an app password (never the account's main password).
    handle: str | None = None
    app_password: str | None = None


class ChannelOut(Schema):
    id: int
    network: str
    name: str
    handle: str
    base_url: str
    state: str
    state_label: str
    problem: str
    token_expires_at: datetime | None
    connected_at: datetime
    limits: dict


def channel_out(channel):
    return {
        "id": channel.pk,
        "network": channel.network,
        "name": channel.name,
        "handle": channel.handle,
        "base_url": channel.base_url,
        "state": channel.state,
        "state_label": str(channel.get_state_display()),
        "problem": channel.problem_detail,
        "token_expires_at": channel.token_expires_at,
        "connected_at": channel.connected_at,
        "limits": channel.limits or {},
    }


class ChannelPage(Schema):
    items: list[ChannelOut]
    next: str | None


DEFAULT_BASE_URLS = {"bluesky": "https://bsky.social"}


def default_base_url(network):
    """Bluesky's main PDS; for networks signing in through the operator's app, the API
    address configured for it (TRIBU_LINKEDIN_API_URL…)."""
    if network in APP_KEYS:
        return app_for_network(network).api_url
    return DEFAULT_BASE_URLS.get(network, "")


def credentials_from(payload):
    if payload.network == Network.MASTODON:
        if not payload.access_token:
            raise invalid(_("Paste the account's access token."), "access_token")
        return {"access_token": payload.access_token.strip()}
    if payload.network == Network.BLUESKY:
        if not payload.handle:
            raise invalid(_("Give the account's handle, e.g. brand.bsky.social."), "handle")
        if not payload.app_password:
            raise invalid(
                _("Create an app password in Bluesky's settings and give it here."),
                "app_password",
            )
        return {"handle": payload.handle.strip().lstrip("@"), "app_password": payload.app_password}
    if not payload.access_token:
        raise invalid(_("Give the account's access token."), "access_token")
    credentials = {"access_token": payload.access_token.strip()}
    if payload.refresh_token:
        credentials["refresh_token"] = payload.refresh_token.strip()
    if payload.expires_at is not None:
        credentials["expires_at"] = aware(payload.expires_at, "expires_at").isoformat()
    if payload.account_id:
        credentials["account_id"] = payload.account_id.strip()
    return credentials


@router.get("/channels", response=ChannelPage, summary="Connected channels and their status")
@require("workspace.view")
def list_channels(request, page: Query[PageQuery]):
    return paginate(Channel.objects.filter(workspace=request.auth.workspace), page, channel_out)


@router.post("/channels", response={201: ChannelOut}, summary="Connect an account")
@require("channels.manage")
def create_channel(request, payload: ChannelIn, response: HttpResponse):
    base_url = payload.base_url or default_base_url(payload.network)
    if not base_url:
        raise invalid(_("Give the address of the instance, e.g. https://mastodon.social."),
                      "base_url")  # fmt: skip
    try:
        channel = channels_service.connect(
            request.auth.workspace, payload.network, base_url, credentials_from(payload),
            actor=request.auth.user, request=request, name=payload.name,
        )  # fmt: skip
    except channels_service.ChannelError as error:
        if error.field:
            raise invalid(error.message, error.field) from None
        raise ApiError(422, error.code or "invalid", error.message) from None
    response.status_code = 201
    return channel_out(channel)


@router.get("/channels/{channel_id}", response=ChannelOut)
@require("workspace.view")
def get_channel(request, channel_id: int):
    return channel_out(
        get_object_or_404(Channel.objects.filter(workspace=request.auth.workspace), pk=channel_id)
    )


@router.delete("/channels/{channel_id}", response={204: None}, summary="Remove a channel")
@require("channels.manage")
def delete_channel(request, channel_id: int):
    channel = get_object_or_404(
        Channel.objects.filter(workspace=request.auth.workspace), pk=channel_id
    )
    try:
        channels_service.remove(channel, actor=request.auth.user, request=request)
    except channels_service.ChannelError as error:
        raise ApiError(409, "conflict", error.message) from None
    return HttpResponse(status=204)


# Posts ------------------------------------------------------------------------------------


class LogOut(Schema):
    at: datetime
    event: str
    state: str
    request: str
    status_code: int | None
    duration_ms: int | None
    message: str
    url: str


class DeliveryOut(Schema):
    id: int
    post: int
    channel: int
    network: str
    state: str
    state_label: str
    hold_reason: str
    due_at: datetime
    next_attempt_at: datetime | None
    attempts: int
    url: str | None
    remote_id: str
    published_at: datetime | None
    error: str
    error_code: str


class DeliveryDetailOut(DeliveryOut):
    log: list[LogOut]


def delivery_out(delivery, with_log=False):
    data = {
        "id": delivery.pk,
        "post": delivery.post_id,
        "channel": delivery.channel_id,
        "network": delivery.channel.network,
        "state": delivery.state,
        "state_label": str(delivery.get_state_display()),
        "hold_reason": delivery.hold_reason,
        "due_at": delivery.due_at,
        "next_attempt_at": delivery.next_attempt_at
        if delivery.state in ("scheduled", "retrying")
        else None,
        "attempts": delivery.attempts,
        "url": delivery.remote_url or None,
        "remote_id": delivery.remote_id,
        "published_at": delivery.published_at,
        "error": delivery.error_message,
        "error_code": delivery.error_code,
    }
    if with_log:
        data["log"] = [
            {
                "at": line.at,
                "event": line.event,
                "state": line.state,
                "request": line.request,
                "status_code": line.status_code,
                "duration_ms": line.duration_ms,
                "message": line.message,
                "url": line.url,
            }
            for line in delivery.log.all()
        ]
    return data


class VariantOut(Schema):
    channel: int
    text: str
    customised: bool


class PostOut(Schema):
    id: int
    title: str
    text: str
    thread: list[str]
    first_comment: str
    status: str
    status_label: str
    publish_at: datetime | None
    channels: list[int]
    variants: list[VariantOut]
    revision: int
    approved_revision: int | None
    approved_at: datetime | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deliveries: list[DeliveryOut]


def post_out(post):
    variants = list(post.variants.all())
    return {
        "id": post.pk,
        "title": post.title,
        "text": post.text,
        "thread": list(post.thread or []),
        "first_comment": post.first_comment,
        "status": post.status,
        "status_label": str(post.get_status_display()),
        "publish_at": post.publish_at,
        "channels": [variant.channel_id for variant in variants],
        "variants": [
            {
                "channel": variant.channel_id,
                "text": variant.effective_text,
                "customised": variant.text is not None,
            }
            for variant in variants
        ],
        "revision": post.revision,
        "approved_revision": post.approved_revision,
        "approved_at": post.approved_at,
        "published_at": post.published_at,
        "created_at": post.created_at,
        "updated_at": post.updated_at,
        "deliveries": [delivery_out(delivery) for delivery in post.deliveries.all()],
    }


class PostPage(Schema):
    items: list[PostOut]
    next: str | None


class PostIn(Schema):
    text: str = Field("", max_length=100_000)
    title: str = Field("", max_length=200)
    channels: list[int] = Field(default_factory=list)
    publish_at: datetime | None = None
    thread: list[str] = Field(default_factory=list, max_length=25)
    first_comment: str = Field("", max_length=10_000)
    # Per-channel texts: {"<channel id>": "text"}; the others inherit `text`.
    variants: dict[str, str | None] = Field(default_factory=dict)
    # Create as a draft instead of scheduling (or sending for review).
    draft: bool = False


class PostPatch(Schema):
    text: str | None = Field(None, max_length=100_000)
    title: str | None = Field(None, max_length=200)
    channels: list[int] | None = None
    publish_at: datetime | None = None
    thread: list[str] | None = Field(None, max_length=25)
    first_comment: str | None = Field(None, max_length=10_000)
    variants: dict[str, str | None] | None = None


class ScheduleIn(Schema):
    publish_at: datetime | None = None


class DecisionIn(Schema):
    comment: str = Field("", max_length=4000)


class PeriodQuery(PageQuery):
    start: datetime | None = None
    end: datetime | None = None
    status: Literal[tuple(PostStatus.values)] | None = None


def workspace_posts(request):
    return workspace_posts_for(request.auth.workspace)


def post_error(error):
    if error.code == "forbidden":
        return ApiError(403, "forbidden", error.message)
    if error.field:
        return invalid(error.message, error.field)
    if error.problems:
        return ApiError(
            422,
            error.code,
            error.message,
            {"text": [str(problem) for problem in error.problems]},
        )
    if error.code in ("state", "started", "needs_approval"):
        return ApiError(409, "conflict", error.message)
    return ApiError(422, "invalid", error.message)


def reload(post):
    return workspace_posts_for(post.workspace).get(pk=post.pk)


def workspace_posts_for(workspace):
    return Post.objects.filter(workspace=workspace).prefetch_related(
        Prefetch("variants", queryset=PostVariant.objects.order_by("channel_id")),
        Prefetch("deliveries", queryset=Delivery.objects.select_related("channel")),
    )


@router.get("/posts", response=PostPage, summary="Posts, by period and status")
@require("workspace.view")
def list_posts(request, query: Query[PeriodQuery]):
    posts = workspace_posts(request)
    start, end = aware(query.start, "start"), aware(query.end, "end")
    if start and end and (end <= start or end - start > MAX_PERIOD):
        raise invalid(_("The end must come after the start, at most 400 days later."), "end")
    if start:
        posts = posts.filter(publish_at__gte=start)
    if end:
        posts = posts.filter(publish_at__lt=end)
    if query.status:
        posts = posts.filter(status=query.status)
    return paginate(posts, query, post_out)


@router.post("/posts", response={201: PostOut}, summary="Write a post (and schedule it)")
@require("content.draft")
def create_post(request, payload: PostIn, response: HttpResponse):
    """Creates the post. Unless `draft` is true, a post with channels is then scheduled at
    `publish_at` (now when absent) when the workspace does not require approval and the
    token may schedule; otherwise it is sent for review."""
    access = request.auth
    publish_at = aware(payload.publish_at, "publish_at")
    try:
        post = posts_service.create_post(
            access.workspace, access.user, access.role, text=payload.text, title=payload.title,
            channels=payload.channels, publish_at=publish_at, thread=payload.thread,
            first_comment=payload.first_comment, variants=payload.variants, request=request,
        )  # fmt: skip
        if not payload.draft and payload.channels:
            settings = deliveries_service.settings_for(access.workspace)
            from tribu.core.roles import has_permission

            if settings.require_approval or not has_permission(access.role, "content.schedule"):
                posts_service.submit(post, access.user, access.role, request=request)
            else:
                posts_service.schedule(post, access.user, access.role, request=request)
    except posts_service.PostError as error:
        raise post_error(error) from None
    response.status_code = 201
    return post_out(reload(post))


@router.get("/posts/{post_id}", response=PostOut)
@require("workspace.view")
def get_post(request, post_id: int):
    return post_out(get_object_or_404(workspace_posts(request), pk=post_id))


@router.patch("/posts/{post_id}", response=PostOut, summary="Edit a post")
@require("content.draft")
def update_post(request, post_id: int, payload: PostPatch):
    post = get_object_or_404(workspace_posts(request), pk=post_id)
    changes = payload.dict(exclude_unset=True)
    if "publish_at" in changes:
        changes["publish_at"] = aware(payload.publish_at, "publish_at")
    try:
        post = posts_service.update_post(
            post, request.auth.user, request.auth.role, request=request, **changes
        )
    except posts_service.PostError as error:
        raise post_error(error) from None
    return post_out(reload(post))


@router.delete("/posts/{post_id}", response={204: None}, summary="Delete a post")
@require("content.draft")
def delete_post(request, post_id: int):
    post = get_object_or_404(workspace_posts(request), pk=post_id)
    try:
        posts_service.delete_post(post, request.auth.user, request.auth.role, request=request)
    except posts_service.PostError as error:
        raise post_error(error) from None
    return HttpResponse(status=204)


def _post_action(request, post_id, action, **kwargs):
    post = get_object_or_404(workspace_posts(request), pk=post_id)
    try:
        action(post, request.auth.user, request.auth.role, request=request, **kwargs)
    except posts_service.PostError as error:
        raise post_error(error) from None
    return post_out(reload(post))


@router.post("/posts/{post_id}/schedule", response=PostOut, summary="Schedule a post")
@require("content.schedule")
def schedule_post(request, post_id: int, payload: ScheduleIn):
    publish_at = aware(payload.publish_at, "publish_at")
    return _post_action(request, post_id, posts_service.schedule, publish_at=publish_at)


@router.post("/posts/{post_id}/unschedule", response=PostOut, summary="Take off the queue")
@require("content.schedule")
def unschedule_post(request, post_id: int):
    return _post_action(request, post_id, posts_service.unschedule)


@router.post("/posts/{post_id}/submit", response=PostOut, summary="Send for review")
@require("content.draft")
def submit_post(request, post_id: int, payload: DecisionIn):
    return _post_action(request, post_id, posts_service.submit, comment=payload.comment)


@router.post("/posts/{post_id}/approve", response=PostOut, summary="Approve a post")
@require("content.approve")
def approve_post(request, post_id: int, payload: DecisionIn):
    return _post_action(request, post_id, posts_service.approve, comment=payload.comment)


@router.post("/posts/{post_id}/reject", response=PostOut, summary="Ask for changes")
@require("content.approve")
def reject_post(request, post_id: int, payload: DecisionIn):
    return _post_action(request, post_id, posts_service.reject, comment=payload.comment)


# Deliveries -------------------------------------------------------------------------------


@router.get("/deliveries/{delivery_id}", response=DeliveryDetailOut, summary="Status and log")
@require("workspace.view")
def get_delivery(request, delivery_id: int):
    delivery = get_object_or_404(
        Delivery.objects.filter(workspace=request.auth.workspace)
        .select_related("channel")
        .prefetch_related("log"),
        pk=delivery_id,
    )
    return delivery_out(delivery, with_log=True)


# The crisis switch ------------------------------------------------------------------------


class PauseIn(Schema):
    reason: str = Field("", max_length=255)


class PauseOut(Schema):
    paused: bool
    paused_at: datetime | None
    reason: str
    held: int
    released: list[int]
    stale: list[int]


@router.get("/publishing/pause", response=PauseOut, summary="Whether publishing is paused")
@require("workspace.view")
def get_pause(request):
    settings = deliveries_service.settings_for(request.auth.workspace)
    return {
        "paused": settings.paused,
        "paused_at": settings.paused_at,
        "reason": settings.pause_reason,
        "held": pause_service.held_by_pause(request.auth.workspace).count(),
        "released": [],
        "stale": [],
    }


@router.post("/publishing/pause", response=PauseOut, summary="Hold every delivery (crisis)")
@require("publishing.pause")
def pause_publishing(request, payload: PauseIn):
    held = pause_service.pause(
        request.auth.workspace, request.auth.user, reason=payload.reason, request=request
    )
    settings = deliveries_service.settings_for(request.auth.workspace)
    return {
        "paused": True,
        "paused_at": settings.paused_at,
        "reason": settings.pause_reason,
        "held": held,
        "released": [],
        "stale": [],
    }


@router.post(
    "/publishing/resume",
    response=PauseOut,
    summary="Resume; lists the deliveries now too late to publish without a decision",
)
@require("publishing.pause")
def resume_publishing(request):
    released, stale = pause_service.resume(
        request.auth.workspace, request.auth.user, request=request
    )
    return {
        "paused": False,
        "paused_at": None,
        "reason": "",
        "held": 0,
        "released": released,
        "stale": stale,
    }
