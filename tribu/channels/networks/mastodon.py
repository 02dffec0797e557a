"""Mastodon (and servers speaking its API): connect an account, publish, find a post again.

Connecting is OAuth 2 with PKCE, against an app registered once per instance
(`register_app`, `authorization_url`, `exchange_code`; the views store and wire them). The
token never expires; it dies when revoked, which answers 401.

Publishing (docs/networks.md §1):

1. each image is uploaded (`POST /api/v2/media`, the alt text as `description`); a 202 means
   the server still processes it, so `GET /api/v1/media/{id}` is polled until 200, a bounded
   number of times. Each media id is saved in the stage at once, so a resumed attempt does
   not upload it again;
2. `POST /api/v1/statuses` with an `Idempotency-Key`: Mastodon keeps the key an hour and
   answers a repeat with the original status, so a request whose answer was lost can be sent
   again without a second post;
3. a thread chains each follow-up part to the previous one with `in_reply_to_id`. Each part
   has its own key (the delivery's key, then `key:1`, `key:2`…) and its status id is saved in
   the stage before the next part leaves, so a resumed attempt sends only the parts still
   missing. Mastodon has no first comment: the thread is how it chains.

`find()` reads the account's latest statuses and compares their text with ours. Mastodon
serves `content` as HTML with links shortened for display and mentions reduced to `@user`,
so both sides are reduced to their words, without URLs, before comparing.
"""

import base64
import hashlib
import json
import math
import os
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import urllib3
from django.utils.translation import gettext as _

from tribu.channels.networks.base import (
    Account,
    CannotTell,
    Client,
    ErrorKind,
    NotFound,
    Published,
    PublishError,
)
from tribu.channels.networks.http import read_media
from tribu.listening.fetch.http import FetchError, Limits, parse_retry_after, send

NETWORK = "mastodon"
# The narrowest set that lets Tribu check the account, publish with images and find its own
# posts again. `profile` would do for the check on 4.3+, but older servers do not know it.
SCOPES = "read:accounts write:statuses write:media read:statuses"
# What an instance allows when it does not say (Mastodon's defaults).
DEFAULT_LIMITS = {
    "max_characters": 500,
    "characters_reserved_per_url": 23,
    "max_media": 4,
    "image_size_limit": 16 * 1024 * 1024,
    "description_limit": 1500,
}
TIMEOUT = 30  # seconds for one API call
UPLOAD_TIMEOUT = 120  # an image upload: up to 16 MB on a slow uplink
# Waits between polls of an image still processing: about half a minute in all, then the
# attempt is retried later (the uploaded ids are kept).
MEDIA_POLL_DELAYS = (0.5, 1, 1, 2, 2, 3, 5, 5, 5, 5)
# find(): statuses may carry a created_at a little before `since` (clocks differ).
FIND_SLACK = timedelta(minutes=5)
FIND_PAGE_SIZE = 40  # the largest page Mastodon serves
FIND_MAX_PAGES = 5

STATUSES = "/api/v1/statuses"
MEDIA = "/api/v2/media"

# Every field read and every parameter sent; tests check them against the OpenAPI description.
STATUS_FIELDS = ("id", "url", "uri", "content", "created_at", "in_reply_to_id", "media_attachments")
ACCOUNT_FIELDS = ("id", "username", "display_name", "avatar")
MEDIA_FIELDS = ("id",)
STATUS_PARAMETERS = ("status", "media_ids", "in_reply_to_id", "language", "visibility")
MEDIA_PARAMETERS = ("file", "description")
FIND_PARAMETERS = ("limit", "exclude_reblogs", "max_id")

# A URL as Mastodon links it; trailing punctuation is left out of the link.
URL_RE = re.compile(r"https?://\S+")
# "@jeanne@example.org" is shown as "@jeanne" in the HTML.
MENTION_RE = re.compile(r"(?<![\w/@])@(\w+)@[\w.-]+\w")
WORD_RE = re.compile(r"\w+")


# --- HTTP ----------------------------------------------------------------------------------


def api_root(base_url):
    return (base_url or "").strip().rstrip("/")


def instance_name(base_url):
    return urlsplit(api_root(base_url)).netloc or base_url


def call(
    method,
    base_url,
    path,
    *,
    token=None,
    json_body=None,
    body=None,
    content_type=None,
    headers=None,
    timeout=TIMEOUT,
    log=None,
    creates_post=False,
):
    """Send one request and return its SendResult, whatever the status. A request that got
    no answer raises PublishError; `log` receives (request, status, ms) for the delivery log
    (method and path only: never a token or a query)."""
    label = f"{method} {path.split('?', 1)[0]}"
    request_headers = dict(headers or {})
    if token:
        request_headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        body = json.dumps(json_body).encode("utf-8")
        content_type = "application/json"
    if content_type:
        request_headers["Content-Type"] = content_type
    started = time.monotonic()
    try:
        result = send(
            method,
            api_root(base_url) + path,
            body=body,
            headers=request_headers,
            limits=Limits(max_seconds=timeout, connect_timeout=min(5.0, timeout)),
        )
    except FetchError as error:
        if log is not None:
            log.append((label, error.status, elapsed_ms(started)))
        raise transport_error(error, base_url, label, creates_post=creates_post) from None
    if log is not None:
        log.append((label, result.status, elapsed_ms(started)))
    return result


def elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)


def transport_error(error, base_url, label, *, creates_post):
    """A request that got no answer. Whether it may have reached the server decides the
    kind: a post that may exist is `unknown`, anything else can simply be tried again."""
    instance = instance_name(base_url)
    if error.code in ("blocked_address", "invalid_url"):
        return PublishError(
            ErrorKind.FATAL,
            error.code,
            error.message,
            sent=False,
            request=label,
        )
    if not error.sent:
        return PublishError(
            ErrorKind.RETRY_LATER,
            "unreachable",
            _(
                "Tribu could not reach the Mastodon instance %(instance)s, so nothing was "
                "sent (%(reason)s). Tribu will try again shortly."
            )
            % {"instance": instance, "reason": error.message},
            detail=error.message,
            sent=False,
            request=label,
        )
    if creates_post:
        return PublishError(
            ErrorKind.UNKNOWN,
            "no_answer",
            _(
                "The post was sent to %(instance)s but no answer came back (%(reason)s), so "
                "it may already be published. Tribu sends it again with the same "
                "idempotency key, which Mastodon uses to avoid a second post."
            )
            % {"instance": instance, "reason": error.message},
            detail=error.message,
            sent=True,
            request=label,
        )
    # An upload or a read: repeating it cannot publish anything twice.
    return PublishError(
        ErrorKind.RETRY_LATER,
        "no_answer",
        _(
            "The Mastodon instance %(instance)s did not answer (%(reason)s). Tribu will try "
            "again later."
        )
        % {"instance": instance, "reason": error.message},
        detail=error.message,
        sent=True,
        request=label,
    )


def retry_after_seconds(headers, now=None):
    """Seconds to wait: Retry-After, else Mastodon's X-RateLimit-Reset (an ISO 8601 time)."""
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is not None:
        return seconds
    reset = (headers.get("x-ratelimit-reset") or "").strip()
    if not reset:
        return None
    try:
        when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0, math.ceil((when - now).total_seconds()))


def error_text(result):
    """The server's own words: Mastodon's {"error": …} (Doorkeeper adds a description)."""
    data = result.json()
    if isinstance(data, dict) and data.get("error"):
        words = str(data["error"])
        if data.get("error_description"):
            words += ": " + str(data["error_description"])
        return words[:1000]
    return result.body[:300].decode("utf-8", "replace").strip()


def answer_error(result, base_url, label):
    """The PublishError an HTTP error status maps to (docs/networks.md, retry taxonomy)."""
    status = result.status
    detail = error_text(result)
    instance = instance_name(base_url)
    values = {"instance": instance, "status": status, "detail": detail}

    def error(kind, code, message, **extra):
        return PublishError(
            kind, code, message % values, status=status, detail=detail, request=label, **extra
        )

    if status == 401:
        return error(
            ErrorKind.REAUTH,
            "token_invalid",
            _(
                "%(instance)s refused Tribu's access token: it was revoked, or the app was "
                "removed from the account. Reconnect the channel; its posts are held until "
                "then."
            ),
        )
    if status == 403:
        if "scope" in detail.lower():
            return error(
                ErrorKind.FATAL,
                "scope_missing",
                _(
                    "The connection to %(instance)s does not allow publishing. Reconnect the "
                    "channel and grant Tribu write access to posts and media."
                ),
            )
        return error(
            ErrorKind.FATAL,
            "forbidden",
            _(
                "%(instance)s does not let this account do that (%(detail)s). The account may "
                "be suspended or limited: check it on the instance. Tribu will not retry."
            ),
        )
    if status == 422 and "finished processing" in detail:
        return error(
            ErrorKind.RETRY_LATER,
            "media_processing",
            _(
                "%(instance)s is still processing the images of this post. Tribu will try "
                "again in a moment."
            ),
            retry_after=retry_after_seconds(result.headers) or 15,
        )
    if status in (400, 413, 422):
        return error(
            ErrorKind.FIX_CONTENT,
            "rejected",
            _(
                "%(instance)s refused the post: %(detail)s. Edit the post to fix it, then "
                "publish it again."
            ),
        )
    if status == 429:
        seconds = retry_after_seconds(result.headers)
        values["seconds"] = seconds
        message = (
            _(
                "%(instance)s asked Tribu to slow down (too many requests). Tribu will try "
                "again in %(seconds)s seconds."
            )
            if seconds is not None
            else _(
                "%(instance)s asked Tribu to slow down (too many requests). Tribu will try "
                "again later."
            )
        )
        return error(ErrorKind.RETRY_LATER, "rate_limited", message, retry_after=seconds)
    if status >= 500:
        return error(
            ErrorKind.RETRY_LATER,
            "server_error",
            _(
                "%(instance)s had a problem on its side (HTTP %(status)s). Tribu will try "
                "again later."
            ),
            retry_after=retry_after_seconds(result.headers),
        )
    if status in (404, 410):
        return error(
            ErrorKind.FATAL,
            "not_found",
            _(
                "%(instance)s answered that what Tribu asked for does not exist (HTTP "
                "%(status)s: %(detail)s). Check the channel's instance address, and that the "
                "previous part of the thread was not deleted."
            ),
        )
    return error(
        ErrorKind.FATAL,
        "unexpected_status",
        _(
            "%(instance)s gave an answer Tribu does not understand (HTTP %(status)s). Check "
            "the channel's instance address: it must be a Mastodon server's."
        ),
    )


def json_answer(result, base_url, label, *, ok=(200,)):
    """The JSON object of a successful answer, or the mapped PublishError."""
    if result.status not in ok:
        raise answer_error(result, base_url, label)
    data = result.json()
    if not isinstance(data, dict):
        raise bad_answer(result, base_url, label)
    return data


def bad_answer(result, base_url, label, *, creates_post=False):
    values = {"instance": instance_name(base_url)}
    if creates_post:
        return PublishError(
            ErrorKind.UNKNOWN,
            "bad_answer",
            _(
                "%(instance)s accepted the post but its answer could not be read, so the post "
                "may already be published. Tribu will check before publishing again."
            )
            % values,
            status=result.status,
            detail=result.body[:300].decode("utf-8", "replace"),
            sent=True,
            request=label,
        )
    return PublishError(
        ErrorKind.RETRY_LATER,
        "bad_answer",
        _(
            "%(instance)s answered with something that is not what Mastodon sends. Tribu will "
            "try again later; if it persists, check the channel's instance address."
        )
        % values,
        status=result.status,
        detail=result.body[:300].decode("utf-8", "replace"),
        request=label,
    )


# --- OAuth ---------------------------------------------------------------------------------


def register_app(base_url, redirect_uri, scopes=SCOPES, *, website="", timeout=TIMEOUT):
    """Register Tribu as an OAuth app on an instance (once per instance and redirect URI).
    Returns {"client_id", "client_secret"}."""
    body = {"client_name": "Tribu", "redirect_uris": [redirect_uri], "scopes": scopes}
    if website:
        body["website"] = website
    label = "POST /api/v1/apps"
    result = call("POST", base_url, "/api/v1/apps", json_body=body, timeout=timeout)
    data = json_answer(result, base_url, label)
    if not data.get("client_id") or not data.get("client_secret"):
        raise bad_answer(result, base_url, label)
    return {"client_id": str(data["client_id"]), "client_secret": str(data["client_secret"])}


def new_code_verifier():
    """A PKCE code verifier: 86 URL-safe characters (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier):
    """The S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(base_url, client_id, redirect_uri, scopes, state, code_challenge):
    """Where to send the user to approve Tribu (PKCE S256, supported since Mastodon 4.3;
    older servers ignore the challenge)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scopes,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{api_root(base_url)}/oauth/authorize?{query}"


def exchange_code(
    base_url, client_id, client_secret, redirect_uri, code, code_verifier, *, timeout=TIMEOUT
):
    """Trade the authorization code for a token. Returns {"access_token", "scope"}."""
    label = "POST /oauth/token"
    result = call(
        "POST",
        base_url,
        "/oauth/token",
        json_body={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "code": code,
            "code_verifier": code_verifier,
        },
        timeout=timeout,
    )
    instance = instance_name(base_url)
    if result.status in (400, 401):
        data = result.json()
        error = data.get("error") if isinstance(data, dict) else ""
        if error == "invalid_client":
            raise PublishError(
                ErrorKind.FATAL,
                "invalid_client",
                _(
                    "%(instance)s no longer knows the app Tribu registered there. Connect the "
                    "account again: Tribu will register a new app."
                )
                % {"instance": instance},
                status=result.status,
                detail=error_text(result),
                request=label,
            )
        if error == "invalid_grant":
            raise PublishError(
                ErrorKind.FATAL,
                "invalid_grant",
                _(
                    "%(instance)s refused the authorization: it expired, was already used, or "
                    "does not match this attempt. Start connecting the account again."
                )
                % {"instance": instance},
                status=result.status,
                detail=error_text(result),
                request=label,
            )
    data = json_answer(result, base_url, label)
    token = data.get("access_token")
    if not token:
        raise bad_answer(result, base_url, label)
    scope = str(data.get("scope") or "")
    granted = set(scope.split())
    if scope and not (
        ("write" in granted or "write:statuses" in granted)
        and ("write" in granted or "write:media" in granted)
    ):
        raise PublishError(
            ErrorKind.FATAL,
            "scope_missing",
            _(
                "%(instance)s granted Tribu only “%(scope)s”, which does not allow publishing. "
                "Connect again and grant write access to posts and media."
            )
            % {"instance": instance, "scope": scope},
            request=label,
        )
    return {"access_token": str(token), "scope": scope}


# --- the client ----------------------------------------------------------------------------


def instance_limits(base_url, timeout):
    """(limits, domain) from GET /api/v2/instance; Mastodon's defaults when it fails, since
    connecting must not depend on it."""
    limits = dict(DEFAULT_LIMITS)
    try:
        result = call("GET", base_url, "/api/v2/instance", timeout=timeout)
    except PublishError:
        return limits, ""
    data = result.json() if result.status == 200 else None
    if not isinstance(data, dict):
        return limits, ""
    configuration = data.get("configuration")
    configuration = configuration if isinstance(configuration, dict) else {}
    statuses = configuration.get("statuses")
    media = configuration.get("media_attachments")
    for key, section, name in (
        ("max_characters", statuses, "max_characters"),
        ("characters_reserved_per_url", statuses, "characters_reserved_per_url"),
        ("max_media", statuses, "max_media_attachments"),
        ("image_size_limit", media, "image_size_limit"),
        ("description_limit", media, "description_limit"),
    ):
        value = section.get(name) if isinstance(section, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            limits[key] = value
    domain = data.get("domain")
    return limits, domain if isinstance(domain, str) else ""


class MastodonClient(Client):
    network = NETWORK
    idempotent = True
    idempotency_window = 3600  # Mastodon keeps an Idempotency-Key for up to an hour
    media_poll_delays = MEDIA_POLL_DELAYS

    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        timeout = timeout or TIMEOUT
        token = (credentials or {}).get("access_token") or ""
        label = "GET /api/v1/accounts/verify_credentials"
        result = call(
            "GET", base_url, "/api/v1/accounts/verify_credentials", token=token, timeout=timeout
        )
        if result.status == 401:
            raise PublishError(
                ErrorKind.REAUTH,
                "token_invalid",
                _(
                    "%(instance)s refused this access token: it is wrong, or it was revoked. "
                    "Connect the account again."
                )
                % {"instance": instance_name(base_url)},
                status=401,
                detail=error_text(result),
                request=label,
            )
        account = json_answer(result, base_url, label)
        if not account.get("id") or not account.get("username"):
            raise bad_answer(result, base_url, label)
        limits, domain = instance_limits(base_url, timeout)
        domain = domain or urlsplit(api_root(base_url)).hostname or ""
        username = str(account["username"])
        return Account(
            account_id=str(account["id"]),
            handle=f"@{username}@{domain}",
            name=str(account.get("display_name") or username),
            avatar_url=str(account.get("avatar") or ""),
            secrets={"access_token": token},
            limits=limits,
        )

    # --- helpers -----------------------------------------------------------------------
    @property
    def base_url(self):
        return self.channel.base_url

    @property
    def token(self):
        return (self.channel.secret_values or {}).get("access_token") or ""

    def call(self, method, path, *, timeout=None, **kwargs):
        return call(
            method,
            self.base_url,
            path,
            token=self.token,
            timeout=self.timeout or timeout or TIMEOUT,
            **kwargs,
        )

    # --- publish -----------------------------------------------------------------------
    def publish(self, content, *, idempotency_key, stage, save_stage):
        stage = dict(stage or {})
        log = []
        parts = [content.text, *content.thread]
        status_ids = [str(status_id) for status_id in stage.get("status_ids") or []]
        media_ids = []
        if not status_ids and content.media:
            media_ids = self.upload_media(content.media, stage, save_stage, log)
        for index in range(len(status_ids), len(parts)):
            body = {"status": parts[index], "visibility": "public"}
            if content.language:
                body["language"] = content.language
            if index == 0 and media_ids:
                body["media_ids"] = media_ids
            if index > 0:
                body["in_reply_to_id"] = status_ids[-1]
            key = idempotency_key if index == 0 else f"{idempotency_key}:{index}"
            status = self.post_status(body, key, log)
            status_ids.append(status["id"])
            stage["status_ids"] = list(status_ids)
            if index == 0:
                stage["url"] = status["url"]
            if index < len(parts) - 1:
                # A resumed attempt continues after this part; after the last one, the
                # delivery records the outcome itself.
                save_stage(dict(stage))
        return Published(remote_id=status_ids[0], url=stage.get("url") or "", requests=log)

    def post_status(self, body, key, log):
        label = f"POST {STATUSES}"
        result = self.call(
            "POST",
            STATUSES,
            json_body=body,
            headers={"Idempotency-Key": key},
            log=log,
            creates_post=True,
        )
        if not 200 <= result.status < 300:
            raise answer_error(result, self.base_url, label)
        data = result.json()
        if not isinstance(data, dict) or not data.get("id"):
            raise bad_answer(result, self.base_url, label, creates_post=True)
        return {"id": str(data["id"]), "url": str(data.get("url") or data.get("uri") or "")}

    def upload_media(self, media, stage, save_stage, log):
        """Upload the images not uploaded yet; each id is saved before the next call."""
        media_ids = [str(media_id) for media_id in stage.get("media_ids") or []]
        for item in media[len(media_ids) :]:
            media_id, processing = self.upload_one(item, log)
            media_ids.append(media_id)
            stage["media_ids"] = list(media_ids)
            save_stage(dict(stage))
            if processing:
                self.wait_for_media(media_id, log)
        return media_ids

    def upload_one(self, item, log):
        label = f"POST {MEDIA}"
        path = item.get("path") or ""
        data = read_media(item, label)
        fields = {
            "file": (
                os.path.basename(path) or "image",
                data,
                item.get("content_type") or "application/octet-stream",
            )
        }
        if item.get("alt"):
            fields["description"] = item["alt"]
        body, content_type = urllib3.encode_multipart_formdata(fields)
        result = self.call(
            "POST",
            MEDIA,
            body=body,
            content_type=content_type,
            timeout=UPLOAD_TIMEOUT,
            log=log,
        )
        data = json_answer(result, self.base_url, label, ok=(200, 202))
        if not data.get("id"):
            raise bad_answer(result, self.base_url, label)
        return str(data["id"]), result.status == 202

    def wait_for_media(self, media_id, log):
        """Poll an image the server processes in the background: 206 until it is ready."""
        path = f"/api/v1/media/{media_id}"
        for delay in self.media_poll_delays:
            time.sleep(delay)
            result = self.call("GET", path, log=log)
            if result.status == 200:
                return
            if result.status != 206:
                raise answer_error(result, self.base_url, f"GET {path}")
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "media_processing",
            _(
                "%(instance)s is still processing the images of this post. Tribu will try "
                "again in a moment, without uploading them again."
            )
            % {"instance": instance_name(self.base_url)},
            retry_after=30,
            request=f"GET {path}",
        )

    # --- find --------------------------------------------------------------------------
    def find(self, content, *, stage, since):
        """Look for the post's parts among the account's latest statuses. Parts already in
        the stage are known; the others are matched by text, in reply to the part before."""
        log = []
        stage = stage or {}
        parts = [content.text, *content.thread]
        found = [str(status_id) for status_id in stage.get("status_ids") or []][: len(parts)]
        known = len(found)
        url = stage.get("url") or ""
        if known == len(parts):
            # Every part's id was saved: the attempt got that far, nothing to look for.
            return Published(remote_id=found[0], url=url, requests=log)
        cutoff = since - FIND_SLACK
        statuses = self.recent_statuses(cutoff, log)
        for index in range(known, len(parts)):
            match = find_part(
                statuses,
                parts[index],
                parent=found[-1] if found else None,
                media_count=len(content.media) if index == 0 else 0,
                cutoff=cutoff,
            )
            if match is None:
                break
            found.append(str(match["id"]))
            if index == 0:
                url = str(match.get("url") or match.get("uri") or "")
        if len(found) == len(parts):
            return Published(remote_id=found[0], url=url, requests=log)
        if len(found) == known:
            # Publishing again resumes after the parts the stage knows: nothing is repeated.
            return NotFound(requests=log)
        return CannotTell(
            reason=_(
                "The first %(found)s of the %(total)s parts of this thread are on Mastodon, but "
                "not the rest. Check the thread on Mastodon and post the missing parts there, "
                "then mark the post as published."
            )
            % {"found": len(found), "total": len(parts)},
            requests=log,
        )

    def recent_statuses(self, cutoff, log):
        """The account's statuses, newest first, back to `cutoff` (a few pages at most)."""
        account_id = self.channel.account_id
        path = f"/api/v1/accounts/{account_id}/statuses"
        statuses = []
        max_id = None
        for _page in range(FIND_MAX_PAGES):
            query = {"limit": FIND_PAGE_SIZE, "exclude_reblogs": "true"}
            if max_id:
                query["max_id"] = max_id
            result = self.call("GET", f"{path}?{urlencode(query)}", log=log)
            if result.status != 200:
                raise answer_error(result, self.base_url, f"GET {path}")
            page = result.json()
            if not isinstance(page, list):
                raise bad_answer(result, self.base_url, f"GET {path}")
            page = [status for status in page if isinstance(status, dict) and status.get("id")]
            statuses.extend(page)
            if len(page) < FIND_PAGE_SIZE:
                break
            oldest = created_at(page[-1])
            if oldest is None or oldest < cutoff:
                break
            max_id = page[-1]["id"]
        return statuses


def find_part(statuses, text, *, parent, media_count, cutoff):
    """The oldest status that is this part: same words, after `cutoff`, in reply to the
    previous part (the first part replies to nothing) and with as many attachments."""
    wanted = words(text)
    candidates = [
        status
        for status in statuses
        if (created_at(status) or cutoff) >= cutoff
        and status.get("in_reply_to_id") == parent
        and len(status.get("media_attachments") or []) == media_count
        and words(status_text(str(status.get("content") or ""))) == wanted
    ]
    return min(candidates, key=lambda status: created_at(status) or cutoff, default=None)


def created_at(status):
    try:
        moment = datetime.fromisoformat(str(status.get("created_at") or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StatusText(HTMLParser):
    """The visible text of a status's HTML, without the text of links: Mastodon shortens a
    URL for display, so the link text is not what was posted. Mentions and hashtags are
    links too, but their text (@user, #tag) is what was posted, so it is kept."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skipping = 0  # depth inside a plain link

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            classes = (dict(attrs).get("class") or "").split()
            if self.skipping or "mention" not in classes:
                self.skipping += 1
            return
        if tag in ("br", "p"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag == "a" and self.skipping:
            self.skipping -= 1
        elif tag == "p":
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def status_text(content_html):
    parser = StatusText()
    parser.feed(content_html)
    parser.close()
    return "".join(parser.parts)


def words(text):
    """What two versions of a text must share to be the same post: their words, in order,
    without URLs, with mentions as Mastodon shows them (@user) and case folded."""
    text = URL_RE.sub(" ", text)
    text = MENTION_RE.sub(r"@\1", text)
    return [word.casefold() for word in WORD_RE.findall(text)]
