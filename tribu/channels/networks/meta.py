"""What Facebook Pages and Instagram share: one Meta app (settings.TRIBU_NETWORK_APPS["meta"],
`app_key = "meta"`), Facebook Login, and the Graph API's list of the user's Pages
(docs/networks.md §4, §5).

Every Graph path carries the app's version: `{api_url}/{version}/{path}`. The sign-in dialog
lives on `{auth_url}/{version}/dialog/oauth`; the code is traded for a short-lived user
token, which is traded at once for a long-lived one (about 60 days). The Pages listed with
that long-lived token come with Page tokens that do not expire: those are what the channels
keep (the user token is not stored).

PKCE: Facebook Login documents `code_challenge` only for its OpenID Connect and native
(Limited Login) flows, not for a server app's authorization code, which is protected by the
app secret sent with the exchange. Tribu therefore does not send the challenge (nor the
verifier); the `state` still ties the answer to the attempt.
"""

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.channels.networks import http
from tribu.channels.networks.base import ErrorKind, PublishError
from tribu.channels.networks.graph import bad_answer, error_fields, graph_error

APP_KEY = "meta"
DEFAULT_VERSION = "v24.0"  # when the operator's configuration names none
# A long-lived user token lives about 60 days; when Meta does not say, assume that.
LONG_LIVED = timedelta(days=60)
MAX_PAGES = 20  # pages of /me/accounts followed (25 Pages each): 500 Pages
# App credentials refused at the token endpoint: wrong secret (1), unknown app (101).
APP_CODES = {1, 101}


def app():
    return http.app_for(APP_KEY)


def version():
    return app().version or DEFAULT_VERSION


def graph_url(base_url, path):
    """`{base_url}/{version}/{path}`: the Graph address of `path` (with its query)."""
    base = (base_url or app().api_url).rstrip("/")
    return f"{base}/{version()}/{path.lstrip('/')}"


def call(method, base_url, path, *, service, token, timeout=None, **kwargs):
    """One Graph call with the token as a Bearer header (never in the query, which the logs
    would show). Returns the SendResult whatever its status."""
    return http.call(
        method,
        graph_url(base_url, path),
        service=service,
        token=token,
        timeout=timeout or http.TIMEOUT,
        **kwargs,
    )


def label(method, path):
    """ "POST /v24.0/123/feed": the delivery log's name of a Graph request."""
    return http.request_label(method, f"/{version()}/{path.lstrip('/')}")


def answer(result, service, name, *, creates_post=False):
    """The JSON object of a 200, or the PublishError the answer maps to (`name`: the
    request's label)."""
    if result.status != 200:
        raise graph_error(result, service, name)
    data = result.json()
    if not isinstance(data, dict):
        raise bad_answer(result, service, name, creates_post=creates_post)
    return data


def request(method, base_url, path, *, service, token, creates_post=False, **kwargs):
    """One Graph call and its JSON object (or the mapped PublishError)."""
    result = call(
        method, base_url, path, service=service, token=token, creates_post=creates_post, **kwargs
    )
    return answer(result, service, label(method, path), creates_post=creates_post)


# --- Facebook Login --------------------------------------------------------------------------


def dialog_url(meta_app, redirect_uri, state, scopes):
    query = {
        "client_id": meta_app.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
        "scope": ",".join(scopes),
    }
    base = meta_app.auth_url.rstrip("/")
    return f"{base}/{meta_app.version or DEFAULT_VERSION}/dialog/oauth?{urlencode(query)}"


def token_error(result, service, name):
    """A refused exchange: the app's credentials (the operator fixes them) or the code (the
    user starts again)."""
    code, subcode, detail, _type = error_fields(result)
    values = {"service": service, "detail": detail or _("no details")}
    if result.status >= 500 or result.status == 429:
        return graph_error(result, service, name)
    if code in APP_CODES:
        return PublishError(
            ErrorKind.FATAL,
            "app_refused",
            _(
                "%(service)s refused Tribu's app (%(detail)s). Your Tribu administrator must check "
                "TRIBU_META_CLIENT_ID and TRIBU_META_CLIENT_SECRET against the app's settings "
                "on developers.facebook.com."
            )
            % values,
            status=result.status,
            detail=f"{code}/{subcode}: {detail}",
            request=name,
        )
    return PublishError(
        ErrorKind.REAUTH,
        "invalid_grant",
        _(
            "%(service)s did not accept the sign-in (%(detail)s). It may have taken too long "
            "or been used twice: connect the account again."
        )
        % values,
        status=result.status,
        detail=f"{code}/{subcode}: {detail}",
        request=name,
    )


def token_answer(result, service, name):
    if result.status != 200:
        raise token_error(result, service, name)
    data = result.json()
    if not isinstance(data, dict) or not data.get("access_token"):
        raise bad_answer(result, service, name)
    return data


def exchange_code(meta_app, redirect_uri, code, *, service, timeout=None):
    """Trade the dialog's code for a long-lived user token: {"access_token", "expires_at"
    (ISO 8601), "token_type"}. Raises PublishError."""
    path = "oauth/access_token"
    name = f"GET /{meta_app.version or DEFAULT_VERSION}/{path}"
    query = {
        "client_id": meta_app.client_id,
        "client_secret": meta_app.client_secret,
        "redirect_uri": redirect_uri,
        "code": code,
    }
    result = http.call(
        "GET",
        f"{endpoint(meta_app, path)}?{urlencode(query)}",
        service=service,
        timeout=timeout or http.TIMEOUT,
    )
    short = token_answer(result, service, name)
    return long_lived(meta_app, str(short["access_token"]), service=service, timeout=timeout)


def long_lived(meta_app, token, *, service, timeout=None):
    """The long-lived (about 60 days) user token for a short-lived one."""
    path = "oauth/access_token"
    name = f"GET /{meta_app.version or DEFAULT_VERSION}/{path}"
    query = {
        "grant_type": "fb_exchange_token",
        "client_id": meta_app.client_id,
        "client_secret": meta_app.client_secret,
        "fb_exchange_token": token,
    }
    result = http.call(
        "GET",
        f"{endpoint(meta_app, path)}?{urlencode(query)}",
        service=service,
        timeout=timeout or http.TIMEOUT,
    )
    data = token_answer(result, service, name)
    seconds = data.get("expires_in")
    lifetime = (
        timedelta(seconds=seconds)
        if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0
        else LONG_LIVED
    )
    return {
        "access_token": str(data["access_token"]),
        "token_type": str(data.get("token_type") or "bearer"),
        "expires_at": (timezone.now() + lifetime).isoformat(),
    }


def endpoint(meta_app, path):
    return f"{meta_app.api_url.rstrip('/')}/{meta_app.version or DEFAULT_VERSION}/{path}"


# --- the user's Pages ------------------------------------------------------------------------


def me(base_url, token, fields, *, service, timeout=None):
    """(node, kind) of the token's own node: kind "page" for a Page token, "user" for a user
    token (Graph's `metadata=1` names the node's type)."""
    query = urlencode({"fields": fields, "metadata": 1})
    result = call("GET", base_url, f"me?{query}", service=service, token=token, timeout=timeout)
    data = answer(result, service, label("GET", "me"))
    if not data.get("id"):
        raise bad_answer(result, service, label("GET", "me"))
    metadata = data.get("metadata")
    kind = metadata.get("type") if isinstance(metadata, dict) else ""
    return data, "page" if kind == "page" else "user"


def pages(base_url, token, fields, *, service, timeout=None):
    """Every Page the user token reaches (`GET /me/accounts`, following `paging.next` on the
    same API host only), as the Graph's dicts."""
    found = []
    url = graph_url(base_url, "me/accounts?" + urlencode({"fields": fields, "limit": 25}))
    api_root = graph_url(base_url, "")
    for _page in range(MAX_PAGES):
        result = http.call(
            "GET", url, service=service, token=token, timeout=timeout or http.TIMEOUT
        )
        data = answer(result, service, label("GET", "me/accounts"))
        entries = data.get("data")
        if not isinstance(entries, list):
            raise bad_answer(result, service, label("GET", "me/accounts"))
        found.extend(entry for entry in entries if isinstance(entry, dict) and entry.get("id"))
        paging = data.get("paging")
        following = paging.get("next") if isinstance(paging, dict) else None
        if not isinstance(following, str) or not following.startswith(api_root):
            break
        url = following
    return found


def picture_url(node):
    """The URL of a Graph `picture` field ({"data": {"url"}}), or ""."""
    picture = node.get("picture")
    data = picture.get("data") if isinstance(picture, dict) else None
    return str(data.get("url") or "") if isinstance(data, dict) else ""


def choose(candidates, account_id, service):
    """The one candidate (dicts with "id", "name", and "ids", the ids it answers to) the
    pasted token should connect. Several and no `account_id`: the user must choose."""
    if account_id:
        for candidate in candidates:
            if str(account_id) in candidate["ids"]:
                return candidate
        raise PublishError(
            ErrorKind.FIX_CONTENT,
            "account_not_found",
            _(
                "This token does not reach the %(service)s account %(id)s. It reaches: "
                "%(choices)s. Give one of these, or a token of the right account."
            )
            % {"service": service, "id": account_id, "choices": listing(candidates)},
            sent=False,
        )
    if len(candidates) == 1:
        return candidates[0]
    raise PublishError(
        ErrorKind.FIX_CONTENT,
        "choose_account",
        _(
            "This token reaches several %(service)s accounts: %(choices)s. Give the ID of the "
            "one to connect (the “Account, page or organization ID” field; account_id in the "
            "API)."
        )
        % {"service": service, "choices": listing(candidates)},
        sent=False,
    )


def listing(candidates):
    return ", ".join(f"{candidate['id']} ({candidate['name']})" for candidate in candidates)


def pasted_user_token(token, *, service, timeout=None):
    """A pasted user token made long-lived when the operator configured the Meta app (the
    Page tokens it gives then never expire); as it is otherwise, or when the exchange is
    refused (the token may come from another app)."""
    meta_app = app()
    if not meta_app.configured:
        return token
    try:
        return long_lived(meta_app, token, service=service, timeout=timeout)["access_token"]
    except PublishError as error:
        if error.kind in (ErrorKind.RETRY_LATER, ErrorKind.UNKNOWN):
            raise
        return token


logger = logging.getLogger(__name__)


def add_first_comment(client, object_id, content, stage, save_stage, log):
    """Post the delivery's first comment under `object_id` (a Page post or an Instagram
    media), once the post is online: `stage` already holds its id and URL, saved before the
    comment leaves, so a retried attempt adds only the comment. Returns the warnings for
    Published: a comment refused for good leaves the post published (sending it again
    would duplicate the post) and asks the team to add the comment by hand."""
    text = (content.first_comment or "").strip()
    if not text or stage.get("comment_id"):
        return []
    save_stage(dict(stage))
    path = f"{object_id}/comments"
    try:
        data = client.request("POST", path, form={"message": text}, log=log, creates_post=True)
    except PublishError as error:
        if error.kind not in (ErrorKind.FIX_CONTENT, ErrorKind.FATAL):
            raise
        service = client.service_name
        logger.warning("%s refused the first comment (%s): %s", service, label("POST", path),
                       error.detail or error)  # fmt: skip
        return [
            _(
                "The post is published on %(service)s (%(url)s), but its first comment could "
                "not be added: %(reason)s Add it under the post by hand."
            )
            % {"service": service, "url": stage.get("url", ""), "reason": error.message}
        ]
    comment_id = str(data.get("id") or "")
    if comment_id:
        stage["comment_id"] = comment_id
    return []
