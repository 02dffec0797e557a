import zoneinfo

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tribu.core.roles import Role

RESERVED_SLUGS = {"new", "api", "admin", "static", "media", "accounts", "invitations", "healthz"}


def timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


# Languages the language detector may answer for a workspace's mentions.
MENTION_LANGUAGES = ("fr", "en", "de", "es", "it", "pt", "nl")


class Workspace(models.Model):
    """A brand or a client. Every business row belongs to exactly one workspace."""

    class Language(models.TextChoices):
        FRENCH = "fr", _("French")
        ENGLISH = "en", _("English")

    class Digest(models.TextChoices):
        OFF = "off", _("Never")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")

    slug = models.SlugField(_("address"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    language = models.CharField(
        _("default language"), max_length=8, choices=Language.choices, default=Language.FRENCH
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    audit_digest = models.CharField(
        _("audit digest to owners"), max_length=8, choices=Digest.choices, default=Digest.WEEKLY
    )
    # Languages mentions are detected among (ISO 639-1, comma-separated): fewer candidates
    # make lingua both faster and more accurate. Sentiment exists for fr and en only.
    mention_languages = models.CharField(
        _("languages of mentions"), max_length=64, default=",".join(MENTION_LANGUAGES)
    )
    # The schedule is data: the tick claims workspaces whose digest is due.
    next_audit_digest_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self):
        return self.name

    @property
    def mention_language_codes(self):
        codes = tuple(c for c in self.mention_languages.split(",") if c in MENTION_LANGUAGES)
        return codes or MENTION_LANGUAGES

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.timezone)


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user, user__is_active=True)


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} ({self.role}) in {self.workspace}"


class Invitation(models.Model):
    """An email invitation: a single-use, expiring link. Only a hash of its token is kept."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def is_pending(self):
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now()


class AuditEvent(models.Model):
    """Who did what, when and from where, in one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=64)
    target_label = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_ws_time")]


class AuditDigest(models.Model):
    """One email digest of audit events sent to a workspace's owners; the unique period makes
    the sending task idempotent."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    event_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "period_end"], name="unique_digest")
        ]


class WorkerHeartbeat(models.Model):
    """Written by each worker process on every tick; /healthz reads the freshest."""

    name = models.CharField(max_length=255, unique=True)
    version = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=now)
    last_seen_at = models.DateTimeField(default=now, db_index=True)
