"""Connecting accounts through the operator's app: LinkedIn (members and organization pages),
Facebook Pages, Instagram professional accounts, X and Threads.

1. "Connect with LinkedIn" (a POST without fields) keeps the attempt in the session: a random
   `state`, a PKCE verifier, the workspace, the network and the channel being reconnected.
   The page then links to the network's authorize page: a link, not a redirect, because
   browsers apply our CSP `form-action 'self'` to the redirects of a form POST.
2. The network sends the browser back to the network's fixed callback URL (an app has one
   redirect URI per network). The attempt is taken out of the session by its state (single
   use, 15 minutes), the code is traded for tokens and the network lists the accounts the
   grant reaches.
3. One account, or the account of the channel being reconnected: it is connected at once.
   Several (a LinkedIn member and the pages they administer, a person's Facebook Pages):
   they are kept in the session, encrypted, for 15 minutes, and the user ticks the ones to
   connect.

A token made elsewhere can be pasted instead (and through the API), which also works when
the operator has not registered an app on the network.
"""

import dataclasses
import json
import secrets
import time
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from tribu.channels.forms import AppConnectForm, AppTokenForm
from tribu.channels.models import AccountKind, Channel, Network
from tribu.channels.networks import client_class
from tribu.channels.networks.base import Account, PublishError
from tribu.channels.networks.http import (
    APP_KEYS,
    app_for_network,
    code_challenge,
    new_code_verifier,
)
from tribu.channels.services import channels as service
from tribu.config import NETWORK_APPS
from tribu.core.access import workspace_view
from tribu.core.fields import decrypt, encrypt

APP_NETWORKS = tuple(APP_KEYS)
SESSION_KEY = "channels_app_oauth"
PENDING_KEY = "channels_app_pending"
PENDING_SECONDS = 15 * 60
CANCELLED = {"access_denied", "user_cancelled_login", "user_cancelled_authorize"}
# Where a pasted token comes from, per network.
TOKEN_HELP = {
    "linkedin": gettext_lazy(
        "Generate one with LinkedIn's token generator (developer portal, Tools) for your app, "
        "with the scopes w_member_social, and w_organization_social for a page."
    ),
    "facebook": gettext_lazy(
        "A Page access token, or a long-lived user token, from Meta's Graph API Explorer, "
        "with the permissions pages_manage_posts and pages_read_engagement."
    ),
    "instagram": gettext_lazy(
        "The token of the Facebook Page linked to the Instagram professional account, with "
        "the permission instagram_content_publish."
    ),
    "x": gettext_lazy(
        "An OAuth 2.0 user token with tweet.write, users.read and media.write. It lasts two "
        "hours: give the refresh token too, through the API, to keep it alive."
    ),
    "threads": gettext_lazy("A long-lived Threads user token with threads_content_publish."),
}


def label_of(network):
    return str(Network(network).label)


def app_cards(channel=None, overrides=None):
    """What the connect page shows for each network connected through an app."""
    overrides = overrides or {}
    cards = []
    for network in APP_NETWORKS:
        app = app_for_network(network)
        initial = (
            {"channel": channel.pk} if channel is not None and channel.network == network else {}
        )
        card = {
            "network": network,
            "label": label_of(network),
            "configured": app.configured,
            "variables": f"{NETWORK_APPS[app.key]['prefix']}_CLIENT_ID, "
            f"{NETWORK_APPS[app.key]['prefix']}_CLIENT_SECRET",
            "callback_path": reverse("channels:app_callback", args=[network]),
            "token_help": TOKEN_HELP[network],
            "oauth_form": AppConnectForm(initial=initial, network=network),
            "token_form": AppTokenForm(initial=initial, network=network),
        }
        card.update(overrides.get(network, {}))
        cards.append(card)
    return cards


def callback_uri(request, network):
    """The callback's absolute address, from TRIBU_BASE_URL so that it matches the redirect
    URI registered in the network's developer console whatever host a request came by."""
    path = reverse("channels:app_callback", args=[network])
    base = (getattr(settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


def _network(network):
    if network not in APP_NETWORKS:
        raise Http404
    return network


@workspace_view("channels.manage")
@require_http_methods(["GET", "POST"])
def connect_app(request, network):
    from tribu.channels.views.connect import _posted_target, _remember, _target, render_connect

    _network(network)
    if request.method == "GET":
        return render_connect(request, network)
    form = AppConnectForm(request.POST, network=network)
    app = app_for_network(network)
    if not form.is_valid() or not app.configured:
        if not app.configured:
            form.add_error(
                None,
                _(
                    "Tribu has no app registered on %(network)s yet, so it cannot send you "
                    "there. Ask your Tribu administrator to register one (see "
                    "docs/configuration.md), or paste an access token below."
                )
                % {"network": label_of(network)},
            )
        return render_connect(
            request, network, channel=_posted_target(request, form, network), status=400,
            overrides={network: {"oauth_form": form}},
        )  # fmt: skip
    target = _target(request, form, network)
    state = secrets.token_urlsafe(24)
    verifier = new_code_verifier()
    _remember(
        request,
        state,
        {
            "at": time.time(),
            "workspace": request.workspace.pk,
            "network": network,
            "verifier": verifier,
            "channel": target.pk if target else None,
        },
        key=SESSION_KEY,
    )
    authorize_url = client_class(network).authorization_url(
        app, callback_uri(request, network), state, code_challenge(verifier)
    )
    return render(
        request,
        "channels/continue.html",
        {
            "authorize_url": authorize_url,
            "service": label_of(network),
            "instance": urlsplit(authorize_url).netloc,
        },
    )


@workspace_view("channels.manage")
@require_http_methods(["GET", "POST"])
def connect_app_token(request, network):
    from tribu.channels.views.connect import (
        _connect_with,
        _posted_target,
        connected,
        render_connect,
    )

    _network(network)
    if request.method == "GET":
        return render_connect(request, network)
    form = AppTokenForm(request.POST, network=network)
    if form.is_valid():
        credentials = {"access_token": form.cleaned_data["access_token"]}
        if form.cleaned_data["account_id"]:
            credentials["account_id"] = form.cleaned_data["account_id"]
        channel, target = _connect_with(
            request, form, network, credentials, app_for_network(network).api_url, "access_token"
        )
        if channel is not None:
            return connected(request, request.workspace, channel, target)
    return render_connect(
        request, network, channel=_posted_target(request, form, network), status=400,
        overrides={network: {"token_form": form}},
    )  # fmt: skip


@login_required
@require_GET
def app_callback(request, network):
    from tribu.channels.views.connect import _take, connected, managed_workspace

    _network(network)
    label = label_of(network)
    attempt = _take(request, request.GET.get("state", ""), key=SESSION_KEY)
    if attempt is None or attempt.get("network") != network:
        messages.error(
            request,
            _(
                "This answer from %(network)s does not match a connection started from this "
                "browser, or it came more than 15 minutes later. Start connecting the account "
                "again from the channels page."
            )
            % {"network": label},
        )
        return redirect("core:home")
    workspace = managed_workspace(request, attempt["workspace"])
    back = redirect("channels:list", workspace.slug)
    error = request.GET.get("error", "")
    code = request.GET.get("code", "")
    if error in CANCELLED:
        messages.warning(
            request,
            _(
                "Connection cancelled on %(network)s: nothing was connected. To connect the "
                "account, start again and accept Tribu's request."
            )
            % {"network": label},
        )
        return back
    if error or not code:
        messages.error(
            request,
            _(
                "%(network)s did not authorize Tribu (%(error)s). Start connecting again; if it "
                "keeps failing, paste an access token instead."
            )
            % {
                "network": label,
                "error": (request.GET.get("error_description") or error)[:200]
                or _("no code received"),
            },
        )
        return back
    app = app_for_network(network)
    client = client_class(network)
    try:
        grant = client.exchange_code(app, callback_uri(request, network), code, attempt["verifier"])
        accounts = client.accounts(app, grant)
    except PublishError as failure:
        messages.error(request, failure.message)
        return back
    if not accounts:
        messages.error(
            request,
            _(
                "%(network)s authorized Tribu but gave access to no account it can publish to. "
                "Check that you manage the page or account, then connect again."
            )
            % {"network": label},
        )
        return back
    target = None
    if attempt.get("channel"):
        target = Channel.objects.filter(
            pk=attempt["channel"], workspace=workspace, network=network
        ).first()
    if target is not None:
        same = [account for account in accounts if account.account_id == target.account_id]
        if same:
            accounts = same
    if len(accounts) == 1:
        channel = service.save_account(
            workspace, network, app.api_url, accounts[0], actor=request.user, request=request
        )
        return connected(request, workspace, channel, target)
    request.session[PENDING_KEY] = {
        "at": time.time(),
        "workspace": workspace.pk,
        "network": network,
        "accounts": encrypt(json.dumps([account_json(account) for account in accounts])),
    }
    return redirect("channels:choose_accounts", workspace.slug, network)


DATETIME_FIELDS = ("token_expires_at", "consent_expires_at", "refresh_at")


def account_json(account):
    values = {}
    for field in dataclasses.fields(Account):
        value = getattr(account, field.name)
        values[field.name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def account_from_json(values):
    known = {field.name for field in dataclasses.fields(Account)}
    fields = {name: value for name, value in values.items() if name in known}
    for name in DATETIME_FIELDS:
        if isinstance(fields.get(name), str):
            fields[name] = datetime.fromisoformat(fields[name])
    return Account(**fields)


def _pending(request, network):
    pending = request.session.get(PENDING_KEY) or {}
    if (
        pending.get("network") != network
        or pending.get("workspace") != request.workspace.pk
        or time.time() - pending.get("at", 0) > PENDING_SECONDS
    ):
        return None
    try:
        return [account_from_json(values) for values in json.loads(decrypt(pending["accounts"]))]
    except (KeyError, TypeError, ValueError):
        return None


@workspace_view("channels.manage")
@require_http_methods(["GET", "POST"])
def choose_accounts(request, network):
    _network(network)
    accounts = _pending(request, network)
    if accounts is None:
        messages.error(
            request,
            _(
                "The accounts %(network)s gave access to are no longer available (more than "
                "15 minutes passed). Connect again."
            )
            % {"network": label_of(network)},
        )
        return redirect("channels:list", request.workspace.slug)
    existing = set(
        Channel.objects.filter(workspace=request.workspace, network=network).values_list(
            "account_id", flat=True
        )
    )
    error = ""
    if request.method == "POST":
        chosen = set(request.POST.getlist("account"))
        selected = [account for account in accounts if account.account_id in chosen]
        if selected:
            request.session.pop(PENDING_KEY, None)
            app = app_for_network(network)
            names = []
            for account in selected:
                channel = service.save_account(
                    request.workspace, network, app.api_url, account, actor=request.user,
                    request=request,
                )  # fmt: skip
                names.append(channel.name)
            messages.success(
                request,
                ngettext(
                    "%(names)s is connected. Posts can now be scheduled on it.",
                    "%(names)s are connected. Posts can now be scheduled on them.",
                    len(names),
                )
                % {"names": ", ".join(f"“{name}”" for name in names)},
            )
            return redirect("channels:list", request.workspace.slug)
        error = _("Tick at least one account to connect.")
    rows = [
        {
            "account": account,
            "kind": AccountKind(account.account_kind).label
            if account.account_kind in AccountKind.values
            else "",
            "connected": account.account_id in existing,
        }
        for account in accounts
    ]
    return render(
        request,
        "channels/choose_accounts.html",
        {"rows": rows, "network": network, "label": label_of(network), "error": error},
        status=400 if error else 200,
    )
