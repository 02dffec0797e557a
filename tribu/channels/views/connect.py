"""Connecting channels: Mastodon by OAuth (or a pasted access token), Bluesky with an app
password. The same forms reconnect a channel, filled with what is not secret.

The Mastodon OAuth round trip:

1. the user names the instance; Tribu registers its app there once (MastodonApp, per
   instance, redirect URI and scopes) and keeps the attempt in the session: a random
   `state`, the PKCE verifier, the workspace and the channel being reconnected, if any;
2. the browser goes to the instance's authorize page, then comes back to the one fixed
   callback URL (no workspace in it: an app has one redirect URI);
3. the callback takes the attempt out of the session by its state (single use, 15 minutes),
   checks the user may still manage channels there, trades the code for a token and calls
   services.channels.connect.
"""

import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tribu.channels.forms import BlueskyForm, MastodonOAuthForm, MastodonTokenForm
from tribu.channels.models import Channel, MastodonApp
from tribu.channels.networks import mastodon
from tribu.channels.networks.base import PublishError
from tribu.channels.services import channels as service
from tribu.channels.views import oauth
from tribu.core.access import workspace_view
from tribu.core.models import Membership
from tribu.core.roles import has_permission

SESSION_KEY = "channels_mastodon_oauth"
ATTEMPT_SECONDS = 15 * 60
MAX_ATTEMPTS = 5  # attempts kept per session (several tabs); the oldest go first
NETWORKS = ("mastodon", "bluesky", *oauth.APP_NETWORKS)


def blank_forms(channel=None, overrides=None):
    """The connect forms, filled from `channel` (a reconnection) with what is not secret."""
    mastodon_initial, bluesky_initial = {}, {}
    if channel is not None and channel.network == "mastodon":
        mastodon_initial = {"channel": channel.pk, "instance": channel.base_url}
    if channel is not None and channel.network == "bluesky":
        bluesky_initial = {"channel": channel.pk, "base_url": channel.base_url,
                           "handle": channel.handle}  # fmt: skip
    return {
        "oauth_form": MastodonOAuthForm(initial=mastodon_initial),
        "token_form": MastodonTokenForm(initial=mastodon_initial),
        "bluesky_form": BlueskyForm(initial=bluesky_initial),
        "app_cards": oauth.app_cards(channel, overrides),
    }


def render_connect(request, network, *, channel=None, status=200, overrides=None, **forms):
    if network not in NETWORKS:
        raise Http404
    context = {
        **blank_forms(channel, overrides),
        **forms,
        "network": network,
        "channel": channel,
    }
    return render(request, "channels/connect.html", context, status=status)


def _target(request, form, network):
    """The channel a reconnect form names (in this workspace, of this network), or None."""
    channel_id = form.cleaned_data.get("channel")
    if not channel_id:
        return None
    return get_object_or_404(Channel, pk=channel_id, workspace=request.workspace, network=network)


def _posted_target(request, form, network):
    """The reconnected channel of a form that did not validate, to show the page again."""
    try:
        channel_id = int(request.POST.get(form.add_prefix("channel")) or 0)
    except ValueError:
        return None
    if not channel_id:
        return None
    return get_object_or_404(Channel, pk=channel_id, workspace=request.workspace, network=network)


def connected(request, workspace, channel, target=None):
    """Tell what happened and go back to the list."""
    if target is not None and target.pk != channel.pk:
        messages.warning(
            request,
            _(
                "You connected %(handle)s, which is not the account of “%(name)s”: it was "
                "added as a new channel, and “%(name)s” still needs reconnecting. Sign in to "
                "the right account to reconnect it."
            )
            % {"handle": channel.handle, "name": target.name},
        )
    else:
        messages.success(
            request,
            _("“%(name)s” (%(handle)s) is connected. Posts can now be scheduled on it.")
            % {"name": channel.name, "handle": channel.handle},
        )
    return redirect("channels:list", workspace.slug)


# --- Bluesky and Mastodon by access token ----------------------------------------------------


def _connect_with(request, form, network, credentials, base_url, field):
    target = _target(request, form, network)
    try:
        channel = service.connect(
            request.workspace, network, base_url, credentials, actor=request.user,
            request=request,
        )  # fmt: skip
    except service.ChannelError as error:
        form.add_error(field if error.field == "base_url" else None, error.message)
        return None, target
    return channel, target


@workspace_view("channels.manage")
@require_http_methods(["GET", "POST"])
def connect_bluesky(request):
    if request.method == "GET":
        return render_connect(request, "bluesky")
    form = BlueskyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        channel, target = _connect_with(
            request, form, "bluesky",
            {"handle": data["handle"], "app_password": data["app_password"]},
            data["base_url"], "base_url",
        )  # fmt: skip
        if channel is not None:
            return connected(request, request.workspace, channel, target)
    return render_connect(
        request, "bluesky", channel=_posted_target(request, form, "bluesky"), bluesky_form=form,
        status=400,
    )  # fmt: skip


@workspace_view("channels.manage")
@require_http_methods(["GET", "POST"])
def connect_mastodon_token(request):
    if request.method == "GET":
        return render_connect(request, "mastodon")
    form = MastodonTokenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        channel, target = _connect_with(
            request, form, "mastodon", {"access_token": data["access_token"]},
            data["instance"], "instance",
        )  # fmt: skip
        if channel is not None:
            return connected(request, request.workspace, channel, target)
    return render_connect(
        request, "mastodon", channel=_posted_target(request, form, "mastodon"), token_form=form,
        status=400,
    )  # fmt: skip


# --- Mastodon by OAuth -----------------------------------------------------------------------


def redirect_uri(request):
    """The callback's absolute address: TRIBU_BASE_URL's, so that it stays the same whatever
    host a request came through (the app is registered for exactly this URI)."""
    path = reverse("channels:mastodon_callback")
    base = (getattr(settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


def mastodon_app(base_url, callback):
    """This Tribu's app on the instance, registered on first use. Raises PublishError."""
    scopes = mastodon.SCOPES
    app = MastodonApp.objects.filter(
        base_url=base_url, redirect_uri=callback, scopes=scopes
    ).first()
    if app is not None:
        return app
    registered = mastodon.register_app(
        base_url, callback, scopes, website=getattr(settings, "TRIBU_BASE_URL", "") or ""
    )
    try:
        with transaction.atomic():
            return MastodonApp.objects.create(
                base_url=base_url,
                redirect_uri=callback,
                scopes=scopes,
                client_id=registered["client_id"],
                client_secret=registered["client_secret"],
            )
    except IntegrityError:
        # Someone registered it at the same moment: use theirs, ours stays unused.
        return MastodonApp.objects.get(base_url=base_url, redirect_uri=callback, scopes=scopes)


def _remember(request, state, attempt, key=SESSION_KEY):
    attempts = dict(request.session.get(key) or {})
    now = time.time()
    attempts = {
        key: value for key, value in attempts.items() if now - value["at"] < ATTEMPT_SECONDS
    }
    attempts[state] = attempt
    newest = sorted(attempts.items(), key=lambda item: item[1]["at"])[-MAX_ATTEMPTS:]
    request.session[key] = dict(newest)


def _take(request, state, key=SESSION_KEY):
    """The attempt started with `state`, removed from the session (it is single use)."""
    attempts = dict(request.session.get(key) or {})
    attempt = attempts.pop(state, None) if state else None
    if attempt is not None:
        request.session[key] = attempts
    if attempt is None or time.time() - attempt["at"] > ATTEMPT_SECONDS:
        return None
    return attempt


@workspace_view("channels.manage")
@require_http_methods(["GET", "POST"])
def connect_mastodon(request):
    if request.method == "GET":
        return render_connect(request, "mastodon")
    form = MastodonOAuthForm(request.POST)
    if form.is_valid():
        target = _target(request, form, "mastodon")
        base_url = form.cleaned_data["instance"]
        callback = redirect_uri(request)
        try:
            app = mastodon_app(base_url, callback)
        except PublishError as error:
            form.add_error("instance", error.message)
        else:
            state = secrets.token_urlsafe(24)
            verifier = mastodon.new_code_verifier()
            _remember(
                request,
                state,
                {
                    "at": time.time(),
                    "workspace": request.workspace.pk,
                    "app": app.pk,
                    "verifier": verifier,
                    "channel": target.pk if target else None,
                },
            )
            authorize_url = mastodon.authorization_url(
                app.base_url, app.client_id, app.redirect_uri, app.scopes, state,
                mastodon.code_challenge(verifier),
            )  # fmt: skip
            # A link the user follows, not a redirect: browsers apply the page's CSP
            # form-action ('self') to the redirects of a form POST, so a 302 to the
            # instance would be blocked.
            return render(
                request,
                "channels/continue.html",
                {
                    "authorize_url": authorize_url,
                    "service": "Mastodon",
                    "instance": urlsplit(app.base_url).netloc,
                },
            )
    return render_connect(
        request, "mastodon", channel=_posted_target(request, form, "mastodon"), oauth_form=form,
        status=400,
    )  # fmt: skip


def managed_workspace(request, workspace_id):
    """The workspace an OAuth attempt started in, if the user may still manage its channels
    (a callback URL carries no workspace, so the usual decorator cannot check it)."""
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=request.user, workspace_id=workspace_id, user__is_active=True)
        .first()
    )
    if membership is None:
        raise Http404
    if not has_permission(membership.role, "channels.manage"):
        raise PermissionDenied
    return membership.workspace


@login_required
@require_GET
def mastodon_callback(request):
    attempt = _take(request, request.GET.get("state", ""))
    if attempt is None:
        messages.error(
            request,
            _(
                "This answer from Mastodon does not match a connection started from this "
                "browser, or it came more than 15 minutes later. Start connecting the account "
                "again from the channels page."
            ),
        )
        return redirect("core:home")
    workspace = managed_workspace(request, attempt["workspace"])
    back = redirect("channels:list", workspace.slug)
    app = MastodonApp.objects.filter(pk=attempt["app"]).first()
    instance = mastodon.instance_name(app.base_url) if app else _("the Mastodon server")
    error = request.GET.get("error", "")
    if error == "access_denied":
        messages.warning(
            request,
            _(
                "Connection cancelled on %(instance)s: nothing was connected. To connect the "
                "account, start again and choose “Authorize”."
            )
            % {"instance": instance},
        )
        return back
    code = request.GET.get("code", "")
    if error or not code or app is None:
        messages.error(
            request,
            _(
                "%(instance)s did not authorize Tribu (%(error)s). Start connecting again; if "
                "it keeps failing, connect with an access token instead."
            )
            % {
                "instance": instance,
                "error": (request.GET.get("error_description") or error)[:200]
                or _("no code received"),
            },
        )
        return back
    try:
        granted = mastodon.exchange_code(
            app.base_url, app.client_id, app.client_secret, app.redirect_uri, code,
            attempt["verifier"],
        )  # fmt: skip
    except PublishError as failure:
        if failure.code == "invalid_client":
            app.delete()  # the instance forgot it: the next attempt registers a new one
        messages.error(request, failure.message)
        return back
    try:
        channel = service.connect(
            workspace, "mastodon", app.base_url, {"access_token": granted["access_token"]},
            actor=request.user, request=request,
        )  # fmt: skip
    except service.ChannelError as failure:
        messages.error(request, failure.message)
        return back
    target = None
    if attempt.get("channel"):
        target = Channel.objects.filter(pk=attempt["channel"], workspace=workspace).first()
    return connected(request, workspace, channel, target)
