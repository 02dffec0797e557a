"""Posts, their per-channel variants, approvals, rituals, and the deliveries that publish them.

Two explicit state graphs live here.

A post (POST_TRANSITIONS): draft → in review → approved → scheduled → published. A
workspace that does not require approval goes draft → scheduled directly. A rejection sends
a post back to draft; an edit after approval sends it back to review.

A delivery is one post on one channel (DELIVERY_TRANSITIONS):

    scheduled → claimed → sending → published
                                  → retrying → claimed …      (429, 5xx: the network said no)
                                  → failed                     (permanent: fix and retry)
                                  → unknown                    (timeout after the request left)
    scheduled / retrying → held   (crisis pause, channel to reconnect, too late)

`claimed` means a worker owns the row and has not contacted the network: a crash there is
harmless and the lease sends it back to `scheduled`. `sending` means the request may have
reached the network: it is never blindly sent again. A network with idempotency (Mastodon's
Idempotency-Key, Bluesky's record key) makes the retry safe; otherwise the reconciler looks
for the post on the network first, and what it cannot settle waits in `unknown` for a human.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tribu.channels.models import Channel
from tribu.core.fields import EncryptedTextField
from tribu.core.models import Workspace


class PublishingSettings(models.Model):
    """A workspace's publishing rules, crisis switch and editorial line."""

    workspace = models.OneToOneField(
        Workspace, primary_key=True, on_delete=models.CASCADE, related_name="publishing"
    )
    require_approval = models.BooleanField(
        _("posts need approval before they are scheduled"), default=False
    )
    # A post due while no worker ran is still published if it is at most this late;
    # later, it waits for a human (publish now, reschedule or drop).
    late_limit_minutes = models.PositiveIntegerField(
        _("publish late posts up to (minutes)"), default=30
    )
    # Links in posts go through /l/<code> with UTM parameters per channel and post.
    shorten_links = models.BooleanField(_("shorten links in posts (with UTM parameters)"),
                                        default=False)  # fmt: skip
    # The crisis switch: while set, every delivery of the workspace is held.
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pause_reason = models.CharField(max_length=255, blank=True)
    # The editorial line: the composer warns when a draft strays from it.
    editorial_tone = models.TextField(_("tone"), blank=True)
    words_to_avoid = models.TextField(_("words to avoid (one per line)"), blank=True)
    hashtags_to_add = models.TextField(_("hashtags to always add (one per line)"), blank=True)
    # The calendar's ICS feed: a secret URL. The token is kept encrypted so the team can
    # copy the address again; its hash finds the workspace.
    ics_token = EncryptedTextField(blank=True, default="")
    ics_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("publishing settings")
        verbose_name_plural = _("publishing settings")

    @property
    def paused(self):
        return self.paused_at is not None


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")


POST_TRANSITIONS = {
    PostStatus.DRAFT: {PostStatus.IN_REVIEW, PostStatus.SCHEDULED},
    PostStatus.IN_REVIEW: {PostStatus.APPROVED, PostStatus.DRAFT},
    PostStatus.APPROVED: {PostStatus.SCHEDULED, PostStatus.IN_REVIEW, PostStatus.DRAFT},
    PostStatus.SCHEDULED: {
        PostStatus.PUBLISHED,
        PostStatus.APPROVED,
        PostStatus.IN_REVIEW,
        PostStatus.DRAFT,
    },
    PostStatus.PUBLISHED: set(),
}


class Ritual(models.Model):
    """A recurring slot of the calendar ("every Tuesday at 9:00, #MardiConseil"): an RFC 5545
    recurrence rule read in the workspace's time zone, so 9:00 stays 9:00 across daylight
    saving changes. Each occurrence becomes a post, with its own text or the template."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="rituals")
    name = models.CharField(_("name"), max_length=120)
    # An RRULE value without DTSTART, e.g. "FREQ=WEEKLY;BYDAY=TU".
    rule = models.CharField(_("recurrence rule"), max_length=500)
    # The first occurrence, as a local wall-clock date and time in the workspace's zone.
    starts_on = models.DateField(_("first day"))
    at_time = models.TimeField(_("time"))
    channels = models.ManyToManyField(Channel, related_name="rituals", blank=True)
    template = models.TextField(_("template"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Local datetimes (ISO, no offset) of occurrences the team removed from the series.
    skipped = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("ritual")
        verbose_name_plural = _("rituals")

    def __str__(self):
        return self.name


class Post(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(_("internal title"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    # Follow-up parts where the network has threads, and a first comment where it has one.
    thread = models.JSONField(default=list, blank=True)
    first_comment = models.TextField(_("first comment"), blank=True)
    # The link card: {"url", "title", "description", "image"} fetched from the first link.
    link_card = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    ritual = models.ForeignKey(
        Ritual, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    # The occurrence of the ritual this post fills (UTC), unique per ritual.
    occurrence_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every edit of the content; an approval is for one revision.
    revision = models.PositiveIntegerField(default=1)
    approved_revision = models.PositiveIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_name = models.CharField(max_length=255, blank=True)  # a client, by link
    approved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["publish_at", "id"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [models.Index(fields=["workspace", "publish_at"], name="post_ws_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["ritual", "occurrence_at"],
                condition=Q(ritual__isnull=False),
                name="one_post_per_ritual_occurrence",
            )
        ]

    def __str__(self):
        return self.title or self.text[:60] or f"#{self.pk}"

    def can_move_to(self, status):
        return status in POST_TRANSITIONS[PostStatus(self.status)]


class PostVariant(models.Model):
    """The post on one channel. Empty fields inherit the post's, until someone edits them:
    the set of a post's variants is the set of its channels."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("text"), null=True, blank=True)
    thread = models.JSONField(null=True, blank=True)
    first_comment = models.TextField(_("first comment"), null=True, blank=True)

    class Meta:
        ordering = ["channel__network", "channel__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "channel"], name="one_variant_per_channel")
        ]

    @property
    def effective_text(self):
        return self.post.text if self.text is None else self.text

    @property
    def effective_thread(self):
        return self.post.thread if self.thread is None else self.thread

    @property
    def effective_first_comment(self):
        return self.post.first_comment if self.first_comment is None else self.first_comment


class PostMedia(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    file = models.ImageField(_("image"), upload_to="posts/%Y/%m/")
    alt_text = models.TextField(_("alternative text"), blank=True)
    content_type = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class PostComment(models.Model):
    """The post's discussion, and its approval history (submitted, approved, rejected)."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        SUBMITTED = "submitted", _("Sent for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Changes requested")
        REOPENED = "reopened", _("Edited after approval")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMMENT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=255, blank=True)  # a client, through a link
    text = models.TextField(_("comment"), blank=True, max_length=4000)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]


def new_token():
    return secrets.token_urlsafe(32)


class ApprovalLink(models.Model):
    """A signed, expiring link a client uses to approve or reject one revision of a post
    without an account. Only a hash of the token is kept; an edit invalidates the link."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="approval_links")
    token_hash = models.CharField(max_length=64, unique=True)
    revision = models.PositiveIntegerField()
    reviewer_name = models.CharField(_("reviewer"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=16, blank=True)  # approved | rejected

    class Meta:
        ordering = ["-created_at"]


class DeliveryState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CLAIMED = "claimed", _("Being prepared")
    SENDING = "sending", _("Sending")
    PUBLISHED = "published", _("Published")
    RETRYING = "retrying", _("Will retry")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class HoldReason(models.TextChoices):
    PAUSED = "paused", _("Publishing is paused for this workspace")
    RECONNECT = "reconnect", _("The channel must be reconnected")
    LATE = "late", _("Too late to publish without a decision")


DELIVERY_TRANSITIONS = {
    DeliveryState.SCHEDULED: {
        DeliveryState.CLAIMED,
        DeliveryState.HELD,
        DeliveryState.CANCELLED,
    },
    DeliveryState.CLAIMED: {
        DeliveryState.SENDING,
        DeliveryState.SCHEDULED,  # lease expired or released before any request
        DeliveryState.HELD,
        DeliveryState.CANCELLED,
    },
    DeliveryState.SENDING: {
        DeliveryState.PUBLISHED,
        DeliveryState.RETRYING,
        DeliveryState.FAILED,
        DeliveryState.UNKNOWN,
        DeliveryState.HELD,  # the token died mid-way: held until reconnected
    },
    DeliveryState.RETRYING: {
        DeliveryState.CLAIMED,
        DeliveryState.HELD,
        DeliveryState.CANCELLED,
    },
    DeliveryState.FAILED: {DeliveryState.SCHEDULED, DeliveryState.CANCELLED},
    DeliveryState.UNKNOWN: {
        DeliveryState.PUBLISHED,  # found on the network, or a human says so
        DeliveryState.SCHEDULED,  # the network says it is not there, or "publish again"
        DeliveryState.CANCELLED,
    },
    DeliveryState.HELD: {DeliveryState.SCHEDULED, DeliveryState.CANCELLED},
    DeliveryState.PUBLISHED: set(),
    DeliveryState.CANCELLED: {DeliveryState.SCHEDULED},
}

# States in which a worker may pick the delivery up when `next_attempt_at` has come.
CLAIMABLE_STATES = (DeliveryState.SCHEDULED, DeliveryState.RETRYING)
# States that need a person to look: shown in the calendar and the publishing overview.
ATTENTION_STATES = (DeliveryState.FAILED, DeliveryState.UNKNOWN, DeliveryState.HELD)


class Delivery(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(
        _("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.SCHEDULED
    )
    hold_reason = models.CharField(max_length=16, choices=HoldReason.choices, blank=True)
    # When the post is due; the late rule measures from here.
    due_at = models.DateTimeField()
    # When a worker may next pick it up (the due time, then each retry's time).
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # The worker holding it, and until when: a dead worker's lease expires.
    claimed_by = models.CharField(max_length=255, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Sent with every attempt, so the network can refuse a repeat (Mastodon).
    idempotency_key = models.CharField(max_length=64, default=new_token)
    # What is published, frozen at the first attempt so retries send the same thing.
    content = models.JSONField(default=dict, blank=True)
    # The network's intermediate identifiers, saved before each next call (media ids, the
    # Bluesky record key, Instagram containers): a resumed attempt continues from them.
    stage = models.JSONField(default=dict, blank=True)
    # When the first request that may have reached the network left.
    first_sent_at = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=255, blank=True)
    remote_url = models.URLField(max_length=1000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The last problem: a stable code, the kind (retry_later, reauth, fix_content, fatal,
    # unknown) and a message for people.
    error_code = models.CharField(max_length=64, blank=True)
    error_kind = models.CharField(max_length=16, blank=True)
    error_message = models.TextField(blank=True)
    # When the reconciler should next look for an unknown outcome on the network.
    reconcile_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["workspace", "state"], name="delivery_ws_state"),
            models.Index(fields=["state", "lease_until"], name="delivery_lease"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["post", "channel"], name="one_delivery_per_channel")
        ]

    def __str__(self):
        return f"{self.post} → {self.channel}"

    def can_move_to(self, state):
        return state in DELIVERY_TRANSITIONS[DeliveryState(self.state)]

    @property
    def needs_attention(self):
        return self.state in ATTENTION_STATES


class DeliveryLog(models.Model):
    """One line of a delivery's visible log: a state change or a request to the network."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=now)
    event = models.CharField(max_length=32)
    state = models.CharField(max_length=16, blank=True)  # the state after this event
    # The request: method and path only (never a token), the answer and how long it took.
    request = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]


class QueueSlot(models.Model):
    """A channel's regular publishing time ("Monday 9:00"), local to the workspace: "next
    free slot" picks the first of these with nothing scheduled on the channel."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="queue_slots")
    weekday = models.PositiveSmallIntegerField(_("day"))  # 0 = Monday
    at_time = models.TimeField(_("time"))

    class Meta:
        ordering = ["weekday", "at_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "weekday", "at_time"], name="unique_queue_slot"
            )
        ]


class ShortLink(models.Model):
    """`/l/<code>`: a link in a post, shortened with its UTM parameters for one channel."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True)
    original_url = models.URLField(max_length=2000)
    target_url = models.URLField(max_length=2000)  # with the UTM parameters
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="short_links"
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    clicks = models.PositiveIntegerField(default=0)
    bot_clicks = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at"]


class ShortLinkDay(models.Model):
    """Human clicks per local day, for the post's and the campaign's charts."""

    link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "day"], name="unique_link_day")]
