"""X (API v2): connect an account, publish posts and threads with images, find a post again.

Connecting is OAuth 2.0 with PKCE (S256) through the operator's app (`app_key = "x"`):
`{auth_url}/i/oauth2/authorize`, then `POST {api_url}/2/oauth2/token`, form-encoded, the
app authenticating with HTTP Basic (a confidential "Web App" client). The access token lives
2 hours; with `offline.access` a refresh token comes with it. Refresh tokens rotate: each
refresh returns a new pair and the old refresh token is dead, so both new tokens are handed
to `on_secrets` at once. A token already expired when a post goes out is refreshed first, and
a 401 is answered by one refresh and one more try (the refused call created nothing).

Publishing (docs/networks.md §6):

1. each image is uploaded (`POST /2/media/upload`, multipart `media`,
   `media_category=tweet_image`) and its id saved in the stage at once, with its upload time
   and lifetime (`expires_after_secs`). When the answer has `processing_info`, `GET
   /2/media/upload?command=STATUS` is polled, waiting `check_after_secs` each time (capped by
   `media_poll_cap`). Alt text goes through `POST /2/media/metadata` (1,000 characters);
2. `POST /2/tweets` {text, media: {media_ids}} answers 201 {"data": {"id", "text"}};
3. a thread chains each next part with `reply.in_reply_to_tweet_id` = the previous part. Each
   post id is saved in the stage before the next part leaves.

A resumed attempt skips what the stage holds. Media ids expire: one older than its lifetime
(less a margin) is uploaded again, and a post refused for its media ids after a resume uploads
them again once.

X has no idempotency (`idempotent = False`). It refuses a text identical to one of the
account's posts with 403 "duplicate content": that is mapped to `unknown` / `duplicate`, never
to fatal, since after a lost answer it means the post is most likely online; the stage records
the refusal so that `find()` can tell "published by this attempt" from "this text was already
posted before". `find()` reads one page of up to 10 of the account's latest posts
(`GET /2/users/{id}/tweets`, from `since_id` = the last part the stage knows, else from
`start_time`), because every post read costs money on X's pay-per-use pricing: one page is
enough to see an attempt made minutes ago. X serves links as t.co addresses and escapes "&",
"<" and ">", so texts are compared by their words, without URLs.

Usage cap (`…/problems/usage-capped`): the developer account's credits are spent or its spending
cap is reached. Retrying cannot help until a person adds credits or raises the cap, so it is
`fatal` with an explanation (not `retry_later`); the team publishes the post again afterwards.
"""

import copy
import html
import math
import os
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import urllib3
from django.utils.translation import gettext as _

from tribu.channels.networks import http
from tribu.channels.networks.base import (
    Account,
    CannotTell,
    Client,
    ErrorKind,
    NotFound,
    Published,
    PublishError,
)
from tribu.listening.fetch.http import parse_retry_after

NETWORK = "x"
SERVICE = "X"
WEB = "https://x.com"
SCOPES = "tweet.read tweet.write users.read media.write offline.access"
# Scopes without which Tribu cannot publish.
REQUIRED_SCOPES = ("tweet.write", "tweet.read", "users.read")
TOKEN_LIFETIME = timedelta(hours=2)  # when the token answer gives no expires_in
REFRESH_MARGIN = timedelta(minutes=2)  # a token this close to its end is refreshed first
MAX_MEDIA = 4
MAX_ALT = 1000
DEFAULT_MAX_CHARACTERS = 280
MEDIA_LIFETIME = 86400  # expires_after_secs when the upload answer does not say
MEDIA_MARGIN = 600  # seconds: a media id this close to expiry is uploaded again
RATE_LIMIT_WAIT = 900  # seconds: X's windows are 15 minutes long when no header says more
FIND_PAGE_SIZE = 10  # one page: each post read is billed
FIND_SLACK = timedelta(minutes=5)

TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 (a path)
ME_PATH = "/2/users/me"
MEDIA_PATH = "/2/media/upload"
METADATA_PATH = "/2/media/metadata"
TWEETS_PATH = "/2/tweets"
USER_FIELDS = "profile_image_url"
FIND_FIELDS = "created_at,referenced_tweets,attachments,note_tweet"

URL_RE = re.compile(r"https?://\S+")
WORD_RE = re.compile(r"\w+")


# --- small helpers -------------------------------------------------------------------------


def now_utc():
    return datetime.now(UTC)


def iso(moment):
    return moment.astimezone(UTC).isoformat() if moment else ""


def parse_moment(value):
    """An aware datetime from an ISO 8601 string (or a datetime), else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(str(value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def post_url(username, tweet_id):
    return f"{WEB}/{username or 'i/web'}/status/{tweet_id}"


def api_root(base_url):
    return (base_url or "").strip().rstrip("/")


def words(text):
    """What two versions of a text must share to be the same post: their words, in order,
    without URLs (X serves them as t.co links, bare domains included), after undoing X's
    escaping of "&", "<", ">", NFC-normalised and case folded."""
    from tribu.publishing.text import find_urls

    text = unicodedata.normalize("NFC", html.unescape(text or ""))
    pieces, last = [], 0
    for start, end in find_urls(text, bare_domains=True):
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    text = URL_RE.sub(" ", " ".join(pieces))
    return [word.casefold() for word in WORD_RE.findall(text)]


def over_limit(parts, limits):
    """True when a part of the post is longer than the account may post (weighted count)."""
    from tribu.publishing.text import x_weighted_length

    maximum = (limits or {}).get("max_characters") or DEFAULT_MAX_CHARACTERS
    return any(x_weighted_length(part) > maximum for part in parts)


# --- X's answers ---------------------------------------------------------------------------


def problem_of(result):
    """(title, detail, type) of an error answer. X answers problem+json {"title", "detail",
    "type", "status"}, invalid requests add {"errors": [{"message", "parameters"}]}, and the
    token endpoint {"error", "error_description"}. `detail` is the most precise words."""
    data = result.json()
    if not isinstance(data, dict):
        return "", http.body_excerpt(result), ""
    title = str(data.get("title") or "")
    detail = str(data.get("detail") or "")
    kind = str(data.get("type") or "")
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        detail = str(first.get("message") or first.get("detail") or detail)
        kind = kind or str(first.get("type") or "")
        title = title or str(first.get("title") or "")
    if data.get("error"):
        title = title or str(data["error"])
        detail = detail or str(data.get("error_description") or data["error"])
    return title, (detail or title or http.body_excerpt(result))[:1000], kind


def retry_after_seconds(headers, now=None):
    """Seconds to wait: Retry-After, else X's x-rate-limit-reset (epoch seconds)."""
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is not None:
        return seconds
    reset = str(headers.get("x-rate-limit-reset") or "").strip()
    if not reset.isdigit():
        return None
    now = time.time() if now is None else now
    return max(1, math.ceil(int(reset) - now))


def answer_error(result, label, *, parts=(), limits=None):
    """The PublishError an X error answer maps to (docs/networks.md §6, retry taxonomy).
    `parts` are the texts the request tried to post: a 403 "not permitted" on a text longer
    than the account may post is a text to shorten, not a missing permission."""
    status = result.status
    title, detail, kind = problem_of(result)
    lowered = detail.lower()
    values = {"service": SERVICE, "status": status, "detail": detail}

    def error(error_kind, code, message, **extra):
        return PublishError(
            error_kind,
            code,
            message % values,
            status=status,
            detail=detail,
            request=label,
            **extra,
        )

    if kind.endswith("/usage-capped") or title == "UsageCapExceeded":
        return error(
            ErrorKind.FATAL,
            "usage_capped",
            _(
                "X refused the request because the X developer account behind Tribu has used "
                "up its API credits or reached its spending cap (%(detail)s). Ask the person "
                "who manages the X developer console to add credits or raise the cap, then "
                "publish the post again."
            ),
        )
    if status == 401:
        return error(
            ErrorKind.REAUTH,
            "token_invalid",
            _(
                "X refused Tribu's access to this account: the authorization expired or was "
                "revoked (in the account's settings, “Connected apps”). Reconnect the channel; "
                "its posts are held until then."
            ),
        )
    if status == 429:
        seconds = retry_after_seconds(result.headers) or RATE_LIMIT_WAIT
        values["minutes"] = max(1, math.ceil(seconds / 60))
        return error(
            ErrorKind.RETRY_LATER,
            "rate_limited",
            _(
                "X asked Tribu to slow down (too many requests for this account or app). "
                "Tribu will try again in about %(minutes)s minute(s)."
            ),
            retry_after=seconds,
        )
    if status >= 500:
        return error(
            ErrorKind.RETRY_LATER,
            "server_error",
            _("X had a problem on its side (HTTP %(status)s). Tribu will try again later."),
            retry_after=retry_after_seconds(result.headers),
        )
    if status == 403:
        return forbidden_error(error, lowered, kind, parts, limits)
    if status in (400, 413, 422):
        if "media" in lowered:
            return error(
                ErrorKind.FIX_CONTENT,
                "media_rejected",
                _(
                    "X refused an image of this post: %(detail)s. Replace the image (JPEG, "
                    "PNG, GIF or WEBP, 5 MB at most) or shorten its description, then publish "
                    "again."
                ),
            )
        return error(
            ErrorKind.FIX_CONTENT,
            "rejected",
            _("X refused the post: %(detail)s. Edit the post to fix it, then publish it again."),
        )
    if status == 404:
        return error(
            ErrorKind.FATAL,
            "not_found",
            _(
                "X answered that what Tribu asked for does not exist (HTTP 404: %(detail)s). "
                "Check the X API address in Tribu's configuration (TRIBU_X_API_URL)."
            ),
        )
    return error(
        ErrorKind.FATAL,
        "unexpected_status",
        _(
            "X gave an answer Tribu does not understand (HTTP %(status)s: %(detail)s). Check "
            "the X API address in Tribu's configuration (TRIBU_X_API_URL)."
        ),
    )


def forbidden_error(error, lowered, kind, parts, limits):
    if "duplicate content" in lowered:
        return error(
            ErrorKind.UNKNOWN,
            "duplicate",
            _(
                "X refused this text because the account already has a post with exactly the "
                "same text, most likely this very post from an attempt whose answer was lost. "
                "Tribu looks for it on X before doing anything else."
            ),
        )
    if "suspended" in lowered or "locked" in lowered:
        return error(
            ErrorKind.FATAL,
            "account_restricted",
            _(
                "X does not let this account publish (%(detail)s). Sign in to X with the "
                "account and follow X's instructions to lift the restriction."
            ),
        )
    if "deleted or not visible" in lowered:
        return error(
            ErrorKind.FIX_CONTENT,
            "reply_target_gone",
            _(
                "The previous part of this thread is no longer on X (deleted or hidden), so "
                "the next part cannot reply to it. Check the thread on X and publish the "
                "missing parts by hand, or publish the post again as a new thread."
            ),
        )
    if "not permitted" in lowered and parts and over_limit(parts, limits):
        return error(
            ErrorKind.FIX_CONTENT,
            "too_long",
            _(
                "X refused the post: a part of it is longer than 280 characters as X counts "
                "them (a link counts 23, an emoji or a Chinese, Japanese or Korean character "
                "counts 2). Shorten it, then publish it again."
            ),
        )
    if kind.endswith("/oauth1-permissions") or "permission" in lowered:
        return error(
            ErrorKind.FATAL,
            "app_permissions",
            _(
                "X refused to publish because Tribu's X app may only read (%(detail)s). In the "
                "X developer console, open the app's “User authentication settings”, set the "
                "app permissions to “Read and write”, save, then reconnect the channel."
            ),
        )
    if kind.endswith("/unsupported-authentication"):
        return error(
            ErrorKind.REAUTH,
            "wrong_token",
            _(
                "The token of this channel is an app-only token, which cannot publish on an "
                "account (%(detail)s). Reconnect the channel by signing in to X with the "
                "account."
            ),
        )
    return error(
        ErrorKind.FATAL,
        "forbidden",
        _(
            "X does not let Tribu do this (%(detail)s). Check in the X developer console that "
            "Tribu's app has the “Read and write” permission, then reconnect the channel so "
            "that it grants posting and media upload; also check that the account is not "
            "restricted. X gives the same answer to some posts it refuses (an image it cannot "
            "use): check the post's images too."
        ),
    )


def bad_answer(result, label, *, creates_post=False):
    """A success answer Tribu cannot read. After a create call, the post may exist."""
    detail = http.body_excerpt(result)
    if creates_post:
        return PublishError(
            ErrorKind.UNKNOWN,
            "bad_answer",
            _(
                "X accepted the post but its answer could not be read, so the post may "
                "already be published. Tribu looks for it on X before publishing again."
            ),
            status=result.status,
            detail=detail,
            request=label,
        )
    return PublishError(
        ErrorKind.RETRY_LATER,
        "bad_answer",
        _(
            "X answered with something Tribu cannot read. Tribu will try again later; if it "
            "persists, check the X API address in Tribu's configuration (TRIBU_X_API_URL)."
        ),
        status=result.status,
        detail=detail,
        request=label,
    )


def data_of(result, label, *, ok=(200,), creates_post=False, parts=(), limits=None):
    """The `data` object of a successful answer, or the mapped PublishError. A 200 that
    carries only `errors` is mapped like the error it describes."""
    if result.status not in ok:
        raise answer_error(result, label, parts=parts, limits=limits)
    body = result.json()
    if not isinstance(body, dict):
        raise bad_answer(result, label, creates_post=creates_post)
    data = body.get("data")
    if not isinstance(data, dict) or not data.get("id"):
        if body.get("errors") and not creates_post:
            title, detail, _kind = problem_of(result)
            raise PublishError(
                ErrorKind.FATAL,
                "not_found",
                _("X could not find what Tribu asked for: %(detail)s.") % {"detail": detail},
                status=result.status,
                detail=detail,
                request=label,
            )
        raise bad_answer(result, label, creates_post=creates_post)
    return data


# --- OAuth ---------------------------------------------------------------------------------


def token_error(result, label):
    """What the token endpoint's refusal means."""
    title, detail, _kind = problem_of(result)
    if result.status == 401 or title in ("unauthorized_client", "invalid_client"):
        return PublishError(
            ErrorKind.FATAL,
            "app_credentials",
            _(
                "X refused Tribu's app credentials (%(detail)s). Check TRIBU_X_CLIENT_ID and "
                "TRIBU_X_CLIENT_SECRET against the app's OAuth 2.0 keys in the X developer "
                "console (the app type must be “Web App”, a confidential client)."
            )
            % {"detail": detail},
            status=result.status,
            detail=detail,
            request=label,
            sent=False,
        )
    if result.status == 400:
        return PublishError(
            ErrorKind.REAUTH,
            "invalid_grant",
            _(
                "X did not accept this sign-in or renewal (%(detail)s): an authorization code "
                "must be used within 30 seconds and only once, and a renewal token only "
                "once. Connect the account again."
            )
            % {"detail": detail},
            status=400,
            detail=detail,
            request=label,
            sent=False,
        )
    return answer_error(result, label)


def grant_from(data, *, previous=None):
    """The secrets of a token answer: access and refresh tokens, expiry (ISO 8601)."""
    try:
        seconds = int(data.get("expires_in") or 0)
    except (TypeError, ValueError):
        seconds = 0
    lifetime = timedelta(seconds=seconds) if seconds > 0 else TOKEN_LIFETIME
    grant = {
        "access_token": str(data["access_token"]),
        "expires_at": iso(now_utc() + lifetime),
        "scope": str(data.get("scope") or ""),
    }
    refresh_token = data.get("refresh_token") or (previous or {}).get("refresh_token")
    if refresh_token:
        grant["refresh_token"] = str(refresh_token)
    return grant


def token_request(app, base_url, form, *, timeout=None, log=None):
    """POST the token endpoint as the operator's app; the JSON answer or PublishError."""
    label = f"POST {TOKEN_PATH}"
    form = {**form, "client_id": app.client_id}
    headers = {}
    if app.client_secret:
        headers["Authorization"] = http.basic_auth(app.client_id, app.client_secret)
    result = http.call(
        "POST",
        api_root(base_url) + TOKEN_PATH,
        service=SERVICE,
        form=form,
        headers=headers,
        timeout=timeout or http.TIMEOUT,
        log=log,
    )
    if result.status != 200:
        raise token_error(result, label)
    data = result.json()
    if not isinstance(data, dict) or not data.get("access_token"):
        raise bad_answer(result, label)
    return data


def missing_app_error():
    return PublishError(
        ErrorKind.FATAL,
        "app_missing",
        _(
            "No X app is configured. Your Tribu administrator must register an app in the X "
            "developer console and set TRIBU_X_CLIENT_ID and TRIBU_X_CLIENT_SECRET."
        ),
        sent=False,
    )


def me(base_url, token, *, timeout=None, log=None):
    """GET /2/users/me: the account the token belongs to."""
    label = f"GET {ME_PATH}"
    result = http.call(
        "GET",
        f"{api_root(base_url)}{ME_PATH}?{urlencode({'user.fields': USER_FIELDS})}",
        service=SERVICE,
        token=token,
        timeout=timeout or http.TIMEOUT,
        log=log,
    )
    if result.status == 401:
        raise PublishError(
            ErrorKind.REAUTH,
            "token_invalid",
            _(
                "X refused this access token: it is wrong, expired (X tokens last two hours) "
                "or revoked. Connect the account again."
            ),
            status=401,
            detail=problem_of(result)[1],
            request=label,
        )
    user = data_of(result, label)
    if not user.get("username"):
        raise bad_answer(result, label)
    return user


def account_from(user, secrets, expires_at):
    username = str(user["username"])
    has_refresh = bool(secrets.get("refresh_token"))
    return Account(
        account_id=str(user["id"]),
        handle=f"@{username}",
        name=str(user.get("name") or username),
        avatar_url=str(user.get("profile_image_url") or ""),
        account_kind="profile",
        secrets={**secrets, "username": username},
        token_expires_at=expires_at,
        # Without a refresh token nothing can renew the access token: the account must be
        # connected again when it ends.
        consent_expires_at=None if has_refresh else expires_at,
    )


# --- the client ----------------------------------------------------------------------------


class XClient(Client):
    network = NETWORK
    service_name = SERVICE
    app_key = "x"
    idempotent = False
    # Waits while X processes an image: `check_after_secs` each time, capped by
    # `media_poll_cap` seconds, at most `media_poll_limit` times; then retried later with the
    # ids kept. Tests make them short.
    media_poll_cap = 10.0
    media_poll_limit = 12

    def __init__(self, channel_like, *, on_secrets=None, timeout=None, refresh_lock=None):
        super().__init__(
            channel_like, on_secrets=on_secrets, timeout=timeout, refresh_lock=refresh_lock
        )
        self.secrets = dict(getattr(channel_like, "secret_values", None) or {})
        self.base_url = api_root(getattr(channel_like, "base_url", "")) or http.app_for("x").api_url
        self.log = []
        self._refreshed = False

    # --- connecting ----------------------------------------------------------------------
    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        """A pasted token: {"access_token", optional "refresh_token", optional "expires_at"
        (ISO 8601), optional "account_id"}. Without expires_at the token is taken to end two
        hours from now, the most an X access token lives."""
        credentials = credentials or {}
        token = str(credentials.get("access_token") or "").strip()
        if not token:
            raise PublishError(
                ErrorKind.REAUTH,
                "missing_credentials",
                _("Paste the account's OAuth 2.0 user access token (and its refresh token)."),
                sent=False,
            )
        expires_at = now_utc() + TOKEN_LIFETIME
        if credentials.get("expires_at"):
            expires_at = parse_moment(credentials["expires_at"])
            if expires_at is None:
                raise PublishError(
                    ErrorKind.FIX_CONTENT,
                    "invalid_expires_at",
                    _(
                        "“expires_at” must be a date and time in ISO 8601, such as "
                        "2026-03-01T09:00:00Z."
                    ),
                    sent=False,
                )
        user = me(base_url, token, timeout=timeout)
        wanted = str(credentials.get("account_id") or "")
        if wanted and wanted != str(user["id"]):
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "choose_account",
                _(
                    "This token belongs to the X account %(choices)s, not to %(wanted)s. Leave "
                    "the account ID empty, or paste the token of the right account."
                )
                % {
                    "choices": f"{user['id']} ({user.get('name') or user['username']})",
                    "wanted": wanted,
                },
                sent=False,
            )
        secrets = {"access_token": token, "token_expires_at": iso(expires_at)}
        if credentials.get("refresh_token"):
            secrets["refresh_token"] = str(credentials["refresh_token"])
        return account_from(user, secrets, expires_at)

    @classmethod
    def authorization_url(cls, app, redirect_uri, state, code_challenge):
        query = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{app.auth_url}/i/oauth2/authorize?{urlencode(query, quote_via=quote)}"

    @classmethod
    def exchange_code(cls, app, redirect_uri, code, code_verifier, *, timeout=None):
        if not app.client_id:
            raise missing_app_error()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        data = token_request(app, app.api_url, form, timeout=timeout)
        grant = grant_from(data)
        granted = set(grant["scope"].split())
        missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
        if grant["scope"] and missing:
            raise PublishError(
                ErrorKind.FATAL,
                "scope_missing",
                _(
                    "X granted Tribu only “%(scope)s”, which does not allow publishing. Connect "
                    "again and allow Tribu to post and to read your account."
                )
                % {"scope": grant["scope"]},
                request=f"POST {TOKEN_PATH}",
                sent=False,
            )
        return grant

    @classmethod
    def accounts(cls, app, grant, *, timeout=None):
        user = me(app.api_url, grant["access_token"], timeout=timeout)
        expires_at = parse_moment(grant.get("expires_at")) or now_utc() + TOKEN_LIFETIME
        secrets = {"access_token": grant["access_token"], "token_expires_at": iso(expires_at)}
        if grant.get("refresh_token"):
            secrets["refresh_token"] = grant["refresh_token"]
        return [account_from(user, secrets, expires_at)]

    # --- tokens --------------------------------------------------------------------------
    @property
    def token(self):
        return self.secrets.get("access_token") or ""

    @property
    def username(self):
        handle = str(getattr(self.channel, "handle", "") or "").lstrip("@")
        return self.secrets.get("username") or handle

    def token_expires_at(self):
        return parse_moment(self.secrets.get("token_expires_at")) or parse_moment(
            getattr(self.channel, "token_expires_at", None)
        )

    def refresh(self):
        """New tokens from the refresh token, or None when there is none. Refresh tokens
        rotate (single use), so refreshes of one channel are serialized (`refresh_lock`): a
        client that waited behind another takes the tokens it stored; otherwise both new
        tokens go to `on_secrets` at once, since the old refresh token is now dead."""
        if not self.secrets.get("refresh_token"):
            return None
        with self.refresh_lock() as stored:
            stored_token = (stored or {}).get("refresh_token")
            if stored_token and stored_token != self.secrets.get("refresh_token"):
                self.secrets = {**self.secrets, **stored}
                self._refreshed = True
                return self._account_update()
            return self._refresh()

    def _refresh(self):
        refresh_token = self.secrets["refresh_token"]
        app = http.app_for("x")
        if not app.client_id:
            raise PublishError(
                ErrorKind.REAUTH,
                "app_missing",
                _(
                    "Tribu cannot renew this X token: no X app is configured "
                    "(TRIBU_X_CLIENT_ID and TRIBU_X_CLIENT_SECRET). Ask your Tribu administrator "
                    "to set them, or connect the account again with a fresh token."
                ),
                sent=False,
            )
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            data = token_request(app, self.base_url, form, timeout=self.timeout, log=self.log)
        except PublishError as error:
            if error.kind == ErrorKind.REAUTH:
                error.code = "refresh_invalid"
                error.message = _(
                    "X no longer accepts this channel's renewal token (it was revoked, or "
                    "already used). Reconnect the channel; its posts are held until then."
                )
            raise
        grant = grant_from(data, previous={"refresh_token": refresh_token})
        self.secrets = {
            **self.secrets,
            "access_token": grant["access_token"],
            "refresh_token": grant.get("refresh_token", refresh_token),
            "token_expires_at": grant["expires_at"],
        }
        self._refreshed = True
        self.on_secrets(dict(self.secrets))  # at once: the old refresh token is dead
        return self._account_update()

    def _account_update(self):
        return Account(
            account_id=str(getattr(self.channel, "account_id", "") or ""),
            handle=str(getattr(self.channel, "handle", "") or ""),
            name=str(getattr(self.channel, "name", "") or ""),
            secrets=dict(self.secrets),
            token_expires_at=self.token_expires_at(),
        )

    def _ensure_fresh_token(self):
        expires = self.token_expires_at()
        if (
            expires is not None
            and expires - now_utc() < REFRESH_MARGIN
            and self.secrets.get("refresh_token")
            and not self._refreshed
        ):
            self.refresh()

    def _call(self, method, path, *, timeout=None, **kwargs):
        """One API call with the user's token. A 401 is answered by one refresh and one more
        try: the refused call changed nothing on X."""
        url = self.base_url + path
        timeout = self.timeout or timeout or http.TIMEOUT
        result = http.call(
            method,
            url,
            service=SERVICE,
            token=self.token,
            timeout=timeout,
            log=self.log,
            **kwargs,
        )
        if result.status == 401 and self.secrets.get("refresh_token") and not self._refreshed:
            self.refresh()
            result = http.call(
                method,
                url,
                service=SERVICE,
                token=self.token,
                timeout=timeout,
                log=self.log,
                **kwargs,
            )
        return result

    # --- publishing ----------------------------------------------------------------------
    def publish(self, content, *, idempotency_key, stage, save_stage):
        # X has no idempotency: `idempotency_key` has no use here.
        self.log = []
        stage = copy.deepcopy(stage or {})
        try:
            return self._publish(content, stage, save_stage)
        except PublishError as error:
            error.requests = list(self.log)  # for the delivery log
            raise

    def _publish(self, content, stage, save_stage):
        def save():
            save_stage(copy.deepcopy(stage))

        parts = [content.text, *[str(part) for part in content.thread if str(part).strip()]]
        media = list(content.media or [])
        if len(media) > MAX_MEDIA:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "too_many_images",
                _(
                    "An X post holds at most %(max)s images; this one has %(count)s. Remove "
                    "some, then publish again."
                )
                % {"max": MAX_MEDIA, "count": len(media)},
                sent=False,
            )
        self._ensure_fresh_token()
        tweet_ids = [str(tweet_id) for tweet_id in stage.get("tweet_ids") or []]
        for index in range(len(tweet_ids), len(parts)):
            body = {}
            if parts[index].strip():
                body["text"] = parts[index]
            resumed_media = False
            if index == 0 and media:
                resumed_media = bool(stage.get("media"))
                body["media"] = {"media_ids": self._upload_media(media, stage, save)}
            if index > 0:
                body["reply"] = {"in_reply_to_tweet_id": tweet_ids[-1]}
            try:
                tweet_id = self._post(body, stage, save, index)
            except PublishError as error:
                if not (resumed_media and error.code == "media_rejected"):
                    raise
                # The media ids of an earlier attempt were refused (expired sooner than
                # said): upload the images again, once; the refused call created nothing.
                stage.pop("media", None)
                save()
                body["media"] = {"media_ids": self._upload_media(media, stage, save)}
                tweet_id = self._post(body, stage, save, index)
            tweet_ids.append(tweet_id)
            stage["tweet_ids"] = list(tweet_ids)
            if index < len(parts) - 1:
                save()  # a resumed attempt continues after this part
        return Published(
            remote_id=tweet_ids[0], url=post_url(self.username, tweet_ids[0]), requests=self.log
        )

    def _post(self, body, stage, save, index):
        label = f"POST {TWEETS_PATH}"
        result = self._call("POST", TWEETS_PATH, json_body=body, creates_post=True)
        if result.status not in (200, 201):
            error = answer_error(
                result,
                label,
                parts=[body.get("text", "")],
                limits=getattr(self.channel, "limits", None),
            )
            if error.code == "duplicate":
                # For find(): X says this text is already on the account.
                stage["duplicate"] = {"part": index, "at": iso(now_utc())}
                save()
            raise error
        data = data_of(result, label, ok=(200, 201), creates_post=True)
        return str(data["id"])

    # --- media -----------------------------------------------------------------------
    def _upload_media(self, media, stage, save):
        """The media ids of the post's images, uploading those the stage lacks (or holds
        too old). Each id is saved before the next call."""
        staged = [item for item in stage.get("media") or [] if isinstance(item, dict)]
        ids = []
        for index, item in enumerate(media):
            entry = staged[index] if index < len(staged) else None
            if entry is None or self._expired(entry):
                entry = self._upload_one(item)
                if index < len(staged):
                    staged[index] = entry
                else:
                    staged.append(entry)
                stage["media"] = staged
                save()
            if not entry.get("ready"):
                self._wait_for(entry["id"])
                entry["ready"] = True
                save()
            alt = str(item.get("alt") or "").strip()
            if alt and not entry.get("alt"):
                self._set_alt(entry["id"], alt)
                entry["alt"] = True
                save()
            ids.append(entry["id"])
        return ids

    def _expired(self, entry):
        try:
            uploaded = float(entry.get("uploaded_at") or 0)
            lifetime = float(entry.get("expires_after_secs") or MEDIA_LIFETIME)
        except (TypeError, ValueError):
            return True
        return time.time() - uploaded > lifetime - MEDIA_MARGIN

    def _upload_one(self, item):
        label = f"POST {MEDIA_PATH}"
        data = http.read_media(item, label)
        path = item.get("path") or ""
        content_type = item.get("content_type") or "application/octet-stream"
        body, multipart = urllib3.encode_multipart_formdata(
            {
                "media": (os.path.basename(path) or "image", data, content_type),
                "media_category": "tweet_image",
                "media_type": content_type,
            }
        )
        started = time.time()
        result = self._call(
            "POST", MEDIA_PATH, body=body, content_type=multipart, timeout=http.UPLOAD_TIMEOUT
        )
        answer = data_of(result, label, ok=(200, 201, 202))
        info = (
            answer.get("processing_info") if isinstance(answer.get("processing_info"), dict) else {}
        )
        state = str(info.get("state") or "succeeded")
        if state == "failed":
            raise media_failed(info, label)
        try:
            lifetime = int(answer.get("expires_after_secs") or MEDIA_LIFETIME)
        except (TypeError, ValueError):
            lifetime = MEDIA_LIFETIME
        return {
            "id": str(answer["id"]),
            "uploaded_at": int(started),
            "expires_after_secs": lifetime,
            "ready": state == "succeeded",
            "alt": False,
        }

    def _wait_for(self, media_id):
        """Poll an image X is still processing until it succeeded."""
        label = f"GET {MEDIA_PATH}"
        query = urlencode({"command": "STATUS", "media_id": media_id})
        wait = 1.0
        for _poll in range(self.media_poll_limit):
            time.sleep(min(max(wait, 0.0), self.media_poll_cap))
            result = self._call("GET", f"{MEDIA_PATH}?{query}")
            answer = data_of(result, label)
            info = answer.get("processing_info")
            info = info if isinstance(info, dict) else {"state": "succeeded"}
            state = str(info.get("state") or "")
            if state == "succeeded":
                return
            if state == "failed":
                raise media_failed(info, label)
            try:
                wait = float(info.get("check_after_secs") or 1)
            except (TypeError, ValueError):
                wait = 1.0
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "media_processing",
            _(
                "X is still processing the images of this post. Tribu will try again in a "
                "moment, without uploading them again."
            ),
            retry_after=30,
            request=label,
        )

    def _set_alt(self, media_id, alt):
        label = f"POST {METADATA_PATH}"
        if len(alt) > MAX_ALT:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "alt_text_too_long",
                _(
                    "An image description is %(length)s characters long; X accepts at most "
                    "%(max)s. Shorten it, then publish again."
                )
                % {"length": len(alt), "max": MAX_ALT},
                sent=False,
                request=label,
            )
        body = {"id": media_id, "metadata": {"alt_text": {"text": alt}}}
        result = self._call("POST", METADATA_PATH, json_body=body)
        if result.status not in (200, 201):
            raise answer_error(result, label)

    # --- find --------------------------------------------------------------------------
    def find(self, content, *, stage, since):
        self.log = []
        try:
            return self._find(content, stage or {}, since)
        except PublishError as error:
            error.requests = list(self.log)
            raise

    def _find(self, content, stage, since):
        parts = [content.text, *[str(part) for part in content.thread if str(part).strip()]]
        found = [str(tweet_id) for tweet_id in stage.get("tweet_ids") or []][: len(parts)]
        known = len(found)
        if known == len(parts):
            # Every part's id was saved: the attempt got that far, nothing to look for.
            return Published(remote_id=found[0], url=post_url(self.username, found[0]))
        cutoff = since - FIND_SLACK if since else None
        self._ensure_fresh_token()
        tweets, complete = self._recent_tweets(found[-1] if found else None, cutoff)
        for index in range(known, len(parts)):
            match = find_part(
                tweets,
                parts[index],
                parent=found[-1] if found else None,
                media_count=len(content.media) if index == 0 else 0,
                cutoff=cutoff,
            )
            if match is None:
                break
            found.append(str(match["id"]))
        log = list(self.log)
        if len(found) == len(parts):
            return Published(
                remote_id=found[0], url=post_url(self.username, found[0]), requests=log
            )
        if found:
            return CannotTell(
                reason=_(
                    "The first %(found)s of the %(total)s parts of this thread are on X, but "
                    "not the rest. Check the thread on X, post the missing parts there as "
                    "replies, then mark the post as published."
                )
                % {"found": len(found), "total": len(parts)},
                requests=log,
            )
        if not complete:
            return CannotTell(
                reason=_(
                    "The account published many posts since this one was sent, and Tribu reads "
                    "only its latest %(count)s (each post read is billed by X). Check the "
                    "account on X: mark the post as published if it is there, otherwise "
                    "publish it again."
                )
                % {"count": FIND_PAGE_SIZE},
                requests=log,
            )
        if stage.get("duplicate"):
            return CannotTell(
                reason=_(
                    "X refused this text as a duplicate, but no post from this attempt is on "
                    "the account: the same text was published on X earlier. If that earlier "
                    "post will do, mark this one as published; otherwise change a few words "
                    "and publish it again."
                ),
                requests=log,
            )
        return NotFound(requests=log)

    def _recent_tweets(self, since_id, cutoff):
        """One page of the account's latest posts, newest first, and whether it covers the
        whole time since the attempt (False when more pages would follow)."""
        path = f"/2/users/{self.channel.account_id}/tweets"
        label = f"GET {path}"
        query = {
            "max_results": FIND_PAGE_SIZE,
            "exclude": "retweets",
            "tweet.fields": FIND_FIELDS,
        }
        if since_id:
            query["since_id"] = since_id
        elif cutoff is not None:
            query["start_time"] = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = self._call("GET", f"{path}?{urlencode(query)}")
        if result.status != 200:
            raise answer_error(result, label)
        body = result.json()
        if not isinstance(body, dict):
            raise bad_answer(result, label)
        data = body.get("data")
        if data is None and body.get("errors") and not body.get("meta"):
            raise answer_error_from_errors(result, label)
        tweets = [tweet for tweet in data or [] if isinstance(tweet, dict) and tweet.get("id")]
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        return tweets, not meta.get("next_token")


def answer_error_from_errors(result, label):
    _title, detail, _kind = problem_of(result)
    return PublishError(
        ErrorKind.FATAL,
        "not_found",
        _(
            "X could not read this account's posts (%(detail)s). Check that the account still "
            "exists and is not suspended."
        )
        % {"detail": detail},
        status=result.status,
        detail=detail,
        request=label,
    )


def media_failed(info, label):
    error = info.get("error") if isinstance(info.get("error"), dict) else {}
    detail = str(error.get("message") or error.get("name") or "failed")
    return PublishError(
        ErrorKind.FIX_CONTENT,
        "media_failed",
        _(
            "X could not process an image of this post (%(detail)s). Replace it with a JPEG "
            "or PNG image, then publish again."
        )
        % {"detail": detail},
        detail=detail,
        request=label,
    )


def tweet_text(tweet):
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and note.get("text"):
        return str(note["text"])  # a long post: `text` is cut short
    return str(tweet.get("text") or "")


def replied_to(tweet):
    for reference in tweet.get("referenced_tweets") or []:
        if isinstance(reference, dict) and reference.get("type") == "replied_to":
            return str(reference.get("id"))
    return None


def find_part(tweets, text, *, parent, media_count, cutoff):
    """The oldest post that is this part: same words, not before `cutoff`, replying to the
    previous part (the first part replies to nothing), with as many images."""
    wanted = words(text)
    candidates = []
    for tweet in tweets:
        created = parse_moment(tweet.get("created_at"))
        if cutoff is not None and created is not None and created < cutoff:
            continue
        attachments = tweet.get("attachments") if isinstance(tweet.get("attachments"), dict) else {}
        if replied_to(tweet) != parent:
            continue
        if len(attachments.get("media_keys") or []) != media_count:
            continue
        if words(tweet_text(tweet)) == wanted:
            candidates.append(tweet)
    # Ids grow with time: the shorter, then the smaller, is the older.
    return min(
        candidates, key=lambda tweet: (len(str(tweet["id"])), str(tweet["id"])), default=None
    )
