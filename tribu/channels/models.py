"""Connected social accounts (channels) and what Tribu needs to publish through them.

A channel is one account on one network, in one workspace: a Mastodon account on an
instance, a Bluesky account on its PDS, a LinkedIn member or organization page, a Facebook
Page, an Instagram professional account, an X account, a Threads profile.

Its secrets (tokens, app passwords, refresh tokens) live in one encrypted JSON document.
A channel moves through an explicit state graph (TRANSITIONS): active ⇄ reconnect needed,
and either of them → disabled ⇄ active. While a channel needs reconnecting, its deliveries
are held, never failed: they go out once someone reconnects it.
"""

import json

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tribu.core.fields import EncryptedTextField
from tribu.core.models import Workspace


class Network(models.TextChoices):
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    LINKEDIN = "linkedin", "LinkedIn"
    FACEBOOK = "facebook", _("Facebook Page")
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X"
    THREADS = "threads", "Threads"


class AccountKind(models.TextChoices):
    PROFILE = "profile", _("Profile")
    ORGANIZATION = "organization", _("Organization page")
    PAGE = "page", _("Page")


class ChannelState(models.TextChoices):
    ACTIVE = "active", _("Connected")
    RECONNECT = "reconnect", _("Reconnect needed")
    DISABLED = "disabled", _("Disabled")


TRANSITIONS = {
    ChannelState.ACTIVE: {ChannelState.RECONNECT, ChannelState.DISABLED},
    ChannelState.RECONNECT: {ChannelState.ACTIVE, ChannelState.DISABLED},
    ChannelState.DISABLED: {ChannelState.ACTIVE},
}


class Channel(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channels")
    network = models.CharField(_("network"), max_length=16, choices=Network.choices)
    account_kind = models.CharField(
        _("account kind"), max_length=16, choices=AccountKind.choices, default=AccountKind.PROFILE
    )
    name = models.CharField(_("name"), max_length=120)
    # What the network calls the account, shown next to the name: @user@instance, a Bluesky
    # handle, a page name.
    handle = models.CharField(_("account"), max_length=255, blank=True)
    # The network's own identifier: Mastodon account id, Bluesky DID, LinkedIn URN, Page id…
    account_id = models.CharField(max_length=255)
    avatar_url = models.URLField(max_length=1000, blank=True)
    # API root (an instance, a PDS, a Graph API host): configurable for every network.
    base_url = models.URLField(_("API address"), max_length=500)
    # JSON: access_token, refresh_token, app_password, access_jwt, refresh_jwt, …
    secrets = EncryptedTextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # When the network will require the user to consent again, whatever we refresh
    # (LinkedIn's 365-day refresh token, Meta's 60-day tokens without a refresh).
    consent_expires_at = models.DateTimeField(null=True, blank=True)
    # The schedule of token refreshes (claimed by the tick).
    next_refresh_at = models.DateTimeField(null=True, blank=True, db_index=True)
    state = models.CharField(
        _("state"), max_length=16, choices=ChannelState.choices, default=ChannelState.ACTIVE
    )
    # Why the channel needs attention: a stable code and the network's own words.
    problem_code = models.CharField(max_length=64, blank=True)
    problem_detail = models.TextField(blank=True)
    # The account's limits as the network reported them (Mastodon instances configure
    # their own): max_characters, characters_reserved_per_url, max_media, …
    limits = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    connected_at = models.DateTimeField(default=now)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["network", "name", "id"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "base_url", "account_id"],
                name="unique_channel_account",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.get_network_display()})"

    def can_move_to(self, state):
        return state in TRANSITIONS[ChannelState(self.state)]

    @property
    def secret_values(self):
        try:
            values = json.loads(self.secrets) if self.secrets else {}
        except ValueError:
            values = {}
        return values if isinstance(values, dict) else {}

    def set_secrets(self, values):
        self.secrets = json.dumps(values, sort_keys=True)

    @property
    def publishable(self):
        return self.state == ChannelState.ACTIVE


class MastodonApp(models.Model):
    """This Tribu's OAuth client on one Mastodon instance, registered once per instance with
    `POST /api/v1/apps` and reused by every workspace that connects an account there."""

    base_url = models.URLField(max_length=500)
    redirect_uri = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    client_secret = EncryptedTextField()
    scopes = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["base_url", "redirect_uri", "scopes"], name="unique_mastodon_app"
            )
        ]

    def __str__(self):
        return self.base_url
