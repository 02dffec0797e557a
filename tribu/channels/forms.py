"""Forms of the channel pages: connecting (Mastodon by OAuth or access token, Bluesky with an
app password, the other networks through the operator's app or a pasted token), renaming, and
queue slots.

The forms only shape the input. Whether the credentials work is the network's answer, through
services.channels.connect; its ChannelError lands on the field it names. Secret fields never
render their value back.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from tribu.channels.models import Channel
from tribu.listening.fetch.http import FetchError, check_url

BLUESKY_DEFAULT_PDS = "https://bsky.social"
# What Bluesky generates: four groups of four letters or digits. A main password rarely looks
# like this, so the shape check stops the most harmful mistake before it leaves Tribu.
APP_PASSWORD_RE = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")


def normalize_address(value):
    """ "mastodon.social", "https://mastodon.social/" → "https://mastodon.social"."""
    value = (value or "").strip().rstrip("/")
    if value and "://" not in value:
        value = "https://" + value
    return value


def clean_address(value):
    value = normalize_address(value)
    try:
        check_url(value)
    except FetchError as error:
        raise ValidationError(error.message) from None
    return value


class ReconnectMixin(forms.Form):
    """The channel being reconnected, when the form comes from its reconnect page."""

    channel = forms.IntegerField(required=False, widget=forms.HiddenInput)


class MastodonOAuthForm(ReconnectMixin):
    # Prefixes keep the ids of the forms apart when one page shows them all.
    prefix = "oauth"

    instance = forms.CharField(
        label=_("Mastodon server"),
        max_length=300,
        help_text=_(
            "The address of the server the account lives on, such as mastodon.social or "
            "piaille.fr. Tribu sends you there to approve the connection."
        ),
        widget=forms.TextInput(attrs={"placeholder": "mastodon.social", "autocomplete": "url"}),
    )

    def clean_instance(self):
        return clean_address(self.cleaned_data["instance"])


class MastodonTokenForm(ReconnectMixin):
    prefix = "token"

    instance = forms.CharField(
        label=_("Mastodon server"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "mastodon.social", "autocomplete": "url"}),
    )
    access_token = forms.CharField(
        label=_("Access token"),
        max_length=500,
        strip=True,
        help_text=_(
            "On the server, open Preferences, Development, New application; give it the scopes "
            "read:accounts, read:statuses, write:statuses and write:media, save it, then copy "
            "“Your access token” here."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_instance(self):
        return clean_address(self.cleaned_data["instance"])


class BlueskyForm(ReconnectMixin):
    prefix = "bluesky"

    base_url = forms.CharField(
        label=_("Server (PDS)"),
        max_length=300,
        initial=BLUESKY_DEFAULT_PDS,
        help_text=_("Keep https://bsky.social unless the account is hosted on its own server."),
        widget=forms.TextInput(attrs={"autocomplete": "url"}),
    )
    handle = forms.CharField(
        label=_("Handle"),
        max_length=253,
        help_text=_("Such as maisonlumiere.bsky.social, or the brand's own domain."),
        widget=forms.TextInput(
            attrs={"placeholder": "name.bsky.social", "autocomplete": "username"}
        ),
    )
    app_password = forms.CharField(
        label=_("App password"),
        max_length=64,
        help_text=_(
            "Create one in Bluesky: Settings, Privacy and security, App passwords. Never enter "
            "the account's main password: an app password can be revoked on its own."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_base_url(self):
        return clean_address(self.cleaned_data["base_url"] or BLUESKY_DEFAULT_PDS)

    def clean_handle(self):
        handle = self.cleaned_data["handle"].strip().removeprefix("@")
        if not handle or " " in handle or "." not in handle:
            raise ValidationError(
                _(
                    "Write the full handle, such as name.bsky.social (without spaces), as shown "
                    "on the account's profile."
                )
            )
        return handle

    def clean_app_password(self):
        value = self.cleaned_data["app_password"].strip().lower()
        if not APP_PASSWORD_RE.match(value):
            raise ValidationError(
                _(
                    "This is not an app password: those look like abcd-efgh-ijkl-mnop. Create "
                    "one in Bluesky (Settings, Privacy and security, App passwords) and paste "
                    "it here; never use the account's main password."
                )
            )
        return value


class AppConnectForm(ReconnectMixin):
    """Start signing in on a network through the operator's app (LinkedIn, Meta, X,
    Threads): nothing to type, the network asks who signs in."""

    def __init__(self, *args, network, **kwargs):
        kwargs.setdefault("prefix", f"{network}-oauth")
        super().__init__(*args, **kwargs)


class AppTokenForm(ReconnectMixin):
    """Connect with a token made elsewhere (the network's developer tools, an API client)."""

    access_token = forms.CharField(
        label=_("Access token"),
        max_length=4000,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    account_id = forms.CharField(
        label=_("Account, page or organization ID"),
        max_length=255,
        required=False,
        strip=True,
        help_text=_(
            "Only when the token reaches several accounts: a Facebook Page or Instagram account "
            "ID, or a LinkedIn organization (urn:li:organization:…). Leave empty otherwise."
        ),
    )

    def __init__(self, *args, network, **kwargs):
        kwargs.setdefault("prefix", f"{network}-token")
        super().__init__(*args, **kwargs)


class RenameForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ["name"]
        labels = {"name": _("Name in Tribu")}
        help_texts = {"name": _("How the team sees this channel in the calendar and composer.")}
        error_messages = {"name": {"required": _("Give the channel a name.")}}


class QueueSlotForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=_("Day"), coerce=int, choices=[(day, name) for day, name in WEEKDAYS.items()]
    )
    at_time = forms.TimeField(
        label=_("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In the workspace's time zone."),
    )
