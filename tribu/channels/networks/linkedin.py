"""LinkedIn: a member's profile and the organization pages they administer (docs/networks.md §3).

Versions. Every `/rest/*` call sends `LinkedIn-Version` (the operator's setting,
TRIBU_LINKEDIN_API_VERSION, "202606" by default: LinkedIn retires a version about a year
after its release and then answers 426 NONEXISTENT_VERSION, which is reported to the
operator) and `X-Restli-Protocol-Version: 2.0.0`. The older `/v2/*` endpoints used here
(`userinfo`, `organizationalEntityAcls`) take no version.

Signing in. OAuth 2 authorization code on `{auth_url}/oauth/v2/authorization`, then
`POST {auth_url}/oauth/v2/accessToken` with the app's id and secret in the form body. PKCE
is for LinkedIn's native apps only: the challenge and verifier the views pass are ignored.
The scopes (`SCOPES`), and why each:

- `openid profile`: `GET /v2/userinfo`, whose `sub` is the member's id (their URN is
  `urn:li:person:{sub}`), with their name and picture;
- `w_member_social`: publish on the member's profile (posts, images, first comment);
- `r_organization_social`: read a page's posts and comments, to find a post whose answer
  was lost (`find()`);
- `w_organization_social`: publish as a page (posts, images, first comment);
- `rw_organization_admin`: list the pages the member administers
  (`organizationalEntityAcls`) and read their names.

Lifetimes. An access token lives 60 days. Only LinkedIn's approved partners get a refresh
token, which lives 365 days from the first consent whatever is refreshed: with one,
`refresh()` trades it for a new access token a day before the old one ends and the
channel's `consent_expires_at` is the refresh token's end; without one, `refresh()` has
nothing to do and `consent_expires_at` is the access token's end. Either way the member
must sign in again then (the channels list warns 14 days ahead). A refresh does not rotate
the refresh token, so the member's channel and their pages' channels, which share it, each
refresh on their own. A 401 EXPIRED_ACCESS_TOKEN during a publish refreshes once and sends
the refused call again (a refused call created nothing).

`accounts()` returns the member and every page where their approved role may post
(ADMINISTRATOR, CONTENT_ADMIN, DIRECT_SPONSORED_CONTENT_POSTER); each Account's secrets hold
the tokens and the author URN. LinkedIn sometimes answers REVOKED_ACCESS_TOKEN right after
consent (propagation): signing in and `connect()` ask once more after `consent_retry_delay`.

Publishing. LinkedIn has no idempotency, so the stage is what prevents repeats:

1. each image: `POST /rest/images?action=initializeUpload` (the image URN is saved in the
   stage before anything else), one `PUT` of the bytes to the upload URL (then the stage
   marks it uploaded). A resumed attempt skips uploaded images; for an image whose upload
   was not confirmed, a page asks LinkedIn for its status (the bytes may have arrived) and
   a member, who cannot read image status, uploads it again under a new URN;
2. images must be AVAILABLE before the post is created. A page's images are polled
   (`GET /rest/images/{urn}`, `media_poll_delays`). A member's cannot be read
   (`w_member_social` is write-only), so the client waits `member_media_grace` seconds after
   uploading and a "not available" refusal of the post becomes `retry_later` (the next
   attempt does not upload again);
3. `POST /rest/posts`: success is a 201 **with** the post URN in `x-restli-id`; a 201
   without it is `unknown` (LinkedIn sometimes "succeeds" with nothing published);
   the text is escaped with `linkedin_escape()` (LinkedIn truncates or refuses text whose
   reserved characters are not escaped); one image is `content.media`, 2 to 20 are
   `content.multiImage`; a link card without images is `content.article` (its picture,
   when it is a file in Tribu's storage, is uploaded like an image);
4. the first comment: the post URN is saved in the stage first, then
   `POST /rest/socialActions/{encoded post URN}/comments`. A resumed attempt with a post URN
   only adds the comment. "Unable to obtain activity" (the new post not yet visible to the
   comments service) is asked again after `comment_retry_delays`.

Errors (LinkedIn's body: {"status", "serviceErrorCode", "code", "message"}): 401 →
`reauth`; 403 → `fatal`; 400 and 422 → `fix_content`; 429 → `retry_later` (LinkedIn sends
no rate-limit headers and its quotas are daily, reset at 00:00 UTC: Tribu waits until then,
at most `RATE_LIMIT_MAX_WAIT`, since LinkedIn also throttles briefly to protect itself and a
post held that long is better decided by a person; a Retry-After, if LinkedIn ever sends
one, wins); 5xx and the messages "Unable to obtain activity" and "Service Unavailable" →
`retry_later`.

`find()`: a page's latest posts (`GET /rest/posts?q=author`) compared by text (unescaped)
and creation time. A member's posts cannot be read (`r_member_social` is restricted): the
user is asked to check the profile and decide.
"""

import copy
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote, urlencode

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
from tribu.publishing.text import LINKEDIN_RESERVED, linkedin_escape

NETWORK = "linkedin"
SERVICE = "LinkedIn"
APP_KEY = "linkedin"
DEFAULT_VERSION = "202606"
RESTLI_PROTOCOL = "2.0.0"
SCOPES = (
    "openid profile w_member_social r_organization_social w_organization_social "
    "rw_organization_admin"
)
# Approved roles on a page that may post as it (w_organization_social).
POSTING_ROLES = frozenset({"ADMINISTRATOR", "CONTENT_ADMIN", "DIRECT_SPONSORED_CONTENT_POSTER"})
PERSON = "urn:li:person:"
ORGANIZATION = "urn:li:organization:"
POST_URL = "https://www.linkedin.com/feed/update/{urn}/"

TIMEOUT = http.TIMEOUT
UPLOAD_TIMEOUT = http.UPLOAD_TIMEOUT
# Refresh a day before the access token ends: a network problem then has a day to pass.
REFRESH_AHEAD = timedelta(days=1)
MAX_IMAGES = 20  # content.multiImage holds 2 to 20 images
# Waits between polls of a page's image still processing: about half a minute in all, then
# the attempt is retried later (the uploaded images are kept).
MEDIA_POLL_DELAYS = (0.5, 1, 1, 2, 2, 3, 5, 5, 5, 5)
# A member's image status cannot be read: wait this long after uploading before posting.
MEMBER_MEDIA_GRACE = 5.0
# The comments service may not see a post created a moment ago ("Unable to obtain
# activity"): ask again after these waits, then retry later.
COMMENT_RETRY_DELAYS = (2.0, 5.0)
# LinkedIn sometimes refuses a token right after consent (propagation): ask once more.
CONSENT_RETRY_DELAY = 3.0
RATE_LIMIT_MAX_WAIT = 3600  # seconds: see the module docstring
RATE_LIMIT_MIN_WAIT = 60
NOT_READY_WAIT = 30  # seconds before trying again a post whose images are not available
FIND_SLACK = timedelta(minutes=5)
FIND_COUNT = 10
ACL_PAGE_SIZE = 100
ACL_MAX_PAGES = 5

# 401 serviceErrorCodes: generic invalid token, revoked, expired.
TOKEN_ERRORS = {65600: "token_invalid", 65601: "token_revoked", 65602: "token_expired"}
REVOKED_TOKEN, EXPIRED_TOKEN = 65601, 65602
RETRYABLE_MESSAGES = ("unable to obtain activity", "service unavailable")
# How LinkedIn words a post refused because an image is not processed yet (unverified: the
# docs only say the post fails; the fake answers "… is not AVAILABLE (status PROCESSING)").
NOT_READY_RE = re.compile(r"not (?:yet )?available|\bprocessing\b|waiting_upload|not ready", re.I)
UNESCAPE_RE = re.compile(r"\\([" + re.escape("".join(sorted(LINKEDIN_RESERVED))) + r"])")
ORGANIZATION_ID_RE = re.compile(r"^(?:urn:li:organization:)?(\d+)$")


# --- small helpers -------------------------------------------------------------------------


def now_utc():
    return datetime.now(UTC)


def post_url(urn):
    return POST_URL.format(urn=urn)


def is_organization(urn):
    return str(urn or "").startswith(ORGANIZATION)


def organization_id(urn):
    match = ORGANIZATION_ID_RE.match(str(urn or "").strip())
    return match.group(1) if match else None


def unescape(text):
    """The text as readers see it, from LinkedIn's "little" text format."""
    return UNESCAPE_RE.sub(r"\1", text or "")


def same_text(a, b):
    return " ".join((a or "").split()) == " ".join((b or "").split())


def parse_moment(value):
    """An aware datetime from ISO 8601 (or a datetime), else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def seconds_value(value):
    if isinstance(value, bool):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def from_millis(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def restli_id(result):
    """The created entity's URN from the `x-restli-id` header (Rest.li may encode it)."""
    value = (result.headers.get("x-restli-id") or "").strip()
    if "%3a" in value.lower():
        value = unquote(value)
    return value if value.startswith("urn:li:") else ""


def token_times(grant, now=None):
    """(token_expires_at, consent_expires_at, refresh_at) of a grant: expiries as ISO 8601
    (`expires_at`, `refresh_token_expires_at`) or as seconds from now (`expires_in`,
    `refresh_token_expires_in`, LinkedIn's own fields)."""
    now = now or now_utc()
    expires = parse_moment(grant.get("expires_at"))
    if expires is None and seconds_value(grant.get("expires_in")):
        expires = now + timedelta(seconds=seconds_value(grant.get("expires_in")))
    if not grant.get("refresh_token"):
        # Without a refresh token the member signs in again when the access token ends.
        return expires, expires, None
    consent = parse_moment(grant.get("refresh_token_expires_at"))
    if consent is None and seconds_value(grant.get("refresh_token_expires_in")):
        consent = now + timedelta(seconds=seconds_value(grant.get("refresh_token_expires_in")))
    refresh_at = max(now, expires - REFRESH_AHEAD) if expires else None
    return expires, consent, refresh_at


def rate_limit_wait(headers, now=None):
    """Seconds to wait after a 429: Retry-After when present; otherwise until LinkedIn's
    daily quotas reset (00:00 UTC), between RATE_LIMIT_MIN_WAIT and RATE_LIMIT_MAX_WAIT."""
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is not None:
        return seconds
    now = now or now_utc()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    until = int((midnight - now).total_seconds()) + 1
    return max(RATE_LIMIT_MIN_WAIT, min(until, RATE_LIMIT_MAX_WAIT))


# --- errors --------------------------------------------------------------------------------


def error_fields(result):
    """(serviceErrorCode, code, message) of a LinkedIn error answer. Validation answers add
    `errorDetails.inputErrors[].description`, appended to the message."""
    data = result.json()
    if not isinstance(data, dict):
        return None, "", http.body_excerpt(result)
    service_code = data.get("serviceErrorCode")
    if isinstance(service_code, bool) or not isinstance(service_code, int):
        service_code = None
    code = str(data.get("code") or data.get("error") or "")
    message = str(data.get("message") or data.get("error_description") or "")
    details = data.get("errorDetails")
    inputs = details.get("inputErrors") if isinstance(details, dict) else None
    for item in inputs if isinstance(inputs, list) else []:
        description = item.get("description") if isinstance(item, dict) else None
        if description and str(description) not in message:
            message = f"{message} {description}".strip()
    return service_code, code, message[:1000] or http.body_excerpt(result)


def answer_error(result, label, *, who="", organization=False, version="", media=False):
    """The PublishError a LinkedIn error answer maps to. `who` names the account (the
    page's or the member's name), `media` says that the request used uploaded images (a
    refusal saying they are not ready is then worth retrying)."""
    status = result.status
    service_code, code, message = error_fields(result)
    values = {
        "who": who or _("this account"),
        "status": status,
        "detail": message or _("no details"),
        "version": version or DEFAULT_VERSION,
    }

    def error(kind, stable_code, text, **extra):
        detail = f"{code}: {message}" if code and code not in message else message
        return PublishError(
            kind, stable_code, text % values, status=status, detail=detail, request=label, **extra
        )

    lowered = message.lower()
    if status == 401:
        kind_code = TOKEN_ERRORS.get(service_code, "token_invalid")
        if kind_code == "token_expired":
            text = _(
                "LinkedIn's access for %(who)s has expired (LinkedIn ends it after 60 days). "
                "Reconnect the channel; its posts are held until then."
            )
        elif kind_code == "token_revoked":
            text = _(
                "LinkedIn says that Tribu's access for %(who)s was withdrawn (the member "
                "removed Tribu in their LinkedIn settings or changed their password). "
                "Reconnect the channel; its posts are held until then."
            )
        else:
            text = _(
                "LinkedIn refused Tribu's access token for %(who)s. Reconnect the channel; "
                "its posts are held until then."
            )
        return error(ErrorKind.REAUTH, kind_code, text)
    if status == 426 or code in ("NONEXISTENT_VERSION", "VERSION_MISSING"):
        return error(
            ErrorKind.FATAL,
            "version_retired",
            _(
                "LinkedIn no longer accepts the API version Tribu asks for (%(version)s). The "
                "administrator must set TRIBU_LINKEDIN_API_VERSION to a recent version "
                "(YYYYMM, such as the previous month) and restart Tribu, then publish again."
            ),
        )
    if status == 429:
        seconds = rate_limit_wait(result.headers)
        values["minutes"] = max(1, round(seconds / 60))
        return error(
            ErrorKind.RETRY_LATER,
            "rate_limited",
            _(
                "LinkedIn's limit of requests is reached for %(who)s or for Tribu's app "
                "(LinkedIn's limits are daily and reset at midnight UTC). Tribu will try "
                "again in about %(minutes)s minutes; if the post is late by then, it waits "
                "for your decision."
            ),
            retry_after=seconds,
        )
    if status >= 500 or any(words in lowered for words in RETRYABLE_MESSAGES):
        return error(
            ErrorKind.RETRY_LATER,
            "server_error",
            _(
                "LinkedIn had a problem on its side (HTTP %(status)s: %(detail)s). Tribu "
                "will try again later."
            ),
            retry_after=parse_retry_after(result.headers.get("retry-after")),
        )
    if media and status in (400, 409, 422) and NOT_READY_RE.search(message):
        return error(
            ErrorKind.RETRY_LATER,
            "media_processing",
            _(
                "LinkedIn has not finished processing the images of this post (%(detail)s). "
                "Tribu will try again in a moment, without uploading them again."
            ),
            retry_after=NOT_READY_WAIT,
        )
    if status == 403:
        text = (
            _(
                "LinkedIn does not let this channel publish as the page %(who)s (%(detail)s). "
                "The member who connected it must be an administrator or a content admin of "
                "the page: check their role in the page's admin tools, then reconnect the "
                "channel. Tribu will not retry."
            )
            if organization
            else _(
                "LinkedIn does not let Tribu publish on the profile of %(who)s (%(detail)s). "
                "Reconnect the channel and accept every permission LinkedIn asks for. Tribu "
                "will not retry."
            )
        )
        return error(ErrorKind.FATAL, "forbidden", text)
    if status in (400, 413, 415, 422):
        return error(
            ErrorKind.FIX_CONTENT,
            "rejected",
            _(
                "LinkedIn refused the post: %(detail)s. Edit the post to fix it, then publish "
                "it again."
            ),
        )
    if status in (404, 410):
        return error(
            ErrorKind.FATAL,
            "not_found",
            _(
                "LinkedIn answered that what Tribu asked for does not exist (%(detail)s). The "
                "page or the post may have been deleted: check on LinkedIn, then reconnect the "
                "channel if needed."
            ),
        )
    return error(
        ErrorKind.FATAL,
        "unexpected_status",
        _(
            "LinkedIn gave an answer Tribu does not understand (HTTP %(status)s: %(detail)s). "
            "Check the LinkedIn API address in Tribu's configuration."
        ),
    )


def bad_answer(result, label, *, creates_post=False):
    """A success whose body is not what LinkedIn sends."""
    if creates_post:
        return PublishError(
            ErrorKind.UNKNOWN,
            "bad_answer",
            _(
                "LinkedIn accepted the request but its answer could not be read, so the post "
                "may already be published. Tribu will check before publishing again."
            ),
            status=result.status,
            detail=http.body_excerpt(result),
            request=label,
        )
    return PublishError(
        ErrorKind.RETRY_LATER,
        "bad_answer",
        _(
            "LinkedIn answered with something Tribu cannot read. Tribu will try again later; "
            "if it persists, check the LinkedIn API address in Tribu's configuration."
        ),
        status=result.status,
        detail=http.body_excerpt(result),
        request=label,
    )


def json_answer(result, label, *, ok=(200,), **context):
    if result.status not in ok:
        raise answer_error(result, label, **context)
    data = result.json()
    if not isinstance(data, dict):
        raise bad_answer(result, label)
    return data


def connect_error(error):
    """A token refused while connecting: say what to do now, not "reconnect the channel"."""
    if error.kind != ErrorKind.REAUTH:
        return error
    return PublishError(
        ErrorKind.REAUTH,
        error.code,
        _(
            "LinkedIn refused this access token: it is wrong, has expired or was revoked. "
            "Sign in with LinkedIn again, or paste a fresh token."
        ),
        status=error.status,
        detail=error.detail,
        request=error.request,
        sent=False,
    )


# --- one signed-in conversation with the API --------------------------------------------


@dataclass
class Session:
    base_url: str
    token: str
    version: str = DEFAULT_VERSION
    timeout: float = TIMEOUT
    log: list = field(default_factory=list)

    def call(self, method, path, *, restli=True, timeout=None, **kwargs):
        """One request. `path` is an API path ("/rest/posts") or an absolute URL (an upload
        URL LinkedIn gave). `/rest/*` paths carry the version headers."""
        url = path if "://" in path else self.base_url + path
        headers = {}
        if restli:
            headers["X-Restli-Protocol-Version"] = RESTLI_PROTOCOL
            if path.startswith("/rest/"):
                headers["LinkedIn-Version"] = self.version
        return http.call(
            method,
            url,
            service=SERVICE,
            token=self.token,
            headers=headers,
            timeout=timeout or self.timeout,
            log=self.log,
            **kwargs,
        )


def app_session(app, base_url, token, *, timeout=None):
    return Session(
        base_url=(base_url or app.api_url or "").rstrip("/"),
        token=token,
        version=app.version or DEFAULT_VERSION,
        timeout=timeout or TIMEOUT,
    )


def member_info(session, *, consent_retry_delay):
    """(member URN, name, picture) from /v2/userinfo, asking once more after a REVOKED
    answer that may only be LinkedIn's propagation delay after consent."""
    label = "GET /v2/userinfo"
    result = session.call("GET", "/v2/userinfo")
    if result.status == 401 and error_fields(result)[0] == REVOKED_TOKEN:
        time.sleep(consent_retry_delay)
        result = session.call("GET", "/v2/userinfo")
    data = json_answer(result, label)
    sub = str(data.get("sub") or "").strip()
    if not sub:
        raise bad_answer(result, label)
    name = str(data.get("name") or "").strip()
    if not name:
        name = " ".join(
            str(data.get(key) or "").strip() for key in ("given_name", "family_name")
        ).strip()
    return PERSON + sub, name or sub, str(data.get("picture") or "")


def administered(session):
    """{organization id: role} of the pages where the member's approved role may post."""
    label = "GET /v2/organizationalEntityAcls"
    found = {}
    start = 0
    for _page in range(ACL_MAX_PAGES):
        query = urlencode(
            {"q": "roleAssignee", "state": "APPROVED", "start": start, "count": ACL_PAGE_SIZE}
        )
        result = session.call("GET", f"/v2/organizationalEntityAcls?{query}")
        data = json_answer(result, label)
        elements = data.get("elements")
        if not isinstance(elements, list):
            raise bad_answer(result, label)
        for element in elements:
            if not isinstance(element, dict):
                continue
            if str(element.get("state") or "APPROVED") != "APPROVED":
                continue
            role = str(element.get("role") or "")
            target = element.get("organizationalTarget") or element.get("organization")
            org_id = organization_id(target)
            if org_id and role in POSTING_ROLES:
                found.setdefault(org_id, role)
        if len(elements) < ACL_PAGE_SIZE:
            break
        start += ACL_PAGE_SIZE
    return found


def organization_names(session, org_id):
    """(name, vanity name) of a page; its id when LinkedIn will not say (a role that may
    post but not read the page)."""
    label = "GET /rest/organizations"
    result = session.call("GET", f"/rest/organizations/{org_id}")
    if result.status in (403, 404):
        return _("LinkedIn page %(id)s") % {"id": org_id}, ""
    data = json_answer(result, label, version=session.version)
    name = str(data.get("localizedName") or "").strip()
    return name or _("LinkedIn page %(id)s") % {"id": org_id}, str(data.get("vanityName") or "")


def grant_secrets(grant, author):
    secrets = {"access_token": str(grant["access_token"]), "author": author}
    if grant.get("refresh_token"):
        secrets["refresh_token"] = str(grant["refresh_token"])
    return secrets


def account_for(grant, urn, name, *, handle="", avatar_url=""):
    expires, consent, refresh_at = token_times(grant)
    return Account(
        account_id=urn,
        handle=handle or name,
        name=name,
        avatar_url=avatar_url,
        account_kind="organization" if is_organization(urn) else "profile",
        secrets=grant_secrets(grant, urn),
        token_expires_at=expires,
        consent_expires_at=consent,
        refresh_at=refresh_at,
    )


def token_error(result, label):
    """What the token endpoint's refusal means (exchange and refresh)."""
    data = result.json()
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    detail = str(data.get("error_description") or "") if isinstance(data, dict) else ""
    detail = detail or http.body_excerpt(result)
    if result.status >= 500 or result.status == 429:
        return answer_error(result, label)
    if error == "invalid_client" or result.status == 401:
        return PublishError(
            ErrorKind.FATAL,
            "invalid_client",
            _(
                "LinkedIn does not recognise Tribu's app (its client ID or secret is wrong). "
                "Your Tribu administrator must check TRIBU_LINKEDIN_CLIENT_ID and "
                "TRIBU_LINKEDIN_CLIENT_SECRET against the app in LinkedIn's developer portal."
            ),
            status=result.status,
            detail=f"{error}: {detail}" if error else detail,
            request=label,
            sent=False,
        )
    return PublishError(
        ErrorKind.FATAL,
        "invalid_grant",
        _(
            "LinkedIn refused the authorization: it expired, was already used, or does not "
            "match this attempt. Start connecting the account again."
        ),
        status=result.status,
        detail=f"{error}: {detail}" if error else detail,
        request=label,
        sent=False,
    )


def app_missing_error():
    return PublishError(
        ErrorKind.FATAL,
        "app_not_configured",
        _(
            "Tribu has no LinkedIn app configured. Your Tribu administrator must register an "
            "app in LinkedIn's developer portal and set TRIBU_LINKEDIN_CLIENT_ID and "
            "TRIBU_LINKEDIN_CLIENT_SECRET."
        ),
        sent=False,
    )


# --- the client ----------------------------------------------------------------------------


class LinkedInClient(Client):
    network = NETWORK
    service_name = SERVICE
    app_key = APP_KEY
    idempotent = False  # LinkedIn has no idempotency: a lost answer is looked for first
    scopes = SCOPES
    # Waits, as class attributes so tests make them tiny.
    media_poll_delays = MEDIA_POLL_DELAYS
    member_media_grace = MEMBER_MEDIA_GRACE
    comment_retry_delays = COMMENT_RETRY_DELAYS
    consent_retry_delay = CONSENT_RETRY_DELAY

    def __init__(self, channel_like, *, on_secrets=None, timeout=None, refresh_lock=None):
        super().__init__(
            channel_like, on_secrets=on_secrets, timeout=timeout, refresh_lock=refresh_lock
        )
        self.secrets = dict(channel_like.secret_values or {})
        self.author = str(channel_like.account_id or self.secrets.get("author") or "")
        self.log = []
        self._refreshed = False

    # --- OAuth -------------------------------------------------------------------------
    @classmethod
    def authorization_url(cls, app, redirect_uri, state, code_challenge):
        # PKCE is for LinkedIn's native apps only: a web app's challenge is not sent.
        query = urlencode(
            {
                "response_type": "code",
                "client_id": app.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": cls.scopes,
            },
            quote_via=quote,
        )
        return f"{app.auth_url}/oauth/v2/authorization?{query}"

    @classmethod
    def exchange_code(cls, app, redirect_uri, code, code_verifier, *, timeout=None):
        # No PKCE at LinkedIn for web apps: the verifier is not sent.
        if not app.configured:
            raise app_missing_error()
        label = "POST /oauth/v2/accessToken"
        result = http.call(
            "POST",
            f"{app.auth_url}/oauth/v2/accessToken",
            service=SERVICE,
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
            timeout=timeout or TIMEOUT,
        )
        if result.status != 200:
            raise token_error(result, label)
        return cls._grant(result, label)

    @classmethod
    def _grant(cls, result, label, *, previous_refresh_token=""):
        data = result.json()
        if not isinstance(data, dict) or not data.get("access_token"):
            raise bad_answer(result, label)
        now = now_utc()
        grant = {"access_token": str(data["access_token"]), "scope": str(data.get("scope") or "")}
        expires_in = seconds_value(data.get("expires_in"))
        if expires_in:
            grant["expires_in"] = expires_in
            grant["expires_at"] = (now + timedelta(seconds=expires_in)).isoformat()
        refresh_token = str(data.get("refresh_token") or previous_refresh_token or "")
        if refresh_token:
            grant["refresh_token"] = refresh_token
            refresh_in = seconds_value(data.get("refresh_token_expires_in"))
            if refresh_in:
                grant["refresh_token_expires_in"] = refresh_in
                grant["refresh_token_expires_at"] = (
                    now + timedelta(seconds=refresh_in)
                ).isoformat()
        granted = set(re.split(r"[\s,]+", grant["scope"].strip())) - {""}
        if granted and not granted & {"w_member_social", "w_organization_social"}:
            raise PublishError(
                ErrorKind.FATAL,
                "scope_missing",
                _(
                    "LinkedIn granted Tribu only “%(scope)s”, which does not allow publishing. "
                    "Your Tribu administrator must add the “Share on LinkedIn” and “Community "
                    "Management API” products to Tribu's LinkedIn app, then connect again."
                )
                % {"scope": grant["scope"]},
                request=label,
                sent=False,
            )
        return grant

    @classmethod
    def accounts(cls, app, grant, *, timeout=None):
        """The member, then each page they may post as (by name). A token that cannot list
        pages (403) still connects the member's profile."""
        session = app_session(app, app.api_url, grant.get("access_token") or "", timeout=timeout)
        try:
            urn, name, picture = member_info(session, consent_retry_delay=cls.consent_retry_delay)
        except PublishError as error:
            raise connect_error(error) from None
        found = [account_for(grant, urn, name, avatar_url=picture)]
        try:
            pages = administered(session)
        except PublishError as error:
            if error.status != 403:
                raise
            pages = {}
        organizations = []
        for org_id in pages:
            page_name, vanity = organization_names(session, org_id)
            organizations.append(
                account_for(grant, ORGANIZATION + org_id, page_name, handle=vanity or page_name)
            )
        organizations.sort(key=lambda account: account.name.casefold())
        return found + organizations

    # --- pasted token ------------------------------------------------------------------
    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        credentials = credentials or {}
        token = str(credentials.get("access_token") or "").strip()
        if not token:
            raise PublishError(
                ErrorKind.REAUTH,
                "missing_token",
                _("Paste a LinkedIn access token, or sign in with LinkedIn instead."),
                sent=False,
            )
        session = app_session(http.app_for(APP_KEY), base_url, token, timeout=timeout)
        try:
            urn, name, picture = member_info(session, consent_retry_delay=cls.consent_retry_delay)
        except PublishError as error:
            raise connect_error(error) from None
        grant = {
            "access_token": token,
            "refresh_token": str(credentials.get("refresh_token") or "").strip(),
            "expires_at": credentials.get("expires_at"),
            "refresh_token_expires_at": credentials.get("refresh_token_expires_at"),
        }
        wanted = str(credentials.get("account_id") or "").strip()
        if not wanted or wanted == urn:
            return account_for(grant, urn, name, avatar_url=picture)
        if wanted.startswith(PERSON):
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "wrong_member",
                _(
                    "This token belongs to %(name)s (%(urn)s), not to %(wanted)s. Paste that "
                    "member's token, or leave the account empty to connect %(name)s."
                )
                % {"name": name, "urn": urn, "wanted": wanted},
                sent=False,
            )
        org_id = organization_id(wanted)
        if org_id is None:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "bad_account_id",
                _(
                    "“%(wanted)s” is not a LinkedIn organization. Give it as "
                    "urn:li:organization: followed by the page's number (shown in the address "
                    "of the page's admin view), or leave it empty for the member's profile."
                )
                % {"wanted": wanted},
                sent=False,
            )
        try:
            pages = administered(session)
        except PublishError as error:
            if error.kind == ErrorKind.REAUTH:
                raise connect_error(error) from None
            if error.status != 403:
                raise
            raise PublishError(
                ErrorKind.FATAL,
                "cannot_check_role",
                _(
                    "This token cannot list the pages %(name)s administers, so Tribu cannot "
                    "check that they may post as this page. Make a token with the "
                    "rw_organization_admin and w_organization_social permissions, or sign in "
                    "with LinkedIn instead."
                )
                % {"name": name},
                status=error.status,
                detail=error.detail,
                request=error.request,
                sent=False,
            ) from None
        if org_id not in pages:
            choices = [
                f"{ORGANIZATION}{page} ({organization_names(session, page)[0]})" for page in pages
            ]
            raise PublishError(
                ErrorKind.FATAL,
                "not_admin",
                _(
                    "%(name)s may not post as the page %(wanted)s: LinkedIn lists no approved "
                    "administrator or content admin role for them there. Pages they can post "
                    "as: %(choices)s. Ask an administrator of the page for the role, or "
                    "choose one of these."
                )
                % {
                    "name": name,
                    "wanted": ORGANIZATION + org_id,
                    "choices": ", ".join(choices) or _("none"),
                },
                sent=False,
            )
        page_name, vanity = organization_names(session, org_id)
        return account_for(grant, ORGANIZATION + org_id, page_name, handle=vanity or page_name)

    # --- helpers -----------------------------------------------------------------------
    @property
    def is_organization(self):
        return is_organization(self.author)

    @property
    def who(self):
        return (
            getattr(self.channel, "name", "")
            or getattr(self.channel, "handle", "")
            or self.author
            or _("this account")
        )

    def session(self):
        app = http.app_for(APP_KEY)
        return Session(
            base_url=(getattr(self.channel, "base_url", "") or app.api_url or "").rstrip("/"),
            token=self.secrets.get("access_token") or "",
            version=app.version or DEFAULT_VERSION,
            timeout=self.timeout or TIMEOUT,
            log=self.log,
        )

    def call(self, method, path, **kwargs):
        """One authenticated request. An expired access token is refreshed once (when the
        channel has a refresh token) and the request sent again: a 401 created nothing."""
        result = self.session().call(method, path, **kwargs)
        if (
            result.status == 401
            and not self._refreshed
            and self.secrets.get("refresh_token")
            and error_fields(result)[0] == EXPIRED_TOKEN
        ):
            self._refreshed = True
            self.refresh()
            result = self.session().call(method, path, **kwargs)
        return result

    def error(self, result, label, **extra):
        return answer_error(
            result,
            label,
            who=self.who,
            organization=self.is_organization,
            version=self.session().version,
            **extra,
        )

    def json(self, result, label, *, ok=(200,)):
        if result.status not in ok:
            raise self.error(result, label)
        data = result.json()
        if not isinstance(data, dict):
            raise bad_answer(result, label)
        return data

    # --- tokens ------------------------------------------------------------------------
    def refresh(self):
        """A new access token from the refresh token (approved partners only); None when
        the channel has none. A refused refresh token (past its 365 days, or revoked)
        needs the member to sign in again.

        LinkedIn's refresh tokens are not single use, so a refresh spends nothing; it still
        runs under `refresh_lock` (one refresh of a channel at a time), and a refresh token
        stored meanwhile (the member signed in again) is the one used."""
        if not self.secrets.get("refresh_token"):
            return None
        with self.refresh_lock() as stored:
            stored_token = (stored or {}).get("refresh_token")
            if stored_token and stored_token != self.secrets.get("refresh_token"):
                self.secrets = {**self.secrets, **stored}
            return self._refresh()

    def _refresh(self):
        refresh_token = self.secrets.get("refresh_token")
        if not refresh_token:
            return None
        app = http.app_for(APP_KEY)
        if not app.configured:
            raise app_missing_error()
        label = "POST /oauth/v2/accessToken"
        result = http.call(
            "POST",
            f"{app.auth_url}/oauth/v2/accessToken",
            service=SERVICE,
            form={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
            timeout=self.timeout or TIMEOUT,
            log=self.log,
        )
        if result.status in (400, 401) and not (
            isinstance(result.json(), dict) and result.json().get("error") == "invalid_client"
        ):
            raise PublishError(
                ErrorKind.REAUTH,
                "consent_ended",
                _(
                    "LinkedIn no longer renews Tribu's access for %(who)s: its yearly "
                    "authorization ended or was withdrawn. Reconnect the channel (sign in with "
                    "LinkedIn again); its posts are held until then."
                )
                % {"who": self.who},
                status=result.status,
                detail=token_error(result, label).detail,
                request=label,
                sent=False,
            )
        if result.status != 200:
            raise token_error(result, label)
        grant = self._grant(result, label, previous_refresh_token=refresh_token)
        self.secrets = {**self.secrets, **grant_secrets(grant, self.author)}
        self.on_secrets(dict(self.secrets))
        expires, consent, refresh_at = token_times(grant)
        return Account(
            account_id=self.author,
            handle=getattr(self.channel, "handle", "") or "",
            name=getattr(self.channel, "name", "") or "",
            account_kind="organization" if self.is_organization else "profile",
            secrets=dict(self.secrets),
            token_expires_at=expires,
            consent_expires_at=consent,
            refresh_at=refresh_at,
        )

    # --- publishing --------------------------------------------------------------------
    def publish(self, content, *, idempotency_key, stage, save_stage):
        # LinkedIn has no idempotency key: the post URN in the stage guards resumed attempts.
        self.log = []
        self._refreshed = False
        stage = copy.deepcopy(stage or {})

        def save():
            save_stage(copy.deepcopy(stage))

        comment = (content.first_comment or "").strip()
        try:
            if not stage.get("post"):
                body = self._post_body(content, stage, save)
                stage["post"] = self._create_post(body, media="content" in body)
                stage["url"] = post_url(stage["post"])
                if comment:
                    save()  # the post exists: a resumed attempt only adds the comment
            warnings = []
            if comment and not stage.get("comment"):
                try:
                    stage["comment"] = self._first_comment(stage["post"], comment)
                except PublishError as error:
                    if error.kind not in (ErrorKind.FIX_CONTENT, ErrorKind.FATAL):
                        raise
                    # Refused for good, with the post online: publishing again would only
                    # duplicate the post, so it counts as published and the team is told.
                    warnings.append(error.message)
        except PublishError as error:
            error.requests = list(self.log)
            raise
        return Published(
            remote_id=stage["post"],
            url=post_url(stage["post"]),
            requests=list(self.log),
            warnings=warnings,
        )

    def _post_body(self, content, stage, save):
        media = list(content.media or [])
        if len(media) > MAX_IMAGES:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "too_many_images",
                _(
                    "A LinkedIn post holds at most %(max)s images; this one has %(count)s. "
                    "Remove some, then publish again."
                )
                % {"max": MAX_IMAGES, "count": len(media)},
                sent=False,
            )
        body = {
            "author": self.author,
            "commentary": linkedin_escape(content.text or ""),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if media:
            urns = self._upload_images(media, stage, save)
            images = []
            for urn, item in zip(urns, media, strict=True):
                image = {"id": urn}
                if str(item.get("alt") or "").strip():
                    image["altText"] = str(item["alt"]).strip()
                images.append(image)
            if len(images) == 1:
                body["content"] = {"media": images[0]}
            else:
                body["content"] = {"multiImage": {"images": images}}
            return body
        card = content.link_card or {}
        if card.get("url"):
            article = {
                "source": str(card["url"]),
                "title": str(card.get("title") or "").strip() or str(card["url"]),
            }
            if str(card.get("description") or "").strip():
                article["description"] = str(card["description"]).strip()
            thumbnail = self._upload_thumbnail(card.get("image"), stage, save)
            if thumbnail:
                article["thumbnail"] = thumbnail
            body["content"] = {"article": article}
        return body

    def _create_post(self, body, *, media):
        label = "POST /rest/posts"
        result = self.call("POST", "/rest/posts", json_body=body, creates_post=True)
        if 200 <= result.status < 300:
            urn = restli_id(result)
            if urn:
                return urn
            # Postiz #989: "succeeded but nothing appeared". Without the URN nothing proves
            # the post exists, and nothing proves it does not.
            raise PublishError(
                ErrorKind.UNKNOWN,
                "no_post_id",
                _(
                    "LinkedIn answered that the post was created but gave no post identifier; "
                    "such posts sometimes never appear. Tribu looks for it on LinkedIn before "
                    "publishing anything again."
                ),
                status=result.status,
                detail=http.body_excerpt(result),
                request=label,
            )
        raise self.error(result, label, media=media)

    def _first_comment(self, post_urn, text):
        """Comment on our own post as its author. The comment's `message.text` is plain
        attributed text, not the "little" format of a post: it is sent as written."""
        path = f"/rest/socialActions/{quote(post_urn, safe='')}/comments"
        label = "POST /rest/socialActions/{urn}/comments"
        body = {"actor": self.author, "object": post_urn, "message": {"text": text}}
        delays = list(self.comment_retry_delays)
        while True:
            try:
                result = self.call("POST", path, json_body=body, creates_post=True)
            except PublishError as error:
                raise self._comment_failed(post_urn, error) from None
            if 200 <= result.status < 300:
                data = result.json() if result.body else None
                urn = restli_id(result)
                if not urn and isinstance(data, dict):
                    urn = str(data.get("$URN") or data.get("commentUrn") or data.get("id") or "")
                return urn or "created"
            error = self.error(result, label)
            if delays and "unable to obtain activity" in (error.detail or "").lower():
                time.sleep(delays.pop(0))
                continue
            raise self._comment_failed(post_urn, error)

    def _comment_failed(self, post_urn, error):
        """The post is published; only its first comment failed. A resumed attempt (after a
        retry or a reschedule) adds only the comment."""
        values = {"url": post_url(post_urn), "reason": error.message}
        if error.kind == ErrorKind.UNKNOWN:
            message = _(
                "The post is published on LinkedIn (%(url)s). Its first comment was sent but no "
                "answer came back, so it may be there already: Tribu looks for it before "
                "doing anything else."
            )
        else:
            message = _(
                "The post is published on LinkedIn (%(url)s), but its first comment could not "
                "be added: %(reason)s"
            )
        return PublishError(
            error.kind,
            error.code,
            message % values,
            status=error.status,
            retry_after=error.retry_after,
            detail=error.detail,
            sent=error.sent,
            request=error.request,
        )

    # --- images ------------------------------------------------------------------------
    def _upload_images(self, media, stage, save, *, key="images"):
        """The image URNs, in order. Each URN is saved in `stage[key]` before its bytes are
        sent, and marked uploaded before the next call."""
        entries = stage.setdefault(key, [])
        fresh = False
        for index, item in enumerate(media):
            entry = entries[index] if index < len(entries) else None
            if entry and entry.get("uploaded"):
                continue
            if (
                entry
                and entry.get("urn")
                and self.is_organization
                and self._arrived(entry["urn"], item)
            ):
                entry["uploaded"] = True
                save()
                continue
            self._upload(item, save, entries, index)
            fresh = True
        urns = [entry["urn"] for entry in entries[: len(media)]]
        self._wait_until_available(urns, media, fresh=fresh)
        return urns

    def _upload(self, item, save, entries, index):
        label = "PUT upload"
        data = http.read_media(item, label)
        urn, upload_url = self._initialize_upload()
        entry = {"urn": urn, "uploaded": False}
        if index < len(entries):
            entries[index] = entry
        else:
            entries.append(entry)
        save()  # the URN is known before the bytes leave
        result = self.call(
            "PUT",
            upload_url,
            body=data,
            content_type=item.get("content_type") or "application/octet-stream",
            restli=False,
            timeout=self.timeout or UPLOAD_TIMEOUT,
        )
        if result.status not in (200, 201):
            raise self.error(result, label)
        entry["uploaded"] = True
        save()

    def _initialize_upload(self):
        label = "POST /rest/images?action=initializeUpload"
        result = self.call(
            "POST",
            "/rest/images?action=initializeUpload",
            json_body={"initializeUploadRequest": {"owner": self.author}},
        )
        data = self.json(result, label)
        value = data.get("value")
        if not isinstance(value, dict):
            raise bad_answer(result, label)
        urn, upload_url = str(value.get("image") or ""), str(value.get("uploadUrl") or "")
        if not urn.startswith("urn:li:image:") or "://" not in upload_url:
            raise bad_answer(result, label)
        return urn, upload_url

    def _image_status(self, urn):
        """A page's image status (PROCESSING, AVAILABLE, WAITING_UPLOAD, PROCESSING_FAILED),
        or None when LinkedIn no longer has it."""
        label = "GET /rest/images/{urn}"
        result = self.call("GET", f"/rest/images/{quote(urn, safe='')}")
        if result.status == 404:
            return None
        data = self.json(result, label)
        return str(data.get("status") or "")

    def _arrived(self, urn, item):
        """Whether the bytes of an image whose upload was not confirmed reached LinkedIn
        (the answer to the PUT was lost)."""
        status = self._image_status(urn)
        if status == "PROCESSING_FAILED":
            raise self._processing_failed(item)
        return status in ("PROCESSING", "AVAILABLE")

    def _processing_failed(self, item):
        name = str(item.get("path") or "").rsplit("/", 1)[-1]
        message = (
            _(
                "LinkedIn could not process the image %(name)s. Replace it with another file "
                "(JPEG, PNG or GIF), then publish again."
            )
            if name
            else _(
                "LinkedIn could not process one of the images. Replace it with another file "
                "(JPEG, PNG or GIF), then publish again."
            )
        )
        return PublishError(
            ErrorKind.FIX_CONTENT,
            "media_failed",
            message % {"name": name},
            request="GET /rest/images/{urn}",
        )

    def _wait_until_available(self, urns, media, *, fresh):
        """A page polls its images until AVAILABLE. A member cannot read them: after a
        fresh upload the client waits `member_media_grace`, and a post refused because an
        image is not ready is retried later."""
        if not urns:
            return
        if not self.is_organization:
            if fresh and self.member_media_grace:
                time.sleep(self.member_media_grace)
            return
        waiting = list(zip(urns, media, strict=True))
        delays = list(self.media_poll_delays)
        while True:
            still = []
            for urn, item in waiting:
                status = self._image_status(urn)
                if status == "PROCESSING_FAILED":
                    raise self._processing_failed(item)
                if status != "AVAILABLE":
                    still.append((urn, item))
            if not still:
                return
            if not delays:
                raise PublishError(
                    ErrorKind.RETRY_LATER,
                    "media_processing",
                    _(
                        "LinkedIn is still processing the images of this post. Tribu will try "
                        "again in a moment, without uploading them again."
                    ),
                    retry_after=NOT_READY_WAIT,
                    request="GET /rest/images/{urn}",
                )
            time.sleep(delays.pop(0))
            waiting = still

    def _upload_thumbnail(self, path, stage, save):
        """A link card's picture, when it is a file in Tribu's storage, uploaded like an
        image (stage "thumbnail"). A card without its picture is still a card: a file that
        cannot be read is left out."""
        if not path or not isinstance(path, str) or "://" in path:
            return None
        item = {"path": path}
        if not any(entry.get("uploaded") for entry in stage.get("thumbnail") or []):
            try:
                http.read_media(item)
            except PublishError:
                return None
        return self._upload_images([item], stage, save, key="thumbnail")[0]

    # --- find --------------------------------------------------------------------------
    def find(self, content, *, stage, since):
        """After a lost answer. A saved post URN proves the post (the first comment is then
        checked where LinkedIn lets Tribu read it). Otherwise a page's latest posts are
        compared with ours; a member's posts cannot be read."""
        self.log = []
        self._refreshed = False
        stage = stage or {}
        comment = (content.first_comment or "").strip()
        urn = stage.get("post")
        if urn:
            if not comment or stage.get("comment"):
                return Published(remote_id=urn, url=post_url(urn), requests=list(self.log))
            return self._find_comment(urn, comment)
        if not self.is_organization:
            return CannotTell(
                reason=_(
                    "LinkedIn does not let apps read a member's posts, so Tribu cannot check "
                    "whether this post reached the profile of %(who)s. Look at the profile on "
                    "LinkedIn: if the post is there, click “It was published”; if not, click "
                    "“Publish again”."
                )
                % {"who": self.who},
                requests=list(self.log),
            )
        posts = self._recent_posts()
        if posts is None:
            return CannotTell(
                reason=_(
                    "LinkedIn does not let Tribu read the posts of the page %(who)s, so Tribu "
                    "cannot check whether this post went out. Look at the page on LinkedIn: if "
                    "the post is there, click “It was published”; if not, click “Publish "
                    "again”."
                )
                % {"who": self.who},
                requests=list(self.log),
            )
        cutoff = since - FIND_SLACK
        matches = []
        for post in posts:
            created = from_millis(post.get("createdAt"))
            if created is None or created < cutoff:
                continue
            if post.get("author") not in (None, self.author):
                continue
            if not same_text(unescape(str(post.get("commentary") or "")), content.text):
                continue
            if str(post.get("id") or "").startswith("urn:li:"):
                matches.append((created, str(post["id"])))
        if not matches:
            return NotFound(requests=list(self.log))
        found = min(matches)[1]
        if comment:
            return self._comment_missing(found)
        return Published(remote_id=found, url=post_url(found), requests=list(self.log))

    def _recent_posts(self):
        """The page's latest posts, or None when LinkedIn refuses to show them (403)."""
        label = "GET /rest/posts"
        query = urlencode(
            {"q": "author", "author": self.author, "count": FIND_COUNT, "sortBy": "LAST_MODIFIED"}
        )
        result = self.call("GET", f"/rest/posts?{query}")
        if result.status == 403:
            return None
        data = self.json(result, label)
        elements = data.get("elements")
        if not isinstance(elements, list):
            raise bad_answer(result, label)
        return [post for post in elements if isinstance(post, dict)]

    def _find_comment(self, urn, comment):
        if self.is_organization:
            label = "GET /rest/socialActions/{urn}/comments"
            result = self.call("GET", f"/rest/socialActions/{quote(urn, safe='')}/comments")
            if result.status != 403:
                data = self.json(result, label)
                for item in data.get("elements") or []:
                    if not isinstance(item, dict) or item.get("actor") != self.author:
                        continue
                    message = item.get("message")
                    text = message.get("text") if isinstance(message, dict) else None
                    if same_text(str(text or ""), comment):
                        return Published(remote_id=urn, url=post_url(urn), requests=list(self.log))
                return self._comment_missing(urn)
        return CannotTell(
            reason=_(
                "The post is on LinkedIn (%(url)s), but Tribu cannot tell whether its first "
                "comment was added. Open the post: add the comment by hand if it is missing, "
                "then click “It was published” (not “Publish again”, which would post it a "
                "second time)."
            )
            % {"url": post_url(urn)},
            requests=list(self.log),
        )

    def _comment_missing(self, urn):
        """The post is online without its comment: it counts as published (publishing
        again would duplicate the post) and the team is asked to add the comment."""
        return Published(
            remote_id=urn,
            url=post_url(urn),
            requests=list(self.log),
            warnings=[
                _(
                    "The post is on LinkedIn (%(url)s) but its first comment is not. Add the "
                    "comment under the post by hand."
                )
                % {"url": post_url(urn)}
            ],
        )
