"""Notifications (the in-app centre), per-user preferences, outgoing webhooks, and the
deliveries (emails and webhook calls) the worker sends, retries and logs.

One Delivery model serves both channels: an email to one user and a POST to one webhook
move through the same states (pending → succeeded | failed), are claimed by the same tick
and retried with the same back-off, and their attempts are read in the same log.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tribu.core.fields import EncryptedTextField
from tribu.core.models import Workspace


class Notification(models.Model):
    """One thing a user should know about, in one workspace. Texts are rendered from
    (kind, params) in the reader's language when shown or sent."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    event_id = models.UUIDField(null=True, blank=True)  # shared by one notify() call
    created_at = models.DateTimeField(default=now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Email: pending until a batch (immediate or digest) takes it into a Delivery.
    email_pending = models.BooleanField(default=False)
    email_delivery = models.ForeignKey(
        "Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )

    class Meta:
        indexes = [
            # "My unread, newest first" and the header badge's count.
            models.Index(
                fields=["user", "workspace", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notif_unread_idx",
            ),
            models.Index(fields=["user", "workspace", "-created_at"], name="notif_list_idx"),
            models.Index(
                fields=["user", "workspace"],
                condition=Q(email_pending=True),
                name="notif_email_pending_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.user_id}"


class NotificationPreference(models.Model):
    """How one user wants to hear from one workspace."""

    class Email(models.TextChoices):
        OFF = "off", _("No email")
        IMMEDIATE = "immediate", _("Immediately")
        HOURLY = "hourly", _("Hourly digest")
        DAILY = "daily", _("Daily digest (at 08:00)")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(
        _("email"), max_length=10, choices=Email.choices, default=Email.IMMEDIATE
    )
    # Local wall-clock times in the workspace's time zone; start > end crosses midnight.
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    muted_kinds = models.JSONField(default=list, blank=True)
    # When this user's next email (immediate batch or digest) is due: the tick claims it.
    next_email_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="notif_pref_unique")
        ]

    def __str__(self):
        return f"{self.user_id}@{self.workspace_id}: {self.email}"


def new_secret():
    return "whsec_" + secrets.token_urlsafe(32)


class Webhook(models.Model):
    class Format(models.TextChoices):
        GENERIC = "generic", _("Generic JSON (signed)")
        SLACK = "slack", _("Slack")
        MATTERMOST = "mattermost", _("Mattermost")
        TEAMS = "teams", _("Microsoft Teams (Workflows)")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("address"), max_length=500)
    format = models.CharField(
        _("format"), max_length=12, choices=Format.choices, default=Format.GENERIC
    )
    secret = EncryptedTextField(default=new_secret)
    # Kind names sent to this webhook; empty means every kind.
    kinds = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=now)

    def __str__(self):
        return self.name

    def wants(self, kind):
        return self.enabled and (not self.kinds or kind in self.kinds)


class Delivery(models.Model):
    """One email to one user, or one event POSTed to one webhook, with its retries."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    kind = models.CharField(max_length=100, blank=True)  # webhook: the event's kind
    # Webhook: the event (id, kind, params, url, created_at), rendered at send time.
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP status
    last_error = models.TextField(blank=True)  # plain words, workspace language
    response_excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="delivery_due_idx",
            ),
            models.Index(fields=["webhook", "-created_at"], name="delivery_webhook_idx"),
        ]

    def __str__(self):
        return f"{self.channel} {self.pk} {self.state}"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, what the receiver answered, what went wrong."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=now)
    ok = models.BooleanField(default=False)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
