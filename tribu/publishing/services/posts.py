"""Posts: write, send for review, approve or reject, schedule, unschedule, comment.

Every function takes the acting user and their role in the workspace, and checks the role
matrix itself, so the web pages, the API and commands share one set of rules. Moves follow
POST_TRANSITIONS with a conditional UPDATE on the status the caller saw.

Approval: when the workspace requires it, a post is scheduled only once the revision being
scheduled was approved. Any edit of the content bumps the revision; an edit after approval
sends the post back to review and takes its deliveries off the queue.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.channels.models import Channel, ChannelState
from tribu.core.roles import has_permission
from tribu.core.services.audit import record
from tribu.publishing.models import (
    Post,
    PostComment,
    PostStatus,
    PostVariant,
)
from tribu.publishing.services import deliveries
from tribu.publishing.services.deliveries import STARTED_STATES, DeliveryError

COMMENT_MAX_LENGTH = 4000
CONTENT_FIELDS = ("text", "thread", "first_comment", "link_card")


class PostError(Exception):
    """A refused action; `message` says why and what to do, `field` names the input."""

    def __init__(self, message, *, field=None, code="invalid", problems=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.problems = problems or []


def require(role, permission):
    if not has_permission(role, permission):
        raise PostError(
            _("Your role in this workspace does not allow this action."), code="forbidden"
        )


def _channels(workspace, channel_ids):
    ids = []
    for value in channel_ids or ():
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise PostError(
                _("“%(value)s” is not a channel id.") % {"value": value}, field="channels"
            ) from None
    channels = list(Channel.objects.filter(workspace=workspace, pk__in=ids))
    missing = set(ids) - {channel.pk for channel in channels}
    if missing:
        raise PostError(
            _("These channels do not exist in this workspace: %(ids)s.")
            % {"ids": ", ".join(str(pk) for pk in sorted(missing))},
            field="channels",
        )
    disabled = [channel.name for channel in channels if channel.state == ChannelState.DISABLED]
    if disabled:
        raise PostError(
            _("These channels are disabled: %(names)s. Enable them or pick others.")
            % {"names": ", ".join(disabled)},
            field="channels",
        )
    return channels


def _clean_thread(thread):
    if thread is None:
        return []
    if isinstance(thread, str):
        thread = [thread]
    return [str(part) for part in thread if str(part).strip()]


def started(post):
    return post.pk and post.deliveries.filter(state__in=STARTED_STATES).exists()


# Writing ----------------------------------------------------------------------------------


def create_post(workspace, actor, role, *, text="", title="", channels=(), publish_at=None,
                thread=None, first_comment="", variants=None, link_card=None,
                request=None):  # fmt: skip
    """A new draft. `variants` maps a channel id to its own text (others inherit)."""
    require(role, "content.draft")
    channel_rows = _channels(workspace, channels)
    now = timezone.now()
    with transaction.atomic():
        post = Post.objects.create(
            workspace=workspace,
            title=(title or "")[:200],
            text=text or "",
            thread=_clean_thread(thread),
            first_comment=first_comment or "",
            link_card=link_card or {},
            publish_at=publish_at,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        _set_variants(post, channel_rows, variants or {})
        record(workspace, "post.created", actor=actor, request=request, target=str(post)[:120],
               post_id=post.pk)  # fmt: skip
    return post


def _set_variants(post, channels, texts):
    keep = {channel.pk for channel in channels}
    post.variants.exclude(channel_id__in=keep).delete()
    existing = {variant.channel_id: variant for variant in post.variants.all()}
    for channel in channels:
        variant = existing.get(channel.pk) or PostVariant(post=post, channel=channel)
        if channel.pk in texts or str(channel.pk) in texts:
            value = texts.get(channel.pk, texts.get(str(channel.pk)))
            variant.text = None if value is None or value == post.text else value
        variant.save()


def update_post(post, actor, role, *, request=None, **changes):
    """Edit a post. Content edits bump the revision; after an approval they send the post
    back to review (when the workspace requires approval). Changing the time or the
    channels of a scheduled post moves its queued deliveries."""
    require(role, "content.draft")
    if post.status == PostStatus.SCHEDULED and ("publish_at" in changes or "channels" in changes):
        # Moving what is on the queue is scheduling.
        require(role, "content.schedule")
    if post.status == PostStatus.PUBLISHED or started(post):
        raise PostError(
            _(
                "This post is already published (or being published) on at least one "
                "channel: it can no longer be edited. Duplicate it to publish a new version."
            ),
            code="started",
        )
    settings = deliveries.settings_for(post.workspace)
    now = timezone.now()
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        content_changed = False
        for name in CONTENT_FIELDS:
            if name in changes:
                value = changes[name]
                if name == "thread":
                    value = _clean_thread(value)
                if name in ("text", "first_comment"):
                    value = value or ""
                if getattr(post, name) != value:
                    setattr(post, name, value)
                    content_changed = True
        if "title" in changes:
            post.title = (changes["title"] or "")[:200]
        time_changed = "publish_at" in changes and changes["publish_at"] != post.publish_at
        if time_changed:
            post.publish_at = changes["publish_at"]
        channels_changed = False
        if "channels" in changes or "variants" in changes:
            channel_ids = changes.get("channels")
            if channel_ids is None:
                channel_ids = list(post.variants.values_list("channel_id", flat=True))
            before = set(post.variants.values_list("channel_id", "text"))
            _set_variants(post, _channels(post.workspace, channel_ids), changes.get("variants")
                          or {})  # fmt: skip
            after = set(post.variants.values_list("channel_id", "text"))
            channels_changed = {c for c, _t in before} != {c for c, _t in after}
            content_changed = content_changed or before != after
        if content_changed:
            post.revision += 1
        post.updated_at = now
        post.save()
        needs_review = (
            content_changed
            and settings.require_approval
            and post.status in (PostStatus.APPROVED, PostStatus.SCHEDULED)
        )
        if needs_review:
            deliveries.drop_pending(post)
            post.status = PostStatus.IN_REVIEW
            post.save(update_fields=["status"])
            PostComment.objects.create(
                post=post, kind=PostComment.Kind.REOPENED, author=actor, revision=post.revision
            )
            record(post.workspace, "post.reopened", actor=actor, request=request,
                   target=str(post)[:120], post_id=post.pk)  # fmt: skip
        elif post.status == PostStatus.SCHEDULED:
            if channels_changed:
                deliveries.create_for_post(post, now=now)
            if time_changed:
                deliveries.reschedule(post, post.publish_at or now)
        record(post.workspace, "post.updated", actor=actor, request=request,
               target=str(post)[:120], post_id=post.pk)  # fmt: skip
    return post


def delete_post(post, actor, role, *, request=None):
    require(role, "content.draft")
    if started(post):
        raise PostError(
            _("This post is published (or being published) on a channel: it cannot be deleted."),
            code="started",
        )
    record(post.workspace, "post.deleted", actor=actor, request=request, target=str(post)[:120])
    post.delete()


# Moving through the approval and scheduling states ----------------------------------------


def _move(post, status, expect=None):
    seen = expect or (post.status,)
    if post.status not in seen or not all(status in _transitions(s) for s in seen):
        raise PostError(
            _("This post is %(status)s; that action is not possible now.")
            % {"status": post.get_status_display().lower()},
            code="state",
        )
    moved = Post.objects.filter(pk=post.pk, status__in=seen).update(
        status=status, updated_at=timezone.now()
    )
    if not moved:
        raise PostError(_("Someone else changed this post meanwhile: reload the page."))
    post.status = status
    return post


def _transitions(status):
    from tribu.publishing.models import POST_TRANSITIONS

    return POST_TRANSITIONS[PostStatus(status)]


def validate_for_channels(post):
    """Problems that keep the post from being published on its channels (errors only)."""
    from tribu.publishing.services.validation import problems_for_post

    errors = [
        _("%(channel)s: %(problem)s") % {"channel": channel.name, "problem": problem.message}
        for channel, problem in problems_for_post(post)
        if problem.severity == "error"
    ]
    if errors:
        raise PostError(
            _("The post cannot be published as it is. %(problems)s")
            % {"problems": " ".join(errors)},
            code="invalid_content",
            problems=errors,
        )


def _check_ready(post):
    if not post.variants.exists():
        raise PostError(_("Choose at least one channel to publish on."), field="channels")
    validate_for_channels(post)


def submit(post, actor, role, *, comment="", request=None):
    """Send a draft for review."""
    require(role, "content.draft")
    _check_ready(post)
    with transaction.atomic():
        _move(post, PostStatus.IN_REVIEW, expect=(PostStatus.DRAFT,))
        PostComment.objects.create(
            post=post, kind=PostComment.Kind.SUBMITTED, author=actor,
            text=comment[:COMMENT_MAX_LENGTH], revision=post.revision,
        )  # fmt: skip
        record(post.workspace, "post.submitted", actor=actor, request=request,
               target=str(post)[:120], post_id=post.pk)  # fmt: skip
    from tribu.publishing.services.notifying import review_requested

    review_requested(post, actor)
    return post


def approve(post, actor, role, *, comment="", request=None, reviewer_name=""):
    """Approve the post's current revision; a post with a time is then scheduled."""
    if actor is not None:
        require(role, "content.approve")
    now = timezone.now()
    with transaction.atomic():
        _move(post, PostStatus.APPROVED, expect=(PostStatus.IN_REVIEW,))
        Post.objects.filter(pk=post.pk).update(
            approved_revision=post.revision, approved_by=actor, approved_at=now,
            approved_by_name=reviewer_name[:255],
        )  # fmt: skip
        post.approved_revision = post.revision
        PostComment.objects.create(
            post=post, kind=PostComment.Kind.APPROVED, author=actor, author_name=reviewer_name,
            text=comment[:COMMENT_MAX_LENGTH], revision=post.revision,
        )  # fmt: skip
        if actor is not None:
            record(post.workspace, "post.approved", actor=actor, request=request,
                   target=str(post)[:120], post_id=post.pk)  # fmt: skip
        else:
            record(post.workspace, "post.approved_by_client", request=request,
                   target=str(post)[:120], post_id=post.pk, reviewer=reviewer_name)  # fmt: skip
        if post.publish_at is not None:
            _schedule(post, now)
    return post


def reject(post, actor, role, *, comment="", request=None, reviewer_name=""):
    """Ask for changes: the post goes back to draft with the reviewer's comment."""
    if actor is not None:
        require(role, "content.approve")
    if not comment.strip():
        raise PostError(_("Say what should change, so the writer knows."), field="comment")
    with transaction.atomic():
        _move(post, PostStatus.DRAFT, expect=(PostStatus.IN_REVIEW,))
        PostComment.objects.create(
            post=post, kind=PostComment.Kind.REJECTED, author=actor, author_name=reviewer_name,
            text=comment[:COMMENT_MAX_LENGTH], revision=post.revision,
        )  # fmt: skip
        if actor is not None:
            record(post.workspace, "post.rejected", actor=actor, request=request,
                   target=str(post)[:120], post_id=post.pk)  # fmt: skip
        else:
            record(post.workspace, "post.rejected_by_client", request=request,
                   target=str(post)[:120], post_id=post.pk, reviewer=reviewer_name)  # fmt: skip
    return post


def schedule(post, actor, role, *, publish_at=None, request=None):
    """Put the post on the queue at `publish_at` (or its own time; now when it has none).

    Without required approval a draft goes straight to scheduled. With it, only an
    approved post whose current revision was approved can be scheduled; a draft is sent for
    review instead (and scheduled when approved)."""
    require(role, "content.schedule")
    settings = deliveries.settings_for(post.workspace)
    now = timezone.now()
    if publish_at is not None:
        post.publish_at = publish_at
        Post.objects.filter(pk=post.pk).update(publish_at=publish_at)
    _check_ready(post)
    if settings.require_approval and post.approved_revision != post.revision:
        if post.status == PostStatus.DRAFT:
            return submit(post, actor, role, request=request)
        raise PostError(
            _("This post must be approved before it is scheduled."), code="needs_approval"
        )
    with transaction.atomic():
        if post.publish_at is None:
            post.publish_at = now
            Post.objects.filter(pk=post.pk).update(publish_at=now)
        _schedule(post, now)
        record(post.workspace, "post.scheduled", actor=actor, request=request,
               target=str(post)[:120], post_id=post.pk,
               publish_at=post.publish_at.isoformat())  # fmt: skip
    return post


def _schedule(post, now):
    _move(post, PostStatus.SCHEDULED, expect=(post.status,))
    try:
        deliveries.create_for_post(post, now=now)
    except DeliveryError as error:
        raise PostError(error.args[0]) from None


def unschedule(post, actor, role, *, request=None):
    """Take a scheduled post off the queue (back to approved, or draft)."""
    require(role, "content.schedule")
    target = PostStatus.APPROVED if post.approved_revision == post.revision else PostStatus.DRAFT
    with transaction.atomic():
        try:
            deliveries.drop_pending(post)
        except DeliveryError as error:
            raise PostError(error.args[0], code="started") from None
        _move(post, target, expect=(PostStatus.SCHEDULED,))
        record(post.workspace, "post.unscheduled", actor=actor, request=request,
               target=str(post)[:120], post_id=post.pk)  # fmt: skip
    return post


def add_comment(post, actor, role, text, *, author_name=""):
    if actor is not None:
        require(role, "workspace.view")
    text = (text or "").strip()
    if not text:
        raise PostError(_("Write a comment first."), field="text")
    return PostComment.objects.create(
        post=post, author=actor, author_name=author_name[:255],
        text=text[:COMMENT_MAX_LENGTH], revision=post.revision,
    )  # fmt: skip


def duplicate(post, actor, role, *, request=None):
    """A new draft with the same content and channels (to publish a new version)."""
    require(role, "content.draft")
    variants = {v.channel_id: v.text for v in post.variants.all() if v.text is not None}
    return create_post(
        post.workspace, actor, role, text=post.text, title=post.title,
        channels=list(post.variants.values_list("channel_id", flat=True)),
        thread=post.thread, first_comment=post.first_comment, variants=variants,
        request=request,
    )  # fmt: skip


def in_period(workspace, start, end):
    """Posts with a time in [start, end), for the calendar and the API."""
    return (
        Post.objects.filter(workspace=workspace, publish_at__gte=start, publish_at__lt=end)
        .prefetch_related("variants__channel", "deliveries")
        .order_by("publish_at", "id")
    )


def default_link_lifetime():
    return timedelta(days=7)
