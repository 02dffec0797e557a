"""Bluesky (AT Protocol): publish posts on the account's PDS with an app password.

Session. `connect()` calls `com.atproto.server.createSession` once and keeps both JWTs in
the channel's secrets with the app password. createSession is rate-limited (30 per five
minutes per account), so a publish never signs in: it reuses the stored session, refreshes
it when the access JWT has expired (refresh JWTs rotate: both new tokens are handed to
`on_secrets` at once) and signs in again with the app password only when the refresh JWT is
dead too.

Exactly once. Each post's record key is a TID we generate and save in the stage *before*
`createRecord`. A record key is unique in a repository, so sending the same key again cannot
create a second post; the reference PDS answers such a repeat with HTTP 500 rather than a
clean conflict, so after a 5xx, a timeout or a reset we ask `getRecord` for the key: there,
the post is published; absent, sending it again with the same key is safe. A resumed
attempt asks `getRecord` first for every part that already has a key.

Stage (Delivery.stage): {"blobs": [blob, …] (one per image, in order), "thumb": blob,
"parts": [{"rkey", "sent_at", "uri", "cid"}, …] (the post, then each thread part)}.

Rich text. The network does not detect links, mentions or hashtags: `build_facets()` does,
with UTF-8 byte offsets (end exclusive), following the rules of Bluesky's own app.

`find()` asks getRecord for the saved keys; without any, it reads the account's latest posts
(`listRecords`) and compares their text and creation time. A delivery's first comment has
no Bluesky equivalent here: a thread is how posts chain.
"""

import copy
import json
import mimetypes
import secrets
import threading
import time
from base64 import urlsafe_b64decode
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import regex
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from tribu.channels.networks.base import (
    Account,
    Client,
    ErrorKind,
    NotFound,
    Published,
    PublishError,
)
from tribu.listening.fetch.http import FetchError, Limits, parse_retry_after, send

DEFAULT_BASE_URL = "https://bsky.social"
WEB = "https://bsky.app"
POST = "app.bsky.feed.post"
TIMEOUT = 30.0  # seconds per request when the caller gives none
SESSION_LIFETIME = timedelta(hours=2)  # when the access JWT carries no readable `exp`
REFRESH_MARGIN = 60  # seconds: an access JWT this close to expiry is refreshed first
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 2_000_000  # app.bsky.embed.images#image maxSize
MAX_THUMB_BYTES = 1_000_000  # app.bsky.embed.external#external thumb maxSize
# A record key last sent this long ago, and confirmed absent by getRecord, can no longer be
# in flight: it is replaced by a fresh one, because the AppView may not index posts whose
# key is far from their creation time.
KEY_REUSE_SECONDS = 600
FIND_SLACK = timedelta(minutes=5)
FIND_PAGES = 4
FIND_PAGE_SIZE = 50

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TID_RE = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
HANDLE_RE = regex.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
# The detection rules of Bluesky's app (packages/api/src/rich-text/detection.ts): a link,
# mention or hashtag starts the text or follows a space (links and mentions: or "(").
URL_RE = regex.compile(r"(?:^|(?<=[\s(]))(https?://\S+)", regex.IGNORECASE)
MENTION_RE = regex.compile(r"(?:^|(?<=[\s(]))@([\w.\-]+)")
INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
TAG_RE = regex.compile(
    rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s{INVISIBLE}]*[^\d\s\p{{P}}{INVISIBLE}]+[^\s{INVISIBLE}]*)"
)
MAX_TAG_GRAPHEMES = 64

FACET = "app.bsky.richtext.facet"
AUTH_ERRORS = ("ExpiredToken", "InvalidToken", "AuthMissing", "AuthRequired")


# --- record keys -----------------------------------------------------------------------

_tid_lock = threading.Lock()
_last_tid_micros = 0


def new_tid(now_micros=None):
    """A fresh TID: 53 bits of microseconds since the epoch and a random 10-bit clock id,
    in 13 base32-sortable characters. Strictly increasing within this process."""
    global _last_tid_micros
    micros = now_micros
    if micros is None:
        with _tid_lock:
            micros = max(time.time_ns() // 1000, _last_tid_micros + 1)
            _last_tid_micros = micros
    value = (micros << 10) | secrets.randbelow(1024)
    out = []
    for _index in range(13):
        out.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def tid_time(tid):
    """When a TID was generated (aware datetime), or None when it is not a TID."""
    if not isinstance(tid, str) or not TID_RE.match(tid):
        return None
    value = 0
    for char in tid:
        value = value << 5 | TID_ALPHABET.index(char)
    return EPOCH + timedelta(microseconds=value >> 10)


# --- rich text -------------------------------------------------------------------------


def byte_offset(text, index):
    return len(text[:index].encode("utf-8"))


def facet(text, start, end, feature):
    return {
        "index": {"byteStart": byte_offset(text, start), "byteEnd": byte_offset(text, end)},
        "features": [feature],
    }


def find_links(text):
    """(start, end, uri) of each http(s) link, in characters."""
    found = []
    for match in URL_RE.finditer(text):
        uri = match.group(1)
        # Punctuation that ends a sentence is not part of the link; nor is a closing
        # parenthesis without an opening one ("(see https://x.fr)").
        if uri[-1] in ".,;:!?" and len(uri) > 1:
            uri = uri[:-1]
        if uri.endswith(")") and "(" not in uri:
            uri = uri[:-1]
        try:
            host = urlsplit(uri).hostname or ""
        except ValueError:
            continue
        if "." not in host.strip("."):
            continue
        start = match.start(1)
        found.append((start, start + len(uri), uri))
    return found


def find_mentions(text):
    """(start, end, handle) of each @handle, in characters; `start` is on the "@"."""
    found = []
    for match in MENTION_RE.finditer(text):
        handle = match.group(1).rstrip(".-")
        if len(handle) > 253 or not HANDLE_RE.match(handle):
            continue
        start = match.start(1) - 1
        found.append((start, match.start(1) + len(handle), handle.lower()))
    return found


def find_tags(text):
    """(start, end, tag) of each #hashtag, in characters; `start` is on the "#"."""
    found = []
    for match in TAG_RE.finditer(text):
        tag = regex.sub(r"\p{P}+$", "", match.group(1))
        if not tag or len(regex.findall(r"\X", tag)) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start(1) - 1
        found.append((start, match.start(1) + len(tag), tag))
    return found


def build_facets(text, resolve_handle=None):
    """The facets of `text`: links, mentions and hashtags with UTF-8 byte offsets (start
    inclusive, end exclusive), in text order. `resolve_handle(handle)` returns the DID of a
    mentioned account or None; mentions that do not resolve (or all of them, without a
    resolver) stay plain text. A mention or hashtag inside a link is part of the link."""
    facets = []
    links = find_links(text)
    taken = [(start, end) for start, end, _uri in links]
    for start, end, uri in links:
        facets.append((start, facet(text, start, end, {"$type": f"{FACET}#link", "uri": uri})))

    def free(start, end):
        return all(end <= low or start >= high for low, high in taken)

    if resolve_handle is not None:
        for start, end, handle in find_mentions(text):
            if not free(start, end):
                continue
            did = resolve_handle(handle)
            if did:
                feature = {"$type": f"{FACET}#mention", "did": did}
                facets.append((start, facet(text, start, end, feature)))
                taken.append((start, end))
    for start, end, tag in find_tags(text):
        if free(start, end):
            feature = {"$type": f"{FACET}#tag", "tag": tag}
            facets.append((start, facet(text, start, end, feature)))
            taken.append((start, end))
    facets.sort(key=lambda item: item[0])
    return [item for _start, item in facets]


# --- small helpers ---------------------------------------------------------------------


def normalize_base_url(base_url):
    base_url = (base_url or "").strip() or DEFAULT_BASE_URL
    if "://" not in base_url:
        base_url = "https://" + base_url
    return base_url.rstrip("/")


def clean_handle(handle):
    handle = (handle or "").strip()
    return handle[1:] if handle.startswith("@") else handle


def jwt_expiry(token):
    """The `exp` of a JWT as an aware datetime, read without checking the signature (only
    the PDS can check it; we only want to know when to refresh). None if unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, OverflowError):
        return None


def iso_now():
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(value):
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rkey_of(uri):
    return uri.rstrip("/").rsplit("/", 1)[-1]


def part_text(part):
    return part if isinstance(part, str) else str((part or {}).get("text", ""))


class Answer:
    """An XRPC answer: status, JSON body (a dict, empty when not JSON) and headers."""

    def __init__(self, result):
        self.status = result.status
        data = result.json()
        self.data = data if isinstance(data, dict) else {}
        self.headers = result.headers

    @property
    def error(self):
        return str(self.data.get("error") or "")

    @property
    def message(self):
        return str(self.data.get("message") or self.error or f"HTTP {self.status}")

    @property
    def retry_after(self):
        seconds = parse_retry_after(self.headers.get("retry-after"))
        if seconds is not None:
            return seconds
        reset = str(self.headers.get("ratelimit-reset", "")).strip()
        if reset.isdigit():  # epoch seconds on Bluesky
            return max(1, int(reset) - int(time.time()))
        return None

    @property
    def auth_failed(self):
        """The session is refused: expired (400 ExpiredToken) or invalid (401)."""
        return self.status == 401 or (self.status == 400 and self.error in AUTH_ERRORS)


def xrpc(
    base_url,
    method,
    nsid,
    *,
    params=None,
    json_body=None,
    data=None,
    content_type=None,
    token=None,
    timeout=None,
    log=None,
):
    """One XRPC request. Returns an Answer whatever the status; raises FetchError (with
    `.sent` and `.request`) when no answer came. Appends (request, status, ms) to `log`."""
    url = f"{base_url}/xrpc/{nsid}"
    if params:
        url += "?" + urlencode({key: value for key, value in params.items() if value is not None})
    headers = {}
    body = None
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        body = data
        headers["Content-Type"] = content_type or "application/octet-stream"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    label = f"{method} /xrpc/{nsid}"
    seconds = timeout or TIMEOUT
    limits = Limits(max_seconds=seconds, connect_timeout=min(5.0, seconds))
    started = time.monotonic()
    try:
        result = send(method, url, body=body, headers=headers, limits=limits)
    except FetchError as error:
        if log is not None:
            log.append((label, None, int((time.monotonic() - started) * 1000)))
        error.request = label
        raise
    if log is not None:
        log.append((label, result.status, int((time.monotonic() - started) * 1000)))
    return Answer(result)


# --- errors ----------------------------------------------------------------------------


def unreachable_error(error, *, label):
    """No answer came from a call that creates nothing (reads, sessions, blob uploads)."""
    return PublishError(
        ErrorKind.RETRY_LATER,
        "unreachable",
        _("%(reason)s Tribu will try again shortly; nothing is published twice.")
        % {"reason": error.message},
        sent=error.sent,
        request=label,
        detail=error.code,
    )


def lost_answer(error):
    """A few words on why a create call has no clear answer, for a longer message."""
    if error.code == "timeout":
        return _("no answer in time")
    return _("the connection broke before the answer")


def answer_error(answer, *, label, sent=True):
    """A PublishError for an answer that is not a success (and not a settled conflict)."""
    common = {"status": answer.status, "detail": answer.message, "request": label, "sent": sent}
    if answer.status == 429:
        wait = answer.retry_after
        return PublishError(
            ErrorKind.RETRY_LATER,
            "rate_limited",
            _(
                "Bluesky asks Tribu to slow down (too many requests for this account). Tribu "
                "will try again in %(minutes)s minute(s)."
            )
            % {"minutes": max(1, round((wait or 60) / 60))},
            retry_after=wait,
            **common,
        )
    if answer.status >= 500:
        return PublishError(
            ErrorKind.RETRY_LATER,
            "server_error",
            _(
                "Bluesky had a problem on its side (HTTP %(status)s: %(detail)s). Tribu will "
                "try again shortly."
            )
            % {"status": answer.status, "detail": answer.message},
            retry_after=answer.retry_after,
            **common,
        )
    if answer.auth_failed:
        return reauth_error(answer, label=label, sent=sent)
    if answer.error in ("AccountTakedown", "AccountDeactivated", "RepoTakendown") or (
        answer.status == 403
    ):
        return PublishError(
            ErrorKind.FATAL,
            "account_unavailable",
            _(
                "Bluesky refuses to publish for this account (%(detail)s). Check the account "
                "in the Bluesky app: it may be suspended or deactivated."
            )
            % {"detail": answer.message},
            **common,
        )
    if answer.status in (404, 501):
        return PublishError(
            ErrorKind.FATAL,
            "not_a_pds",
            _(
                "The server at this channel's API address does not accept Bluesky posts "
                "(%(detail)s). Reconnect the channel with the address of the account's PDS, "
                "such as https://bsky.social."
            )
            % {"detail": answer.message},
            **common,
        )
    if answer.status == 413 or answer.error in ("BlobTooLarge", "PayloadTooLarge"):
        return PublishError(
            ErrorKind.FIX_CONTENT,
            "media_too_large",
            _("Bluesky refused a file as too large (%(detail)s). Use a smaller image.")
            % {"detail": answer.message},
            **common,
        )
    return PublishError(
        ErrorKind.FIX_CONTENT,
        "rejected",
        _("Bluesky refused the post: %(detail)s. Edit the post, then publish it again.")
        % {"detail": answer.message},
        **common,
    )


def reauth_error(answer=None, *, label="", sent=True, status=None, detail=""):
    return PublishError(
        ErrorKind.REAUTH,
        "session_expired",
        _(
            "Bluesky no longer accepts this channel's session or app password. Reconnect the "
            "channel with a new app password (Bluesky: Settings, Privacy and security, App "
            "passwords); scheduled posts wait until then."
        ),
        status=answer.status if answer else status,
        detail=answer.message if answer else detail,
        request=label,
        sent=sent,
    )


def sign_in_error(answer, *, label):
    """What createSession's refusal means for the person connecting the account."""
    if answer.error == "AuthFactorTokenRequired":
        return PublishError(
            ErrorKind.REAUTH,
            "two_factor_required",
            _(
                "This Bluesky account asks for a code sent by email at each sign-in, which "
                "Tribu cannot type. Use an app password instead: app passwords skip the email "
                "code. Create one in Bluesky: Settings, Privacy and security, App passwords."
            ),
            status=answer.status,
            detail=answer.message,
            request=label,
            sent=False,
        )
    if answer.status == 401 or answer.error == "AuthenticationRequired":
        return PublishError(
            ErrorKind.REAUTH,
            "wrong_credentials",
            _(
                "Bluesky refused this handle and app password. Check the handle (such as "
                "name.bsky.social), and create an app password in Bluesky (Settings, Privacy "
                "and security, App passwords) rather than using your account password."
            ),
            status=answer.status,
            detail=answer.message,
            request=label,
            sent=False,
        )
    if answer.status == 429:
        wait = answer.retry_after
        return PublishError(
            ErrorKind.RETRY_LATER,
            "sign_in_rate_limited",
            _(
                "Bluesky allows only a few sign-ins per account every five minutes. Try again "
                "in %(minutes)s minute(s)."
            )
            % {"minutes": max(1, round((wait or 300) / 60))},
            status=429,
            retry_after=wait,
            detail=answer.message,
            request=label,
            sent=False,
        )
    return answer_error(answer, label=label, sent=False)


class _BlobsGone(Exception):
    """The PDS no longer has blobs uploaded by an earlier attempt (it deletes blobs that no
    record uses after a while): upload them again."""


# --- the client ------------------------------------------------------------------------


class BlueskyClient(Client):
    network = "bluesky"
    idempotent = True  # the record key is ours: the same key cannot make a second post
    idempotency_window = None

    def __init__(self, channel_like, *, on_secrets=None, timeout=None, refresh_lock=None):
        super().__init__(
            channel_like, on_secrets=on_secrets, timeout=timeout, refresh_lock=refresh_lock
        )
        self.base_url = normalize_base_url(channel_like.base_url)
        self.secrets = dict(channel_like.secret_values or {})
        self.did = channel_like.account_id
        self.handle = self.secrets.get("handle") or clean_handle(channel_like.handle)
        self.log = []
        self._mentions = {}  # handle -> DID or None, for one publish

    # --- HTTP ------------------------------------------------------------------------
    def _call(self, method, nsid, **kwargs):
        return xrpc(self.base_url, method, nsid, timeout=self.timeout, log=self.log, **kwargs)

    def _access_token(self):
        token = self.secrets.get("access_jwt")
        expires = jwt_expiry(token) if token else None
        if not token or (
            expires is not None and expires - datetime.now(UTC) < timedelta(seconds=REFRESH_MARGIN)
        ):
            self.refresh()
            token = self.secrets["access_jwt"]
        return token

    def _authed(self, method, nsid, **kwargs):
        """A call with the session. An expired or refused session is refreshed once and the
        call sent again (the refused call changed nothing); refused again: reauth."""
        answer = self._call(method, nsid, token=self._access_token(), **kwargs)
        if answer.auth_failed:
            self.refresh()
            answer = self._call(method, nsid, token=self.secrets["access_jwt"], **kwargs)
            if answer.auth_failed:
                raise reauth_error(answer, label=f"{method} /xrpc/{nsid}", sent=False)
        return answer

    # --- session ---------------------------------------------------------------------
    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        base_url = normalize_base_url(base_url)
        handle = clean_handle(credentials.get("handle"))
        password = str(credentials.get("app_password") or "").strip()
        if not handle or not password:
            raise PublishError(
                ErrorKind.REAUTH,
                "missing_credentials",
                _(
                    "Enter the account's handle (such as name.bsky.social) and an app "
                    "password created in Bluesky: Settings, Privacy and security, App passwords."
                ),
                sent=False,
            )
        log = []
        data = create_session(base_url, handle, password, timeout=timeout, log=log)
        account = session_account(data, password)
        try:
            answer = xrpc(
                base_url,
                "GET",
                "app.bsky.actor.getProfile",
                params={"actor": account.account_id},
                token=data["accessJwt"],
                timeout=timeout,
                log=log,
            )
        except FetchError:
            answer = None  # the name is a nicety: the handle will do
        if answer is not None and answer.status == 200:
            account.name = str(answer.data.get("displayName") or "").strip() or account.handle
            account.avatar_url = str(answer.data.get("avatar") or "")
        return account

    def refresh(self):
        """A new session from the refresh JWT (which rotates), else from the app password.
        The new secrets go to `on_secrets` at once: the old refresh JWT is now dead.

        Refresh JWTs are single use, so refreshes of one channel are serialized
        (`refresh_lock`); a client that waited behind another takes the session it stored."""
        with self.refresh_lock() as stored:
            stored_jwt = (stored or {}).get("refresh_jwt")
            if stored_jwt and stored_jwt != self.secrets.get("refresh_jwt"):
                self.secrets = {**self.secrets, **stored}
                return Account(
                    account_id=self.did,
                    handle=self.handle,
                    name=getattr(self.channel, "name", "") or self.handle,
                    secrets=dict(self.secrets),
                    token_expires_at=jwt_expiry(self.secrets.get("access_jwt") or "")
                    or datetime.now(UTC) + SESSION_LIFETIME,
                )
            return self._refresh()

    def _refresh(self):
        refresh_jwt = self.secrets.get("refresh_jwt")
        label = "POST /xrpc/com.atproto.server.refreshSession"
        if refresh_jwt:
            try:
                answer = self._call("POST", "com.atproto.server.refreshSession", token=refresh_jwt)
            except FetchError as error:
                raise unreachable_error(error, label=label) from None
            if answer.status == 200:
                return self._new_session(answer.data)
            if answer.status not in (400, 401) or answer.error == "AccountTakedown":
                raise answer_error(answer, label=label, sent=False)
            # ExpiredToken, InvalidToken: the refresh JWT is dead; the app password may live.
        handle = self.secrets.get("handle") or self.handle
        password = self.secrets.get("app_password")
        if not handle or not password:
            raise reauth_error(label=label, sent=False)
        try:
            data = create_session(
                self.base_url, handle, password, timeout=self.timeout, log=self.log
            )
        except PublishError as error:
            if error.kind != ErrorKind.REAUTH:
                raise
            # The app password was revoked or changed: only a person can give a new one.
            raise reauth_error(
                label=error.request, sent=False, status=error.status, detail=error.detail
            ) from None
        return self._new_session(data)

    def _new_session(self, data):
        account = session_account(data, self.secrets.get("app_password", ""))
        account.name = getattr(self.channel, "name", "") or account.handle
        self.secrets = {**self.secrets, **account.secrets}
        self.did = account.account_id
        self.handle = account.handle
        self.on_secrets(dict(self.secrets))
        account.secrets = dict(self.secrets)
        return account

    # --- publishing ------------------------------------------------------------------
    def publish(self, content, *, idempotency_key, stage, save_stage):
        # The record keys in the stage are the idempotency: `idempotency_key` is not needed.
        self.log = []
        stage = copy.deepcopy(stage or {})

        def save():
            save_stage(copy.deepcopy(stage))

        texts = [content.text] + [
            text for text in map(part_text, content.thread or []) if text.strip()
        ]
        parts = stage.setdefault("parts", [])
        while len(parts) < len(texts):
            parts.append({})
        self._mentions = {}
        root = parent = None
        try:
            for index, text in enumerate(texts):
                part = parts[index]
                if not part.get("cid"):
                    self._publish_part(content, index, text, part, stage, save, root, parent)
                ref = {"uri": part["uri"], "cid": part["cid"]}
                root = root or ref
                parent = ref
        except PublishError as error:
            error.requests = list(self.log)  # for the delivery log
            raise
        first = parts[0]["uri"]
        return Published(remote_id=first, url=self.post_url(first), requests=list(self.log))

    def post_url(self, uri):
        return f"{WEB}/profile/{self.handle or self.did}/post/{rkey_of(uri)}"

    def _publish_part(self, content, index, text, part, stage, save, root, parent):
        if part.get("rkey"):
            found = self._get_record(part["rkey"])
            if found is not None:
                part.update(uri=found["uri"], cid=found["cid"])
                save()
                return
            sent_at = parse_datetime(part.get("sent_at", ""))
            if sent_at and datetime.now(UTC) - sent_at > timedelta(seconds=KEY_REUSE_SECONDS):
                part.clear()  # certainly not on the network, and no longer in flight
        reused_blobs = index == 0 and bool(stage.get("blobs") or stage.get("thumb"))
        record = self._record(content, index, text, stage, save, root, parent)
        if not part.get("rkey"):
            part["rkey"] = new_tid()
        part["sent_at"] = iso_now()
        save()  # the key is saved before the request that uses it
        try:
            self._create(part, record, save, blobs_may_be_gone=reused_blobs)
        except _BlobsGone:
            stage.pop("blobs", None)
            stage.pop("thumb", None)
            save()
            record["embed"] = self._embed(content, stage, save)
            self._create(part, record, save, blobs_may_be_gone=False)

    def _record(self, content, index, text, stage, save, root, parent):
        record = {"$type": POST, "text": text, "createdAt": iso_now()}
        facets = build_facets(text, self._resolve_handle)
        if facets:
            record["facets"] = facets
        if content.language:
            record["langs"] = [content.language]
        if root is not None:
            record["reply"] = {"root": root, "parent": parent}
        if index == 0:
            embed = self._embed(content, stage, save)
            if embed:
                record["embed"] = embed
        return record

    def _create(self, part, record, save, *, blobs_may_be_gone):
        label = "POST /xrpc/com.atproto.repo.createRecord"
        body = {"repo": self.did, "collection": POST, "rkey": part["rkey"], "record": record}
        try:
            answer = self._authed("POST", "com.atproto.repo.createRecord", json_body=body)
        except FetchError as error:
            if not error.sent:
                raise unreachable_error(error, label=label) from None
            return self._settle(part, save, label=label, cause=lost_answer(error))
        if answer.status == 200 and answer.data.get("uri") and answer.data.get("cid"):
            part.update(uri=answer.data["uri"], cid=answer.data["cid"])
            save()
            return None
        if answer.status >= 500 or answer.status == 200:
            # The reference PDS answers 500 when the key exists: it may be our own post.
            cause = f"HTTP {answer.status}: {answer.message}"
            return self._settle(part, save, label=label, cause=cause)
        if blobs_may_be_gone and answer.error == "BlobNotFound":
            raise _BlobsGone
        raise answer_error(answer, label=label)

    def _settle(self, part, save, *, label, cause):
        """The create call got no clear answer: the record key tells whether it worked."""
        try:
            found = self._get_record(part["rkey"])
        except PublishError as error:
            raise PublishError(
                ErrorKind.UNKNOWN,
                "outcome_unknown",
                _(
                    "Bluesky did not answer clearly (%(cause)s) and Tribu could not check "
                    "whether the post exists. Tribu will look again; sending it again with "
                    "the same record key cannot create a duplicate."
                )
                % {"cause": cause},
                status=error.status,
                detail=error.detail or error.message,
                request=label,
                sent=True,
            ) from None
        if found is None:
            raise PublishError(
                ErrorKind.RETRY_LATER,
                "not_created",
                _(
                    "Bluesky did not create the post (%(cause)s). Tribu will send it again "
                    "with the same record key, which cannot create a duplicate."
                )
                % {"cause": cause},
                detail=cause,
                request=label,
                sent=True,
            )
        part.update(uri=found["uri"], cid=found["cid"])
        save()
        return None

    def _get_record(self, rkey):
        """The record with this key in the account's repository, or None when it is absent.
        Any other outcome raises PublishError (retry_later)."""
        label = "GET /xrpc/com.atproto.repo.getRecord"
        params = {"repo": self.did, "collection": POST, "rkey": rkey}
        try:
            answer = self._call("GET", "com.atproto.repo.getRecord", params=params)
        except FetchError as error:
            raise unreachable_error(error, label=label) from None
        if answer.status == 200 and answer.data.get("uri"):
            return answer.data
        if answer.error == "RecordNotFound" or (answer.status == 404 and not answer.error):
            return None
        raise answer_error(answer, label=label, sent=False)

    def _resolve_handle(self, handle):
        if handle in self._mentions:
            return self._mentions[handle]
        label = "GET /xrpc/com.atproto.identity.resolveHandle"
        try:
            answer = self._call(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
            )
        except FetchError as error:
            raise unreachable_error(error, label=label) from None
        if answer.status == 429 or answer.status >= 500:
            # A busy server is not an unknown handle: do not publish a mention as plain text.
            raise answer_error(answer, label=label, sent=False)
        did = str(answer.data.get("did") or "") if answer.status == 200 else ""
        self._mentions[handle] = did or None
        return did or None

    # --- media -----------------------------------------------------------------------
    def _embed(self, content, stage, save):
        media = list(content.media or [])
        if media:
            if len(media) > MAX_IMAGES:
                raise PublishError(
                    ErrorKind.FIX_CONTENT,
                    "too_many_images",
                    _(
                        "A Bluesky post holds at most %(max)s images; this one has %(count)s. "
                        "Remove some, then publish again."
                    )
                    % {"max": MAX_IMAGES, "count": len(media)},
                    sent=False,
                )
            blobs = stage.setdefault("blobs", [])
            images = []
            for index, item in enumerate(media):
                if index >= len(blobs):
                    blobs.append(self._upload_image(item))
                    save()  # each blob ref is saved before the next upload
                image = {"image": blobs[index], "alt": str(item.get("alt") or "")}
                width, height = item.get("width"), item.get("height")
                if isinstance(width, int) and isinstance(height, int) and width > 0 < height:
                    image["aspectRatio"] = {"width": width, "height": height}
                images.append(image)
            return {"$type": "app.bsky.embed.images", "images": images}
        card = content.link_card or {}
        if not card.get("url"):
            return None
        external = {
            "uri": str(card["url"]),
            "title": str(card.get("title") or ""),
            "description": str(card.get("description") or ""),
        }
        if not stage.get("thumb"):
            thumb = self._upload_thumb(card.get("image"))
            if thumb:
                stage["thumb"] = thumb
                save()
        if stage.get("thumb"):
            external["thumb"] = stage["thumb"]
        return {"$type": "app.bsky.embed.external", "external": external}

    def _upload_image(self, item):
        path = str(item.get("path") or "")
        name = path.rsplit("/", 1)[-1] or path
        data = read_media(path)
        if data is None:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "media_missing",
                _(
                    "The image %(name)s is missing from Tribu's media folder. Remove it from "
                    "the post, add it again, then publish."
                )
                % {"name": name},
                sent=False,
            )
        if len(data) > MAX_IMAGE_BYTES:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "media_too_large",
                _(
                    "The image %(name)s weighs %(size)s MB; Bluesky accepts at most 2 MB per "
                    "image. Replace it with a smaller one, then publish again."
                )
                % {"name": name, "size": f"{len(data) / 1_000_000:.1f}"},
                sent=False,
            )
        content_type = item.get("content_type") or mimetypes.guess_type(path)[0]
        return self._upload(data, content_type or "application/octet-stream")

    def _upload_thumb(self, path):
        # A link card without its picture is still a link card: any problem with the
        # thumbnail drops it rather than the post.
        if not path or not isinstance(path, str) or "://" in path:
            return None
        data = read_media(path)
        if data is None or len(data) > MAX_THUMB_BYTES:
            return None
        return self._upload(data, mimetypes.guess_type(path)[0] or "image/jpeg")

    def _upload(self, data, content_type):
        label = "POST /xrpc/com.atproto.repo.uploadBlob"
        try:
            answer = self._authed(
                "POST", "com.atproto.repo.uploadBlob", data=data, content_type=content_type
            )
        except FetchError as error:
            # An upload that may have arrived only leaves an unused blob, which the PDS
            # deletes: it is retried like any failure, nothing is published yet.
            raise unreachable_error(error, label=label) from None
        blob = answer.data.get("blob")
        if answer.status != 200 or not isinstance(blob, dict):
            raise answer_error(answer, label=label)
        return blob

    # --- finding ---------------------------------------------------------------------
    def find(self, content, *, stage, since):
        self.log = []
        parts = []
        for part in (stage or {}).get("parts", []):
            if not part.get("rkey"):
                break
            parts.append(part)
        if parts:
            return self._find_by_keys(content, parts)
        return self._find_by_text(content, since)

    def _find_by_keys(self, content, parts):
        """Every part has its record: Published. Otherwise NotFound: publishing again with
        this stage asks getRecord for each saved key first, so it only adds what is missing."""
        expected = 1 + sum(1 for text in map(part_text, content.thread or []) if text.strip())
        found = []
        for part in parts:
            record = self._get_record(part["rkey"])
            if record is None:
                return NotFound(requests=list(self.log))
            found.append(record)
        if len(found) < expected:
            return NotFound(requests=list(self.log))
        first = found[0]["uri"]
        return Published(remote_id=first, url=self.post_url(first), requests=list(self.log))

    def _find_by_text(self, content, since):
        label = "GET /xrpc/com.atproto.repo.listRecords"
        threshold = since - FIND_SLACK if since else None
        cursor = None
        for _page in range(FIND_PAGES):
            params = {"repo": self.did, "collection": POST, "limit": FIND_PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            try:
                answer = self._call("GET", "com.atproto.repo.listRecords", params=params)
            except FetchError as error:
                raise unreachable_error(error, label=label) from None
            if answer.status != 200:
                raise answer_error(answer, label=label, sent=False)
            records = [item for item in answer.data.get("records") or [] if isinstance(item, dict)]
            older = False
            for item in records:
                value = item.get("value") or {}
                created = parse_datetime(value.get("createdAt", ""))
                if threshold is not None and (created is None or created < threshold):
                    older = True
                    continue
                if value.get("text") == content.text and not value.get("reply"):
                    return Published(
                        remote_id=item["uri"],
                        url=self.post_url(item["uri"]),
                        requests=list(self.log),
                    )
            cursor = answer.data.get("cursor")
            if older or not cursor or not records:
                break
        return NotFound(requests=list(self.log))


def create_session(base_url, handle, password, *, timeout=None, log=None):
    """Sign in with a handle and app password; the session's JSON or PublishError."""
    label = "POST /xrpc/com.atproto.server.createSession"
    try:
        answer = xrpc(
            base_url,
            "POST",
            "com.atproto.server.createSession",
            json_body={"identifier": handle, "password": password},
            timeout=timeout,
            log=log,
        )
    except FetchError as error:
        raise unreachable_error(error, label=label) from None
    if answer.status != 200 or not answer.data.get("accessJwt") or not answer.data.get("did"):
        raise sign_in_error(answer, label=label)
    return answer.data


def session_account(data, app_password):
    access = data["accessJwt"]
    values = {
        "handle": data.get("handle", ""),
        "app_password": app_password,
        "access_jwt": access,
        "refresh_jwt": data.get("refreshJwt", ""),
    }
    return Account(
        account_id=data["did"],
        handle=data.get("handle", ""),
        name=data.get("handle", ""),
        secrets=values,
        token_expires_at=jwt_expiry(access) or datetime.now(UTC) + SESSION_LIFETIME,
    )


def read_media(path):
    """The bytes of a file under MEDIA_ROOT, or None when it is missing or outside."""
    try:
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    except (OSError, SuspiciousFileOperation, ValueError):
        return None
