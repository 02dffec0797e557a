"""Threads (Meta's Threads API on graph.threads.net): connect a profile, keep its token
alive, publish posts and threads, find a post again after a lost answer.

Connecting (docs/networks.md §7). OAuth 2 authorization code through the operator's app
(settings.TRIBU_NETWORK_APPS["threads"]): `{auth_url}/oauth/authorize` → `POST
{api_url}/oauth/access_token` gives a short-lived token (one hour) and the user id → `GET
{api_url}/access_token?grant_type=th_exchange_token` trades it for a long-lived one (60
days). Threads has no PKCE: the code is bound to the app secret and the registered redirect
URI, so the challenge and verifier the views pass are not sent. A pasted token works too
(`connect()`, for the REST API). A token reaches exactly one profile.

Keeping it alive. There is no refresh token: `GET {api_url}/refresh_access_token?grant_type=
th_refresh_token` extends a long-lived token by 60 days, but only once it is at least a day
old and before it expires. So a channel asks for a refresh 30 days after the token was
issued (`refresh_at`), well before the end; a refused refresh (code 190) means reconnecting.

Publishing, always through containers:

1. `POST /{user-id}/threads` creates a container: `media_type=TEXT` with `text`; `IMAGE`
   with `image_url` (a signed public address of the image on Tribu itself, which Meta
   downloads) and `alt_text`; several images make a `CAROUSEL` whose children are IMAGE
   containers with `is_carousel_item=true`. Every container id is saved in the stage at
   once, before the next call;
2. `GET /{container-id}?fields=status,error_message` is polled until FINISHED
   (`container_poll_delays`); ERROR asks the user to fix the post with Meta's words;
   EXPIRED (a container lives 24 hours) means a new container;
3. `POST /{user-id}/threads_publish?creation_id=` publishes it and answers the media id,
   saved at once; the permalink comes from `GET /{media-id}?fields=permalink`;
4. each further part of a thread is a new container with `reply_to_id` = the previous
   part's media id, published the same way.

Before publishing, `GET /{user-id}/threads_publishing_limit` tells whether the profile's
quota (250 posts and 1,000 replies per rolling 24 hours) has room: if not, the delivery
waits instead of failing half-way through a thread.

Exactly once. Threads has no idempotency key, but a container is published at most once and
its status says whether it was (`PUBLISHED`). A resumed attempt reads the status of every
container the stage holds before doing anything: PUBLISHED → the media id is looked up in
the account's latest threads (`GET /{user-id}/threads`, matched by text) or, for a thread
part, in the replies to the previous part; FINISHED → that same container is published, so
no second post can appear. When the answer to `threads_publish` is lost, the container is
read at once: PUBLISHED → the thread goes on (a reconciler could not finish a
half-published thread); a thread part not confirmed → retried later (the retry reads the
container first); the post itself not confirmed → `unknown`, and `find()` reads the
containers the same way.

Stage (Delivery.stage): {"parts": [{"children": [id, …] (carousel), "container": id,
"created_at": ISO time, "media_id": id}, …] (the post, then each thread part),
"url": permalink of the post, "fetch_failures": n}.

A post has no first comment on Threads (the thread is how posts chain); `first_comment`
and `language` have no Threads field and are not sent. Unverified in Meta's docs and chosen
here: the token travels in the Authorization header (the Graph API accepts it; only the
token endpoints take it as a parameter), scopes are comma-separated as in Meta's examples,
`alt_text` is the field name for image descriptions, 20 images at most in a carousel, and a
failed image download answers code 9004 / subcode 2207052 as on Instagram.
"""

import copy
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
from tribu.channels.networks.graph import bad_answer, error_fields, graph_error
from tribu.publishing.text import threads_length

NETWORK = "threads"
SERVICE = "Threads"
DEFAULT_API_URL = "https://graph.threads.net"
DEFAULT_AUTH_URL = "https://threads.net"
DEFAULT_VERSION = "v1.0"
# Publish posts and their thread parts (replies), and read the replies to the previous part
# to find a part whose answer was lost (threads_read_replies).
SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
)
PROFILE_FIELDS = "id,username,name,threads_profile_picture_url"
LIST_FIELDS = "id,text,timestamp,permalink"
REPLY_FIELDS = "id,text,timestamp,permalink,username"
LIST_LIMIT = 10  # the account's latest threads read to find a post
REPLIES_LIMIT = 50
MAX_CHARACTERS = 500
MAX_IMAGES = 20  # carousel items (unverified: Meta documents 20)
LIMITS = {"max_characters": MAX_CHARACTERS, "max_media": MAX_IMAGES}

# Tokens: a long-lived token lives 60 days; Meta refreshes it only once it is a day old.
TOKEN_LIFETIME = timedelta(days=60)
REFRESH_MIN_AGE = timedelta(hours=24)
REFRESH_AFTER = timedelta(days=30)
REFRESH_MARGIN = timedelta(minutes=5)

# Container statuses.
IN_PROGRESS = "IN_PROGRESS"
FINISHED = "FINISHED"
PUBLISHED = "PUBLISHED"
ERROR = "ERROR"
EXPIRED = "EXPIRED"

# Waits between polls of a container still processing: Meta says about 30 seconds on
# average for media. Past them the attempt is retried later; the container is kept.
CONTAINER_POLL_DELAYS = (1, 2, 3, 4, 5, 5, 5, 5)
# Meta could not download an image from Tribu: often transient on its side, so it is
# retried; after this many failed downloads of one delivery the user is asked to check.
MEDIA_FETCH_ATTEMPTS = 3
MEDIA_FETCH_RETRY = 60  # seconds
# Quota full: the oldest post of the rolling 24 hours leaves it at some point; try hourly.
QUOTA_RETRY = 3600
# A PUBLISHED container whose post is not listed yet: look again in a couple of minutes.
LISTING_RETRY = 120
# find(): a post may carry a timestamp a little before `since` (clocks differ).
FIND_SLACK = timedelta(minutes=5)

# What a failed image download answers (code 9004, subcode 2207052, as on Instagram).
MEDIA_FETCH_CODES = {9004}
MEDIA_FETCH_SUBCODES = {2207052}
# "Object does not exist": a container Meta no longer knows (GraphMethodException).
MISSING_OBJECT_SUBCODE = 33


# --- helpers -----------------------------------------------------------------------------


def now():
    return datetime.now(UTC)


def iso(moment):
    return moment.astimezone(UTC).isoformat()


def parse_time(value):
    """An aware datetime from ISO 8601 (Meta writes "+0000"), a datetime, or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value or "").strip()
    if not text:
        return None
    for parse in (
        lambda raw: datetime.fromisoformat(raw.replace("Z", "+00:00")),
        lambda raw: datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z"),
    ):
        try:
            moment = parse(text)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def seconds(value, default):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def api_root(base_url):
    return (base_url or "").strip().rstrip("/") or DEFAULT_API_URL


def api_version():
    return http.app_for(NETWORK).version or DEFAULT_VERSION


def same_text(left, right):
    """Threads keeps the text as written; only surrounding and repeated spaces may differ."""
    return " ".join(str(left or "").split()) == " ".join(str(right or "").split())


def next_refresh(issued, expires):
    """When to refresh a token issued at `issued`: 30 days on (half its life), never less
    than a day old (Meta refuses younger tokens), a day before it expires at the latest."""
    moment = issued + REFRESH_AFTER
    if expires is not None:
        moment = min(moment, expires - timedelta(days=1))
    return max(moment, issued + REFRESH_MIN_AGE + REFRESH_MARGIN)


def request(method, url, *, token=None, form=None, timeout=None, log=None, creates_post=False):
    return http.call(
        method,
        url,
        service=SERVICE,
        token=token,
        form=form,
        timeout=timeout or http.TIMEOUT,
        log=log,
        creates_post=creates_post,
    )


def answer(result, label):
    """The JSON object of a successful answer, or the mapped PublishError."""
    if not 200 <= result.status < 300:
        raise graph_error(result, SERVICE, label)
    data = result.json()
    if not isinstance(data, dict) or "error" in data:
        raise bad_answer(result, SERVICE, label)
    return data


def read_profile(api, version, token, *, timeout=None, log=None):
    url = f"{api}/{version}/me?" + urlencode({"fields": PROFILE_FIELDS})
    label = f"GET /{version}/me"
    result = request("GET", url, token=token, timeout=timeout, log=log)
    data = answer(result, label)
    if not data.get("id") or not data.get("username"):
        raise bad_answer(result, SERVICE, label)
    return data


def profile_account(profile, secrets, *, expires_at, refresh_at):
    username = str(profile["username"])
    return Account(
        account_id=str(profile["id"]),
        handle=f"@{username}",
        name=str(profile.get("name") or "").strip() or username,
        avatar_url=str(profile.get("threads_profile_picture_url") or ""),
        account_kind="profile",
        secrets=secrets,
        token_expires_at=expires_at,
        # Refreshing pushes the end back by 60 days each time: no consent date to show.
        consent_expires_at=None,
        refresh_at=refresh_at,
        limits=dict(LIMITS),
    )


def token_error(result, label):
    """An error from the token endpoints (code exchange, long-lived exchange)."""
    code, subcode, detail, _type = error_fields(result)
    if result.status >= 500 or result.status == 429 or code in (4, 17, 32, 613):
        return graph_error(result, SERVICE, label)
    values = {"detail": detail or _("no details")}
    if code == 101 or (code == 1 and "client" in detail.lower()):
        return PublishError(
            ErrorKind.FATAL,
            "invalid_client",
            _(
                "Threads refused Tribu's app (%(detail)s). Check TRIBU_THREADS_CLIENT_ID and "
                "TRIBU_THREADS_CLIENT_SECRET against the app in Meta's developer dashboard."
            )
            % values,
            status=result.status,
            detail=f"{code}/{subcode}: {detail}",
            request=label,
        )
    return PublishError(
        ErrorKind.FATAL,
        "invalid_grant",
        _(
            "Threads refused the authorization (%(detail)s): it expired, was already used, or "
            "does not match this attempt. Start connecting the account again."
        )
        % values,
        status=result.status,
        detail=f"{code}/{subcode}: {detail}",
        request=label,
    )


class _Expired(Exception):
    """A container (or a carousel child) expired or vanished: make a new one."""


# --- the client --------------------------------------------------------------------------


class ThreadsClient(Client):
    network = NETWORK
    service_name = SERVICE
    app_key = "threads"
    # No idempotency key: a lost publish answer is settled by the container's status.
    idempotent = False
    container_poll_delays = CONTAINER_POLL_DELAYS
    media_fetch_attempts = MEDIA_FETCH_ATTEMPTS

    def __init__(self, channel_like, *, on_secrets=None, timeout=None, refresh_lock=None):
        super().__init__(
            channel_like, on_secrets=on_secrets, timeout=timeout, refresh_lock=refresh_lock
        )
        self.log = []

    # --- connecting ------------------------------------------------------------------
    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        """A pasted long-lived token. Its age is unknown, so the first refresh is asked for
        a day from now (Meta refuses younger tokens); that refresh tells the real expiry."""
        credentials = credentials or {}
        token = str(credentials.get("access_token") or "").strip()
        if not token:
            raise PublishError(
                ErrorKind.REAUTH,
                "missing_token",
                _(
                    "Paste a Threads access token (a long-lived token of the profile, from "
                    "Meta's developer dashboard), or connect the profile with Threads' "
                    "sign-in."
                ),
                sent=False,
            )
        try:
            profile = read_profile(api_root(base_url), api_version(), token, timeout=timeout)
        except PublishError as error:
            if error.kind != ErrorKind.REAUTH:
                raise
            raise PublishError(
                ErrorKind.REAUTH,
                error.code,
                _(
                    "Threads refused this access token: it is wrong, expired, or was "
                    "withdrawn. Create a new one and paste it again."
                ),
                status=error.status,
                detail=error.detail,
                request=error.request,
            ) from None
        wanted = str(credentials.get("account_id") or "").strip()
        if wanted and wanted not in (str(profile["id"]), "@" + str(profile["username"])):
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "choose_account",
                _(
                    "This token belongs to the Threads profile %(choice)s, not to "
                    "%(wanted)s. Paste a token of that profile, or leave the account empty."
                )
                % {
                    "choice": f"{profile['id']} (@{profile['username']})",
                    "wanted": wanted,
                },
                sent=False,
            )
        current = now()
        expires = parse_time(credentials.get("expires_at"))
        soonest = current + REFRESH_MIN_AGE + REFRESH_MARGIN
        refresh_at = soonest
        if expires is not None:
            # Issued at most 60 days before it ends, and not in the future.
            issued = min(current, expires - TOKEN_LIFETIME)
            refresh_at = max(soonest, next_refresh(issued, expires))
        return profile_account(
            profile, {"access_token": token}, expires_at=expires, refresh_at=refresh_at
        )

    @classmethod
    def authorization_url(cls, app, redirect_uri, state, code_challenge):
        # Threads' authorization endpoint has no PKCE: the code is bound to the app secret
        # and the registered redirect URI instead, so `code_challenge` is not sent.
        query = urlencode(
            {
                "client_id": app.client_id,
                "redirect_uri": redirect_uri,
                "scope": ",".join(SCOPES),
                "response_type": "code",
                "state": state,
            }
        )
        return f"{(app.auth_url or DEFAULT_AUTH_URL).rstrip('/')}/oauth/authorize?{query}"

    @classmethod
    def exchange_code(cls, app, redirect_uri, code, code_verifier, *, timeout=None):
        """Code → short-lived token (one hour) → long-lived token (60 days). Returns
        {"access_token", "user_id", "issued_at", "expires_at"}. `code_verifier` is unused
        (no PKCE on Threads)."""
        api = api_root(app.api_url)
        label = "POST /oauth/access_token"
        result = request(
            "POST",
            f"{api}/oauth/access_token",
            form={
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
            timeout=timeout,
        )
        if result.status != 200:
            raise token_error(result, label)
        data = answer(result, label)
        short_token = data.get("access_token")
        if not short_token:
            raise bad_answer(result, SERVICE, label)
        user_id = str(data.get("user_id") or "")
        label = "GET /access_token"
        query = urlencode(
            {
                "grant_type": "th_exchange_token",
                "client_secret": app.client_secret,
                "access_token": short_token,
            }
        )
        issued = now()
        result = request("GET", f"{api}/access_token?{query}", timeout=timeout)
        if result.status != 200:
            raise token_error(result, label)
        data = answer(result, label)
        if not data.get("access_token"):
            raise bad_answer(result, SERVICE, label)
        lifetime = seconds(data.get("expires_in"), int(TOKEN_LIFETIME.total_seconds()))
        return {
            "access_token": str(data["access_token"]),
            "user_id": user_id,
            "issued_at": iso(issued),
            "expires_at": iso(issued + timedelta(seconds=lifetime)),
        }

    @classmethod
    def accounts(cls, app, grant, *, timeout=None):
        token = str(grant.get("access_token") or "")
        profile = read_profile(
            api_root(app.api_url), app.version or DEFAULT_VERSION, token, timeout=timeout
        )
        issued = parse_time(grant.get("issued_at")) or now()
        expires = parse_time(grant.get("expires_at"))
        secrets = {"access_token": token, "token_issued_at": iso(issued)}
        return [
            profile_account(
                profile, secrets, expires_at=expires, refresh_at=next_refresh(issued, expires)
            )
        ]

    def refresh(self):
        """A new 60-day token. Runs under `refresh_lock` (one refresh of a channel at a
        time); a token stored meanwhile (refreshed by another worker, or a reconnection) is
        the one considered. A token less than a day old is not refreshed (Meta refuses it):
        only the next refresh date is returned. An expired or refused token: reauth."""
        self.log = []
        with self.refresh_lock() as stored:
            secrets = dict(self.channel.secret_values or {})
            expires = getattr(self.channel, "token_expires_at", None)
            if stored and stored.get("access_token") not in (None, secrets.get("access_token")):
                secrets = {**secrets, **stored}
                issued = parse_time(secrets.get("token_issued_at"))
                expires = issued + TOKEN_LIFETIME if issued else None
            return self._refresh(secrets, expires)

    def _refresh(self, secrets, expires):
        token = secrets.get("access_token") or ""
        label = "GET /refresh_access_token"
        current = now()
        if not token or (expires is not None and expires <= current):
            raise PublishError(
                ErrorKind.REAUTH,
                "token_expired",
                _(
                    "The Threads authorization has expired and cannot be extended any more. "
                    "Reconnect the channel; its posts are held until then."
                ),
                sent=False,
                request=label,
            )
        issued = parse_time(secrets.get("token_issued_at"))
        if issued is not None and current - issued < REFRESH_MIN_AGE:
            expires = expires or issued + TOKEN_LIFETIME
            return self.account_update({}, expires, next_refresh(issued, expires))
        query = urlencode({"grant_type": "th_refresh_token", "access_token": token})
        url = f"{api_root(self.channel.base_url)}/refresh_access_token?{query}"
        result = request("GET", url, timeout=self.timeout, log=self.log)
        data = answer(result, label)
        if not data.get("access_token"):
            raise bad_answer(result, SERVICE, label)
        lifetime = seconds(data.get("expires_in"), int(TOKEN_LIFETIME.total_seconds()))
        expires = current + timedelta(seconds=lifetime)
        secrets.update(access_token=str(data["access_token"]), token_issued_at=iso(current))
        self.on_secrets(dict(secrets))
        return self.account_update(secrets, expires, next_refresh(current, expires))

    def account_update(self, secrets, expires, refresh_at):
        handle = getattr(self.channel, "handle", "") or ""
        return Account(
            account_id=str(self.channel.account_id),
            handle=handle,
            name=getattr(self.channel, "name", "") or handle,
            secrets=secrets,
            token_expires_at=expires,
            consent_expires_at=None,
            refresh_at=refresh_at,
            limits=dict(LIMITS),
        )

    # --- HTTP --------------------------------------------------------------------------
    @property
    def api(self):
        return api_root(self.channel.base_url)

    @property
    def version(self):
        return api_version()

    @property
    def user_id(self):
        return str(self.channel.account_id)

    @property
    def username(self):
        return str(getattr(self.channel, "handle", "") or "").lstrip("@")

    def call(self, method, path, *, query=None, form=None, timeout=None, creates_post=False):
        url = f"{self.api}/{self.version}/{path}"
        if query:
            url += "?" + urlencode(query)
        return request(
            method,
            url,
            token=(self.channel.secret_values or {}).get("access_token") or "",
            form=form,
            timeout=self.timeout or timeout,
            log=self.log,
            creates_post=creates_post,
        )

    def label(self, method, path):
        return f"{method} /{self.version}/{path}"

    def get(self, path, **query):
        return answer(self.call("GET", path, query=query), self.label("GET", path))

    def listing(self, path, **query):
        """The `data` list of a Graph edge (threads, replies)."""
        label = self.label("GET", path)
        result = self.call("GET", path, query=query)
        items = answer(result, label).get("data")
        if not isinstance(items, list):
            raise bad_answer(result, SERVICE, label)
        return [item for item in items if isinstance(item, dict)]

    # --- publishing --------------------------------------------------------------------
    def publish(self, content, *, idempotency_key, stage, save_stage):
        # The containers in the stage make a repeat safe; `idempotency_key` has no use here.
        self.log = []
        stage = copy.deepcopy(stage or {})

        def save():
            save_stage(copy.deepcopy(stage))

        texts = [content.text or ""] + [
            str(part) for part in content.thread or [] if str(part or "").strip()
        ]
        media = list(content.media or [])
        try:
            self.check_content(texts, media)
            parts = stage.setdefault("parts", [])
            while len(parts) < len(texts):
                parts.append({})
            pending = [index for index, part in enumerate(parts) if not part.get("media_id")]
            if pending:
                self.check_quota(root=pending[0] == 0, replies=len([i for i in pending if i]))
            reply_to = None
            for index, text in enumerate(texts):
                part = parts[index]
                if not part.get("media_id"):
                    self.publish_part(
                        index, text, media if index == 0 else [], part, reply_to, stage, save
                    )
                if index == 0 and not stage.get("url"):
                    stage["url"] = self.permalink(part["media_id"])
                    if stage["url"] and len(texts) > 1:
                        save()
                reply_to = part["media_id"]
        except PublishError as error:
            error.requests = list(self.log)  # for the delivery log
            raise
        return Published(
            remote_id=parts[0]["media_id"], url=stage.get("url") or "", requests=list(self.log)
        )

    def check_content(self, texts, media):
        """What Threads would refuse anyway, checked before any call."""
        if not texts[0].strip() and not media:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "empty",
                _("The post is empty. Write some text or add an image, then publish again."),
                sent=False,
            )
        for index, text in enumerate(texts):
            length = threads_length(text)
            if length <= MAX_CHARACTERS:
                continue
            values = {"length": length, "maximum": MAX_CHARACTERS, "part": index + 1}
            message = (
                _(
                    "The post is too long for Threads: %(length)s characters out of "
                    "%(maximum)s (an emoji counts as several). Shorten it, then publish again."
                )
                if index == 0
                else _(
                    "Part %(part)s of the thread is too long for Threads: %(length)s characters "
                    "out of %(maximum)s (an emoji counts as several). Shorten it, then publish "
                    "again."
                )
            )
            raise PublishError(ErrorKind.FIX_CONTENT, "too_long", message % values, sent=False)
        if len(media) > MAX_IMAGES:
            raise PublishError(
                ErrorKind.FIX_CONTENT,
                "too_many_images",
                _(
                    "A Threads post holds at most %(max)s images; this one has %(count)s. "
                    "Remove some, then publish again."
                )
                % {"max": MAX_IMAGES, "count": len(media)},
                sent=False,
            )

    def check_quota(self, *, root, replies):
        """Wait rather than start what the profile's 24-hour quota cannot finish."""
        path = f"{self.user_id}/threads_publishing_limit"
        data = self.get(path, fields="quota_usage,config,reply_quota_usage,reply_config")
        entries = data.get("data")
        entry = entries[0] if isinstance(entries, list) and entries else {}
        entry = entry if isinstance(entry, dict) else {}

        def full(usage_key, config_key, needed):
            config = entry.get(config_key)
            config = config if isinstance(config, dict) else {}
            usage, total = entry.get(usage_key), config.get("quota_total")
            if not isinstance(usage, int) or not isinstance(total, int) or total <= 0:
                return None  # not said: let Threads decide
            if usage + needed <= total:
                return None
            hours = max(1, seconds(config.get("quota_duration"), 86400) // 3600)
            return {"usage": usage, "total": total, "hours": hours}

        values = full("quota_usage", "config", 1) if root else None
        if values is not None:
            raise PublishError(
                ErrorKind.RETRY_LATER,
                "quota_reached",
                _(
                    "This Threads profile has already published %(usage)s posts in the last "
                    "%(hours)s hours, the most Threads allows through apps (%(total)s). Tribu "
                    "will try again in an hour."
                )
                % values,
                retry_after=QUOTA_RETRY,
                sent=False,
                request=self.label("GET", path),
            )
        values = full("reply_quota_usage", "reply_config", replies) if replies else None
        if values is not None:
            values["needed"] = replies
            raise PublishError(
                ErrorKind.RETRY_LATER,
                "reply_quota_reached",
                _(
                    "This thread needs %(needed)s replies, but the Threads profile has already "
                    "published %(usage)s of the %(total)s replies Threads allows through apps "
                    "in %(hours)s hours. Tribu will try again in an hour, so the thread is not "
                    "left half-published."
                )
                % values,
                retry_after=QUOTA_RETRY,
                sent=False,
                request=self.label("GET", path),
            )

    def publish_part(self, index, text, media, part, reply_to, stage, save):
        """One part: settle the container an earlier attempt left, or make one; wait until
        it is ready; publish it. An expired container is replaced once."""
        for _round in range(2):
            try:
                status = None
                if part.get("container"):
                    status = self.settle(index, text, part, reply_to, save)
                    if part.get("media_id"):
                        return
                if not part.get("container"):
                    self.create_part(index, text, media, part, reply_to, stage, save)
                if status != FINISHED:
                    status = self.wait(part["container"])
                if status == PUBLISHED:  # published meanwhile (by a concurrent attempt)
                    self.settle(index, text, part, reply_to, save)
                    return
                self.publish_container(index, text, part, reply_to, save)
                return
            except _Expired:
                part.clear()
                save()
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "container_expired",
            _("Threads let the prepared post expire twice in a row. Tribu will try again later."),
            retry_after=60,
        )

    def settle(self, index, text, part, reply_to, save):
        """The status of a container an earlier attempt left. PUBLISHED: its media id is
        looked up and saved. Returns the status (FINISHED or IN_PROGRESS: publish that
        container); raises _Expired when a new container is needed."""
        status, message = self.container_status(part["container"])
        if status == PUBLISHED or status is None:
            since = parse_time(part.get("created_at"))
            found = self.locate(index, text, reply_to, since=since, required=status == PUBLISHED)
            if found is not None:
                part["media_id"] = found["id"]
                save()
                return PUBLISHED
            raise _Expired  # a container Meta no longer knows, and no such post
        if status == ERROR:
            raise self.container_error(message, part["container"])
        if status == EXPIRED:
            raise _Expired
        return status

    def create_part(self, index, text, media, part, reply_to, stage, save):
        params = {"media_type": "TEXT", "text": text}
        if len(media) == 1:
            params = {"media_type": "IMAGE", "image_url": self.image_url(media[0])}
            if media[0].get("alt"):
                params["alt_text"] = str(media[0]["alt"])
        elif len(media) > 1:
            children = part.setdefault("children", [])
            for item in media[len(children) :]:
                child = {
                    "media_type": "IMAGE",
                    "image_url": self.image_url(item),
                    "is_carousel_item": "true",
                }
                if item.get("alt"):
                    child["alt_text"] = str(item["alt"])
                children.append(self.create_container(child, stage, save))
                save()  # each child is saved before the next call
            for child in children:
                status = self.wait(child)
                if status not in (FINISHED, PUBLISHED):
                    raise _Expired
            params = {"media_type": "CAROUSEL", "children": ",".join(children)}
        if media and text.strip():
            params["text"] = text  # an image post may have no text at all
        if reply_to:
            params["reply_to_id"] = reply_to
        part["container"] = self.create_container(params, stage, save)
        part["created_at"] = iso(now())
        save()  # saved before it is polled and published

    def image_url(self, item):
        return http.public_media_url(item, SERVICE)

    def create_container(self, params, stage, save):
        path = f"{self.user_id}/threads"
        label = self.label("POST", path)
        images = params["media_type"] == "IMAGE"
        # Meta downloads the image while it answers: give it the upload time.
        result = self.call(
            "POST", path, form=params, timeout=http.UPLOAD_TIMEOUT if images else None
        )
        if result.status != 200:
            code, subcode, detail, _type = error_fields(result)
            if code in MEDIA_FETCH_CODES or subcode in MEDIA_FETCH_SUBCODES:
                raise self.fetch_failed(result, detail, label, stage, save)
            raise graph_error(result, SERVICE, label)
        data = answer(result, label)
        if not data.get("id"):
            raise bad_answer(result, SERVICE, label)
        if images and stage.pop("fetch_failures", None):
            save()
        return str(data["id"])

    def fetch_failed(self, result, detail, label, stage, save):
        """Meta could not download an image from Tribu: retried (often transient on Meta's
        side), until it happened `media_fetch_attempts` times for this delivery."""
        failures = int(stage.get("fetch_failures") or 0) + 1
        stage["fetch_failures"] = failures
        save()
        values = {"detail": detail or _("no details"), "count": failures}
        if failures >= self.media_fetch_attempts:
            return PublishError(
                ErrorKind.FIX_CONTENT,
                "media_unreachable",
                ngettext(
                    "Threads could not download the images of this post from Tribu "
                    "(%(detail)s), %(count)s time. Check that Tribu's address "
                    "(TRIBU_BASE_URL) is reachable from the internet and that the images are "
                    "JPEG or PNG, then publish again.",
                    "Threads could not download the images of this post from Tribu "
                    "(%(detail)s), %(count)s times. Check that Tribu's address "
                    "(TRIBU_BASE_URL) is reachable from the internet and that the images are "
                    "JPEG or PNG, then publish again.",
                    failures,
                )
                % values,
                status=result.status,
                detail=detail,
                request=label,
            )
        return PublishError(
            ErrorKind.RETRY_LATER,
            "media_fetch_failed",
            _(
                "Threads could not download an image of this post from Tribu (%(detail)s). "
                "This is often temporary on Meta's side: Tribu will try again in a minute."
            )
            % values,
            status=result.status,
            detail=detail,
            retry_after=MEDIA_FETCH_RETRY,
            request=label,
        )

    def container_status(self, container_id):
        """(status, error_message) of a container; (None, "") when Meta no longer knows it."""
        path = container_id
        result = self.call("GET", path, query={"fields": "status,error_message"})
        if result.status != 200:
            code, subcode, _detail, _type = error_fields(result)
            if code == 100 and subcode == MISSING_OBJECT_SUBCODE:
                return None, ""
            raise graph_error(result, SERVICE, self.label("GET", path))
        data = answer(result, self.label("GET", path))
        status = str(data.get("status") or "").upper()
        if not status:
            raise bad_answer(result, SERVICE, self.label("GET", path))
        return status, str(data.get("error_message") or "")

    def wait(self, container_id):
        """Poll a container until it is ready: FINISHED (or PUBLISHED) is returned, ERROR
        asks the user to fix the post, EXPIRED raises _Expired; still processing after
        every delay: retry later, with the container kept in the stage."""
        for delay in (0, *self.container_poll_delays):
            if delay:
                time.sleep(delay)
            status, message = self.container_status(container_id)
            if status in (FINISHED, PUBLISHED):
                return status
            if status == ERROR:
                raise self.container_error(message, container_id)
            if status in (EXPIRED, None):
                raise _Expired
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "media_processing",
            _(
                "Threads is still preparing this post. Tribu will try again in a moment, "
                "without sending it again."
            ),
            retry_after=30,
            request=self.label("GET", container_id),
        )

    def container_error(self, message, container_id):
        return PublishError(
            ErrorKind.FIX_CONTENT,
            "container_error",
            _(
                "Threads could not prepare this post: %(detail)s. Edit the post (text, "
                "images) to fix it, then publish it again."
            )
            % {"detail": message or _("no details")},
            detail=message,
            request=self.label("GET", container_id),
        )

    def publish_container(self, index, text, part, reply_to, save):
        path = f"{self.user_id}/threads_publish"
        label = self.label("POST", path)
        try:
            result = self.call(
                "POST", path, form={"creation_id": part["container"]}, creates_post=True
            )
            if result.status != 200:
                # Even a 5xx is safe to retry: the next attempt reads the container first.
                raise graph_error(result, SERVICE, label)
            data = result.json()
            if not isinstance(data, dict) or not data.get("id"):
                raise bad_answer(result, SERVICE, label, creates_post=True)
        except PublishError as error:
            if error.kind != ErrorKind.UNKNOWN:
                raise
            self.settle_lost_answer(error, index, text, part, reply_to, save)
            return
        part["media_id"] = str(data["id"])
        save()

    def settle_lost_answer(self, lost, index, text, part, reply_to, save):
        """The answer to threads_publish was lost: the container tells at once whether the
        part went out. PUBLISHED and listed: its media id is saved and the thread goes on
        (a reconciler could not finish a half-published thread). A thread part not
        published (or not listed yet) is retried later, which reads the container again
        before anything else. Otherwise the outcome stays unknown, for the reconciler."""
        try:
            status, _message = self.container_status(part["container"])
            found = None
            if status == PUBLISHED:
                since = parse_time(part.get("created_at"))
                found = self.locate(index, text, reply_to, since=since)
        except PublishError:
            raise lost from None
        if found is not None:
            part["media_id"] = found["id"]
            save()
            return
        if index == 0 or status not in (PUBLISHED, FINISHED, IN_PROGRESS):
            raise lost
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "part_unconfirmed",
            _(
                "Threads did not confirm part %(part)s of the thread. Tribu will check the "
                "part on Threads before trying again, so it is never published twice."
            )
            % {"part": index + 1},
            retry_after=LISTING_RETRY,
            detail=lost.detail,
            request=lost.request,
        )

    def permalink(self, media_id):
        """The post's address; "" when it cannot be read (the post exists all the same)."""
        try:
            data = self.get(media_id, fields="permalink")
        except PublishError:
            return ""
        return str(data.get("permalink") or "")

    # --- finding -----------------------------------------------------------------------
    def locate(self, index, text, reply_to, *, since=None, required=False):
        """The published media of part `index`: the post among the account's latest threads,
        a thread part among the replies to the previous part (ours, same text). None when
        it is not there; with `required` (its container says PUBLISHED) that is a
        retry_later, since it is on Threads and must not be published again."""
        cutoff = since - FIND_SLACK if since is not None else None
        if index == 0:
            path = f"{self.user_id}/threads"
            items = self.listing(path, fields=LIST_FIELDS, limit=LIST_LIMIT)
        else:
            path = f"{reply_to}/replies"
            items = self.listing(path, fields=REPLY_FIELDS, limit=REPLIES_LIMIT)
        matches = []
        for item in items:
            if not item.get("id"):
                continue
            if not same_text(item.get("text"), text):
                continue
            if index and self.username and item.get("username") not in (None, self.username):
                continue
            moment = parse_time(item.get("timestamp"))
            if cutoff is not None and moment is not None and moment < cutoff:
                continue
            matches.append((moment or cutoff or now(), item))
        if matches:
            _moment, item = min(matches, key=lambda match: match[0])
            return {"id": str(item["id"]), "permalink": str(item.get("permalink") or "")}
        if not required:
            return None
        message = (
            _(
                "Threads says this post is published but does not list it yet. Tribu will "
                "look again in a few minutes; it will not publish it twice."
            )
            if index == 0
            else _(
                "Threads says part %(part)s of this thread is published but does not list it "
                "yet. Tribu will look again in a few minutes; it will not publish it twice."
            )
        )
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "not_listed_yet",
            message % {"part": index + 1},
            retry_after=LISTING_RETRY,
            request=self.label("GET", path),
        )

    def find(self, content, *, stage, since):
        """Read the containers the stage holds: PUBLISHED means the part is on Threads (its
        media id comes from the listings). Without any container, the account's latest
        threads are compared by text. A part whose container was never published is not on
        Threads: NotFound, unless earlier parts of the thread are (CannotTell)."""
        self.log = []
        stage = stage or {}
        texts = [content.text or ""] + [
            str(part) for part in content.thread or [] if str(part or "").strip()
        ]
        parts = [part for part in stage.get("parts") or [] if isinstance(part, dict)]
        by_stage = any(part.get("container") or part.get("media_id") for part in parts)
        url = str(stage.get("url") or "")
        found = []
        try:
            for index, text in enumerate(texts):
                part = parts[index] if index < len(parts) else {}
                reply_to = found[-1] if found else None
                media_id = part.get("media_id")
                hit = None
                if not media_id and part.get("container"):
                    status, _message = self.container_status(part["container"])
                    if status in (PUBLISHED, None):
                        hit = self.locate(
                            index,
                            text,
                            reply_to,
                            since=parse_time(part.get("created_at")) or since,
                            required=status == PUBLISHED,
                        )
                elif not media_id and not by_stage and (index == 0 or reply_to):
                    hit = self.locate(index, text, reply_to, since=since)
                if hit is not None:
                    media_id = hit["id"]
                    if index == 0:
                        url = url or hit["permalink"]
                if not media_id:
                    break
                found.append(str(media_id))
            if found and len(found) == len(texts) and not url:
                url = self.permalink(found[0])
        except PublishError as error:
            error.requests = list(self.log)
            raise
        if len(found) == len(texts):
            return Published(remote_id=found[0], url=url, requests=list(self.log))
        if not found:
            return NotFound(requests=list(self.log))
        return CannotTell(
            reason=_(
                "The first %(found)s of the %(total)s parts of this thread are on Threads, but "
                "not the rest. Post the missing parts there as replies, then mark the post as "
                "published."
            )
            % {"found": len(found), "total": len(texts)},
            requests=list(self.log),
        )
