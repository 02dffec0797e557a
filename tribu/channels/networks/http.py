"""What the network clients share: one HTTP request with its line in the delivery log, the
errors of a request that got no answer, the operator's apps, media files and their public
addresses, and the OAuth 2 helpers (PKCE).

Each network module keeps its own error mapping (every network words its errors its own
way); this module only knows HTTP.
"""

import base64
import hashlib
import ipaddress
import json
import os
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.translation import gettext as _

from tribu.channels.networks.base import ErrorKind, PublishError
from tribu.listening.fetch.http import FetchError, Limits, private_addresses_allowed, send

TIMEOUT = 30.0  # seconds for one API call when the caller gives none
UPLOAD_TIMEOUT = 120.0  # an image upload on a slow uplink
# How long a public media address stays valid: Meta fetches Instagram and Threads images
# while the container is created, and containers expire after 24 hours.
MEDIA_LINK_SECONDS = 24 * 3600
MEDIA_LINK_SALT = "tribu.channels.media"


# --- the operator's apps ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class App:
    """The app the operator registered on a network (TRIBU_<NETWORK>_CLIENT_ID…) and the
    network's addresses, from settings.TRIBU_NETWORK_APPS."""

    key: str  # "linkedin", "meta", "x", "threads"
    client_id: str
    client_secret: str
    api_url: str
    auth_url: str
    version: str = ""

    @property
    def configured(self):
        return bool(self.client_id and self.client_secret)


# Network → the operator's app it signs in through (Facebook Pages and Instagram share Meta's).
APP_KEYS = {
    "linkedin": "linkedin",
    "facebook": "meta",
    "instagram": "meta",
    "x": "x",
    "threads": "threads",
}


def app_for_network(network):
    return app_for(APP_KEYS[network])


def app_for(key):
    values = (getattr(settings, "TRIBU_NETWORK_APPS", None) or {}).get(key) or {}
    return App(
        key=key,
        client_id=values.get("client_id", ""),
        client_secret=values.get("client_secret", ""),
        api_url=(values.get("api_url") or "").rstrip("/"),
        auth_url=(values.get("auth_url") or "").rstrip("/"),
        version=values.get("version", ""),
    )


# --- one request ---------------------------------------------------------------------------


def elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)


def request_label(method, url_or_path):
    """ "POST /rest/posts": what the delivery log shows of a request (never a query, which
    may carry a token)."""
    path = url_or_path.split("?", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return f"{method} {path}"


def call(
    method,
    url,
    *,
    service,
    token=None,
    json_body=None,
    form=None,
    body=None,
    content_type=None,
    headers=None,
    timeout=TIMEOUT,
    log=None,
    creates_post=False,
):
    """Send one request to `url` and return its SendResult, whatever the status. A request
    that got no answer raises PublishError (transport_error). `service` names the network
    in messages ("LinkedIn"); `log` receives (request, status, ms) for the delivery log;
    `creates_post` says that a lost answer may mean the post exists."""
    label = request_label(method, url)
    request_headers = dict(headers or {})
    if token:
        request_headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        body = json.dumps(json_body).encode("utf-8")
        content_type = "application/json"
    elif form is not None:
        body = urlencode(form).encode("ascii")
        content_type = "application/x-www-form-urlencoded"
    if content_type:
        request_headers["Content-Type"] = content_type
    started = time.monotonic()
    try:
        result = send(
            method,
            url,
            body=body,
            headers=request_headers,
            limits=Limits(max_seconds=timeout, connect_timeout=min(5.0, timeout)),
        )
    except FetchError as error:
        if log is not None:
            log.append((label, error.status, elapsed_ms(started)))
        raise transport_error(error, service, label, creates_post=creates_post) from None
    if log is not None:
        log.append((label, result.status, elapsed_ms(started)))
    return result


def transport_error(error, service, label, *, creates_post):
    """A request that got no answer. Whether it may have reached the network decides the
    kind: a post that may exist is `unknown` (the publisher looks for it before anything
    else), anything else can simply be tried again."""
    values = {"service": service, "reason": error.message}
    if error.code in ("blocked_address", "invalid_url"):
        return PublishError(ErrorKind.FATAL, error.code, error.message, sent=False, request=label)
    if not error.sent:
        return PublishError(
            ErrorKind.RETRY_LATER,
            "unreachable",
            _(
                "Tribu could not reach %(service)s, so nothing was sent (%(reason)s). Tribu "
                "will try again shortly."
            )
            % values,
            detail=error.message,
            sent=False,
            request=label,
        )
    if creates_post:
        return PublishError(
            ErrorKind.UNKNOWN,
            "no_answer",
            _(
                "The post was sent to %(service)s but no answer came back (%(reason)s), so it "
                "may already be published. Tribu looks for it on %(service)s before "
                "publishing anything again."
            )
            % values,
            detail=error.message,
            sent=True,
            request=label,
        )
    return PublishError(
        ErrorKind.RETRY_LATER,
        "no_answer",
        _("%(service)s did not answer (%(reason)s). Tribu will try again later.") % values,
        detail=error.message,
        sent=True,
        request=label,
    )


def body_excerpt(result, size=300):
    return result.body[:size].decode("utf-8", "replace").strip()


# --- media -----------------------------------------------------------------------------


def read_media(item, label=""):
    """The bytes of one of the post's images (an item of Content.media). A file that is
    gone asks the user to fix the post."""
    path = item.get("path") or ""
    try:
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    except (OSError, ValueError, SuspiciousFileOperation) as error:
        raise PublishError(
            ErrorKind.FIX_CONTENT,
            "media_missing",
            _(
                "The image “%(name)s” can no longer be read from Tribu's storage. Remove it "
                "from the post or upload it again."
            )
            % {"name": os.path.basename(path) or path},
            detail=str(error),
            sent=False,
            request=label,
        ) from None


def public_media_url(item, service):
    """A public, signed and expiring address of one of the post's images, for networks
    that download media themselves (Instagram, Threads). The network must be able to reach
    TRIBU_BASE_URL, so a local address is refused with an explanation."""
    base = (getattr(settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    if not base or (is_local(base) and not private_addresses_allowed(None)):
        raise PublishError(
            ErrorKind.FATAL,
            "no_public_address",
            _(
                "%(service)s downloads the images of a post from Tribu itself, but Tribu's "
                "address (%(address)s) cannot be reached from the internet. Set "
                "TRIBU_BASE_URL to Tribu's public https address, then publish again."
            )
            % {"service": service, "address": base or "TRIBU_BASE_URL"},
            sent=False,
        )
    token = signing.dumps(item.get("path") or "", salt=MEDIA_LINK_SALT, compress=True)
    return base + reverse("channels:public_media", args=[token])


def is_local(url):
    """True when `url` names this machine or a private network (never reachable by a
    network's servers)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def media_path_from_token(token):
    """The storage path a public media address names, or None when the address is forged
    or expired."""
    try:
        return signing.loads(token, salt=MEDIA_LINK_SALT, max_age=MEDIA_LINK_SECONDS)
    except signing.BadSignature:
        return None


# --- OAuth 2 ---------------------------------------------------------------------------


def new_code_verifier():
    """A PKCE code verifier: 86 URL-safe characters (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier):
    """The S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def basic_auth(client_id, client_secret):
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
