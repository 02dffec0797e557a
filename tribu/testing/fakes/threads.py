"""Contract fake of Meta's Threads API (graph.threads.net, and the threads.net sign-in page),
built from docs/networks.md §7 and Meta's Graph API conventions.

- OAuth: `GET /oauth/authorize` (the signed-in user approves at once: 302 to the redirect
  URI with `code` and `state`, and Meta's trailing `#_`; `error=access_denied` when
  `deny_next` is set), `POST /oauth/access_token` (client id and secret, code, redirect URI;
  a code works once, for an hour) → a short-lived token (one hour) and the user id;
  `GET /access_token?grant_type=th_exchange_token` → a long-lived token (60 days);
  `GET /refresh_access_token?grant_type=th_refresh_token` → a new 60-day token, only for a
  long-lived token at least a day old and not expired. No PKCE.
- `GET /{version}/me` and `GET /{version}/{id}` (a profile, a container's status, a post's
  fields), with Graph's `fields` parameter checked against each node's fields.
- `POST /{version}/{user-id}/threads`: a container. TEXT (`text`), IMAGE (`image_url`, which
  the fake really downloads over HTTP, as Meta does, then checks: JPEG or PNG, 8 MB at most;
  `alt_text`), CAROUSEL (`children`: 2 to 20 finished IMAGE containers made with
  `is_carousel_item=true`), `reply_to_id` (a published post). Text over 500 characters,
  counted as Threads does (an emoji counts its UTF-8 bytes), is refused.
- `GET /{version}/{container-id}?fields=status,error_message`: IN_PROGRESS for
  `processing_polls` reads, then FINISHED (or ERROR with `container_error`'s words);
  EXPIRED 24 hours after creation (`advance()` moves the fake's clock); PUBLISHED once
  published.
- `POST /{version}/{user-id}/threads_publish?creation_id=`: publishes a FINISHED container
  once and answers the media id; a second publish of the same container is refused, as are
  containers not ready, in error or expired, and anything past the quota.
- `GET /{version}/{user-id}/threads` (the profile's posts, newest first, cursor paging),
  `GET /{version}/{media-id}/replies`, `GET /{version}/{user-id}/threads_publishing_limit`
  (250 posts and 1,000 replies per rolling 24 hours, `quota_total`/`reply_quota_total`).

Errors have Graph's shape: {"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}, HTTP 400 for what the caller did wrong (Graph's habit), 500/503 for Meta's
own trouble. A dead token answers code 190 (subcode 463 expired, 460 invalidated); a
throttled call code 4 with X-App-Usage (and X-Business-Use-Case-Usage from `throttle()`);
a restricted account (`restricted`) subcode 2207051. Where Meta's docs say nothing, the
fake borrows Instagram's container errors (9007/2207027 not ready, 9004/2207052 media
download failed, 9/2207042 quota), marked unverified in docs/networks.md.

State is shared by the server's threads, so each read-modify-write holds the lock; image
downloads happen outside it. `posts_with_text()`, `duplicates()` and `stats()` (also served
at `GET /_fake/stats`) count what was really published.
"""

import base64
import collections
import hashlib
import io
import itertools
import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import regex
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from .server import FakeServer

TOKEN = "threads-long-lived-token"  # noqa: S105 (the fake's default long-lived token)
USER_ID = "25811234567890123"
USERNAME = "tribu.lumiere"
CLIENT_ID = "990011223344556"
CLIENT_SECRET = "threads-app-secret"  # noqa: S105
VERSION = "v1.0"
SCOPES = frozenset(
    (
        "threads_basic",
        "threads_content_publish",
        "threads_manage_replies",
        "threads_read_replies",
        "threads_manage_insights",
        "threads_manage_mentions",
        "threads_keyword_search",
        "threads_delete",
    )
)
DEFAULT_SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
)
SHORT_LIFETIME = timedelta(hours=1)
LONG_LIFETIME_SECONDS = 5_183_944  # what Meta answers: a little under 60 days
CODE_LIFETIME = timedelta(hours=1)
CONTAINER_LIFETIME = timedelta(hours=24)
REFRESH_MIN_AGE = timedelta(hours=24)
QUOTA_WINDOW = timedelta(hours=24)
MAX_TEXT = 500
MAX_ALT_TEXT = 1000
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_CHILDREN = 20
IMAGE_TYPES = {"image/jpeg", "image/png"}

USER_FIELDS = {"id", "username", "name", "threads_profile_picture_url", "threads_biography"}
CONTAINER_FIELDS = {"id", "status", "error_message"}
MEDIA_FIELDS = {
    "id",
    "media_product_type",
    "media_type",
    "media_url",
    "permalink",
    "owner",
    "username",
    "text",
    "timestamp",
    "shortcode",
    "is_quote_post",
    "alt_text",
    "children",
    "is_reply",
    "replied_to",
    "root_post",
    "has_replies",
}
LIMIT_FIELDS = {"quota_usage", "config", "reply_quota_usage", "reply_config"}

GRAPHEME = regex.compile(r"\X")
PICTOGRAPH = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3\ufe0f]")
SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def threads_count(text):
    """Threads' own count: an emoji counts its UTF-8 byte length, anything else one per
    code point (bare © and ® are text). Written apart from tribu.publishing.text so the
    fake checks the client instead of agreeing with it by construction."""
    total = 0
    for cluster in GRAPHEME.findall(text):
        emoji = any(char not in "\u00a9\u00ae" and PICTOGRAPH.match(char) for char in cluster) or (
            cluster[0] in "\u00a9\u00ae" and "\ufe0f" in cluster
        )
        total += len(cluster.encode("utf-8", "surrogatepass")) if emoji else len(cluster)
    return total


def meta_time(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def image_size(data):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


class ThreadsFake(FakeServer):
    network = "threads"

    def __init__(
        self,
        *,
        user_id=USER_ID,
        username=USERNAME,
        token=TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        version=VERSION,
    ):
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.version = version
        self.redirect_uris = None  # None: any redirect URI is registered
        self.deny_next = False  # the next authorization is refused by the user
        self.processing_polls = 0  # status reads a new container stays IN_PROGRESS
        self.container_error = None  # the next container ends in ERROR with these words
        self.restricted = False  # the account may not publish (subcode 2207051)
        self.quota_total = 250
        self.reply_quota_total = 1000
        self.fetch_timeout = 10.0
        self._ids = itertools.count(18_060_000_000_000_000)
        self._offset = timedelta()
        self.users = {}  # id -> profile
        self.tokens = {}  # token -> {"user_id", "kind", "issued_at", "expires_at", "scopes"}
        self.revoked = set()
        self.codes = {}  # code -> {"redirect_uri", "scopes", "user_id", "at", "used"}
        self.containers = {}  # id -> container (see create_container)
        self.media = []  # published posts and replies, oldest first
        self.fetches = []  # every image download: {"url", "ok", "status", "sha256", "size"}
        self.user = self.add_user(user_id, username, name="Maison Lumière")
        self.add_token(token)

    def rules(self):
        return [
            Rule("/oauth/authorize", endpoint="authorize", methods=["GET"]),
            Rule("/oauth/access_token", endpoint="access_token", methods=["POST"]),
            Rule("/access_token", endpoint="exchange_token", methods=["GET"]),
            Rule("/refresh_access_token", endpoint="refresh_token", methods=["GET"]),
            Rule("/<version>/me", endpoint="me", methods=["GET"]),
            Rule("/<version>/<owner>/threads", endpoint="create_container", methods=["POST"]),
            Rule("/<version>/<owner>/threads", endpoint="list_threads", methods=["GET"]),
            Rule("/<version>/<owner>/threads_publish", endpoint="publish", methods=["POST"]),
            Rule(
                "/<version>/<owner>/threads_publishing_limit",
                endpoint="publishing_limit",
                methods=["GET"],
            ),
            Rule("/<version>/<media_id>/replies", endpoint="replies", methods=["GET"]),
            Rule("/<version>/<object_id>", endpoint="read_object", methods=["GET"]),
        ]

    # --- errors ----------------------------------------------------------------------
    STATUS_ERRORS = {
        400: (100, None, "(#100) Invalid parameter"),
        401: (190, None, "Invalid OAuth access token - Cannot parse access token"),
        403: (10, None, "(#10) Application does not have permission for this action"),
        404: (
            100,
            33,
            "Unsupported request. Object does not exist, cannot be loaded due to missing "
            "permissions, or does not support this operation",
        ),
        405: (100, None, "Unsupported method"),
        429: (4, None, "(#4) Application request limit reached"),
        500: (1, None, "An unknown error has occurred."),
        502: (2, None, "(#2) Service temporarily unavailable"),
        503: (2, None, "(#2) Service temporarily unavailable"),
    }

    def error_body(self, status, message, *, code=None, subcode=None, kind="OAuthException"):
        default_code, default_subcode, default_message = self.STATUS_ERRORS.get(
            status, (1, None, "An unknown error has occurred.")
        )
        if code is None:
            code, subcode, message = default_code, default_subcode, default_message
        error = {"message": message, "type": kind, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
        return {"error": error}

    def error(self, status, message, headers=None):
        """Faults (fail(429) …) and plain errors: Graph's body, and usage headers on a
        throttled answer as Meta sends them."""
        headers = dict(headers or {})
        if status == 429:
            headers.setdefault(
                "X-App-Usage", json.dumps({"call_count": 100, "total_cputime": 12, "total_time": 9})
            )
        return self.json(self.error_body(status, message), status=status, headers=headers)

    def graph_error(self, message, code, subcode=None, *, status=400, kind="OAuthException"):
        body = self.error_body(status, message, code=code, subcode=subcode, kind=kind)
        return self.json(body, status=status)

    def missing_object(self, object_id, method="get"):
        return self.graph_error(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot "
            "be loaded due to missing permissions, or does not support this operation.",
            100,
            33,
            kind="GraphMethodException",
        )

    def throttle(self, *, minutes=5, times=1, path=None):
        """The next call(s) answer code 4 with Meta's usage headers, which say how long to
        wait (`estimated_time_to_regain_access`, in minutes)."""
        usage = {
            self.user["id"]: [
                {
                    "type": "threads",
                    "call_count": 100,
                    "total_cputime": 40,
                    "total_time": 60,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        body = self.error_body(400, "(#4) Application request limit reached", code=4)
        self.respond_raw(
            json.dumps(body).encode(),
            status=400,
            times=times,
            path=path,
            headers={
                "X-Business-Use-Case-Usage": json.dumps(usage),
                "X-App-Usage": json.dumps(
                    {"call_count": 100, "total_cputime": 40, "total_time": 60}
                ),
            },
        )

    # --- clock and ids ---------------------------------------------------------------
    def now(self):
        return datetime.now(UTC) + self._offset

    def advance(self, seconds):
        """Move the fake's clock (tokens and containers expire, the quota window slides)."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def next_id(self):
        return str(next(self._ids))

    # --- users and tokens ------------------------------------------------------------
    def add_user(self, user_id, username, *, name=None):
        user = {
            "id": str(user_id),
            "username": username,
            "name": name if name is not None else username,
            "threads_profile_picture_url": f"https://scontent.cdninstagram.com/{username}.jpg",
            "threads_biography": "",
        }
        self.users[user["id"]] = user
        return user

    def add_token(self, token, *, user=None, kind="long", scopes=DEFAULT_SCOPES, issued_at=None):
        issued = issued_at or self.now()
        lifetime = SHORT_LIFETIME if kind == "short" else timedelta(seconds=LONG_LIFETIME_SECONDS)
        self.tokens[token] = {
            "user_id": (user or self.user)["id"],
            "kind": kind,
            "issued_at": issued,
            "expires_at": issued + lifetime,
            "scopes": set(scopes),
        }
        return token

    def revoke(self, token):
        with self._lock:
            self.revoked.add(token)

    def token_problem(self, token):
        """None when `token` is usable, else the error answer."""
        record = self.tokens.get(token or "")
        if record is None:
            return self.graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if token in self.revoked:
            return self.graph_error(
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Meta has changed the session for security "
                "reasons.",
                190,
                460,
            )
        if record["expires_at"] <= self.now():
            expired = record["expires_at"].strftime("%A, %d-%b-%y %H:%M:%S")
            current = self.now().strftime("%A, %d-%b-%y %H:%M:%S")
            return self.graph_error(
                f"Error validating access token: Session has expired on {expired} UTC. The "
                f"current time is {current} UTC.",
                190,
                463,
            )
        return None

    def params(self, request):
        """Graph takes parameters in the query string or the form body, alike."""
        values = {key: request.args.get(key) for key in request.args}
        values.update({key: request.form.get(key) for key in request.form})
        return values

    def auth(self, request, version, *scopes):
        """(token record, None) or (None, the error answer)."""
        if version != self.version:
            return None, self.graph_error(f"Unknown path components: /{version}", 2500)
        token = self.bearer(request) or self.params(request).get("access_token")
        if not token:
            return None, self.graph_error(
                "An active access token must be used to query information about the current user.",
                2500,
            )
        problem = self.token_problem(token)
        if problem is not None:
            return None, problem
        record = self.tokens[token]
        missing = [scope for scope in scopes if scope not in record["scopes"]]
        if missing:
            return None, self.graph_error(
                f"(#10) Application does not have permission for this action ({missing[0]})", 10
            )
        return record, None

    def owner_of(self, record, owner):
        """The user `owner` names in a path ("me" or the token's own id), else None."""
        if owner in ("me", record["user_id"]):
            return self.users[record["user_id"]]
        return None

    def fields(self, request, allowed, node):
        """The requested fields, or an error answer for one the node does not have."""
        raw = self.params(request).get("fields") or "id"
        wanted = [field.strip() for field in raw.split(",") if field.strip()]
        for field in wanted:
            if field not in allowed:
                return None, self.graph_error(
                    f"(#100) Tried accessing nonexisting field ({field}) on node type ({node})",
                    100,
                )
        return wanted, None

    # --- for tests and benchmarks ----------------------------------------------------
    def posts_with_text(self, text):
        with self._lock:
            return [media for media in self.media if media["text"] == text]

    def roots(self):
        with self._lock:
            return [media for media in self.media if media["reply_to"] is None]

    def duplicates(self):
        """The same text (and images) published twice by one account in the same place:
        what an exactly-once publisher must never cause."""
        with self._lock:
            counts = collections.Counter(
                (
                    media["user_id"],
                    media["text"],
                    tuple(image["sha256"] for image in media["images"]),
                    media["reply_to"],
                )
                for media in self.media
            )
        return sorted(key[1] for key, count in counts.items() if count > 1)

    def stats(self):
        with self._lock:
            posts = len(self.media)
            replies = sum(1 for media in self.media if media["reply_to"])
            containers = len(self.containers)
        return {
            "posts": posts,
            "replies": replies,
            "containers": containers,
            "duplicates": self.duplicates(),
        }

    def container_requests(self):
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/threads")]

    def publish_requests(self):
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/threads_publish")
        ]

    def expire(self, container_id):
        """Age one container past its 24 hours."""
        with self._lock:
            self.containers[container_id]["created_at"] -= CONTAINER_LIFETIME + timedelta(seconds=1)

    def new_container(self, text="", *, status="FINISHED"):
        """A TEXT container made outside the client (an earlier attempt's, for tests)."""
        with self._lock:
            pending_error, self.container_error = self.container_error, None
            container = self._container(self.user["id"], {"media_type": "TEXT", "text": text})
            self.container_error = pending_error
            container["polls_left"] = 10**6 if status == "IN_PROGRESS" else 0
            container["error_message"] = "UNKNOWN" if status == "ERROR" else None
            return container["id"]

    def add_reply(self, media_id, username, text):
        """Someone else (or us) replies to a post."""
        with self._lock:
            return self._publish_media(
                {"media_type": "TEXT", "text": text, "reply_to": media_id, "images": []},
                {"id": self.next_id(), "username": username},
                container_id=None,
            )

    # --- OAuth -----------------------------------------------------------------------
    def authorize(self, request):
        """The signed-in user approves at once (or refuses, with `deny_next`)."""
        args = request.args
        if args.get("client_id") != self.client_id:
            return self.graph_error("Invalid App ID: the app is not known.", 101)
        redirect_uri = args.get("redirect_uri") or ""
        if not redirect_uri.startswith(("http://", "https://")) or (
            self.redirect_uris is not None and redirect_uri not in self.redirect_uris
        ):
            return self.graph_error(
                "URL blocked: This redirect failed because the redirect URI is not whitelisted "
                "in the app's Client OAuth Settings.",
                191,
            )
        if args.get("response_type") != "code":
            return self.graph_error("Invalid response_type: use code.", 100)
        scopes = [scope for scope in regex.split(r"[,\s]+", args.get("scope") or "") if scope]
        unknown = [scope for scope in scopes if scope not in SCOPES]
        if unknown or "threads_basic" not in scopes:
            return self.graph_error(
                f"Invalid Scopes: {', '.join(unknown) or 'threads_basic is required'}", 100
            )
        query = {}
        if self.deny_next:
            self.deny_next = False
            query = {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "Permissions error",
            }
        else:
            code = secrets.token_urlsafe(24)
            with self._lock:
                self.codes[code] = {
                    "redirect_uri": redirect_uri,
                    "scopes": scopes,
                    "user_id": self.user["id"],
                    "at": self.now(),
                    "used": False,
                }
            query["code"] = code
        if args.get("state"):
            query["state"] = args["state"]
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urlencode(query) + "#_"
        return Response(status=302, headers={"Location": location})

    def access_token(self, request):
        data = self.params(request)
        if data.get("client_id") != self.client_id:
            return self.graph_error("Error validating application. Invalid application ID.", 101)
        if data.get("client_secret") != self.client_secret:
            return self.graph_error("Error validating client secret.", 1)
        if data.get("grant_type") != "authorization_code":
            return self.graph_error("Unsupported grant_type.", 100)
        with self._lock:
            grant = self.codes.get(data.get("code") or "")
            if grant is None:
                return self.graph_error("Invalid verification code format.", 100, 36007)
            if grant["used"]:
                return self.graph_error("This authorization code has been used.", 100, 36009)
            if self.now() - grant["at"] > CODE_LIFETIME:
                return self.graph_error("This authorization code has expired.", 100, 36007)
            if grant["redirect_uri"] != data.get("redirect_uri"):
                return self.graph_error(
                    "Error validating verification code. Please make sure your redirect_uri is "
                    "identical to the one you used in the OAuth dialog request",
                    100,
                    36008,
                )
            grant["used"] = True
            token = "TH" + secrets.token_urlsafe(32)
            self.add_token(
                token, user=self.users[grant["user_id"]], kind="short", scopes=grant["scopes"]
            )
        return self.json({"access_token": token, "user_id": int(grant["user_id"])})

    def exchange_token(self, request):
        data = self.params(request)
        if data.get("grant_type") != "th_exchange_token":
            return self.graph_error("Unsupported grant_type.", 100)
        if data.get("client_secret") != self.client_secret:
            return self.graph_error("Error validating client secret.", 1)
        short = data.get("access_token") or ""
        problem = self.token_problem(short)
        if problem is not None:
            return problem
        with self._lock:
            record = self.tokens[short]
            if record["kind"] != "short":
                return self.graph_error("Only short-lived tokens can be exchanged.", 100)
            token = "THL" + secrets.token_urlsafe(40)
            self.add_token(
                token, user=self.users[record["user_id"]], kind="long", scopes=record["scopes"]
            )
        return self.json(
            {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIFETIME_SECONDS}
        )

    def refresh_token(self, request):
        data = self.params(request)
        if data.get("grant_type") != "th_refresh_token":
            return self.graph_error("Unsupported grant_type.", 100)
        old = data.get("access_token") or ""
        problem = self.token_problem(old)
        if problem is not None:
            return problem
        with self._lock:
            record = self.tokens[old]
            if record["kind"] != "long":
                return self.graph_error("Only long-lived tokens can be refreshed.", 100)
            if self.now() - record["issued_at"] < REFRESH_MIN_AGE:
                return self.graph_error(
                    "The access token must be at least 24 hours old to be refreshed.", 100
                )
            token = "THL" + secrets.token_urlsafe(40)
            self.add_token(
                token, user=self.users[record["user_id"]], kind="long", scopes=record["scopes"]
            )
        return self.json(
            {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIFETIME_SECONDS}
        )

    # --- reading -----------------------------------------------------------------------
    def me(self, request, version):
        record, refused = self.auth(request, version, "threads_basic")
        if refused:
            return refused
        wanted, bad = self.fields(request, USER_FIELDS, "ThreadsUser")
        if bad:
            return bad
        user = self.users[record["user_id"]]
        return self.json({field: user[field] for field in ["id", *wanted]})

    def read_object(self, request, version, object_id):
        record, refused = self.auth(request, version, "threads_basic")
        if refused:
            return refused
        if object_id in self.users:
            if object_id != record["user_id"]:
                return self.missing_object(object_id)
            wanted, bad = self.fields(request, USER_FIELDS, "ThreadsUser")
            if bad:
                return bad
            user = self.users[object_id]
            return self.json({field: user[field] for field in ["id", *wanted]})
        with self._lock:
            container = self.containers.get(object_id)
            if container is not None:
                if container["user_id"] != record["user_id"]:
                    return self.missing_object(object_id)
                wanted, bad = self.fields(request, CONTAINER_FIELDS, "ThreadsMediaContainer")
                if bad:
                    return bad
                status = self.status_of(container, polled="status" in wanted)
                body = {"id": container["id"]}
                if "status" in wanted:
                    body["status"] = status
                if "error_message" in wanted and status == "ERROR":
                    body["error_message"] = container["error_message"]
                return self.json(body)
            media = self.find_media(object_id)
            if media is None:
                return self.missing_object(object_id)
            wanted, bad = self.fields(request, MEDIA_FIELDS, "ThreadsMedia")
            if bad:
                return bad
            return self.json(self.media_json(media, wanted))

    def find_media(self, media_id):
        return next((media for media in self.media if media["id"] == media_id), None)

    def media_json(self, media, wanted):
        values = {
            "id": media["id"],
            "media_product_type": "THREADS",
            "media_type": media["media_type"],
            "permalink": media["permalink"],
            "owner": {"id": media["user_id"]},
            "username": media["username"],
            "text": media["text"],
            "timestamp": meta_time(media["timestamp"]),
            "shortcode": media["shortcode"],
            "is_quote_post": False,
            "is_reply": media["reply_to"] is not None,
            "has_replies": any(other["reply_to"] == media["id"] for other in self.media),
        }
        if media["images"]:
            values["media_url"] = f"https://scontent.cdninstagram.com/{media['id']}.jpg"
        if media["alt_text"]:
            values["alt_text"] = media["alt_text"]
        if media["children"]:
            values["children"] = {"data": [{"id": child} for child in media["children"]]}
        if media["reply_to"]:
            values["replied_to"] = {"id": media["reply_to"]}
            values["root_post"] = {"id": media["root"]}
        return {field: values[field] for field in ["id", *wanted] if field in values}

    def page(self, request, items, wanted):
        """Graph's cursor paging over `items` (already ordered)."""
        params = self.params(request)
        try:
            limit = min(max(int(params.get("limit") or 25), 1), 100)
        except ValueError:
            return self.graph_error("(#100) Param limit must be an integer", 100)
        start = 0
        if params.get("after"):
            try:
                start = int(base64.urlsafe_b64decode(params["after"].encode()).decode())
            except (ValueError, UnicodeDecodeError):
                return self.graph_error("(#100) Invalid cursor", 100)
        chunk = items[start : start + limit]
        body = {"data": [self.media_json(media, wanted) for media in chunk]}
        if chunk:
            cursor = base64.urlsafe_b64encode(str(start + len(chunk)).encode()).decode()
            body["paging"] = {
                "cursors": {
                    "before": base64.urlsafe_b64encode(str(start).encode()).decode(),
                    "after": cursor,
                }
            }
            if start + len(chunk) < len(items):
                query = {key: value for key, value in params.items() if key != "access_token"}
                query["after"] = cursor
                body["paging"]["next"] = f"{self.base_url}{request.path}?{urlencode(query)}"
        return self.json(body)

    def list_threads(self, request, version, owner):
        record, refused = self.auth(request, version, "threads_basic")
        if refused:
            return refused
        user = self.owner_of(record, owner)
        if user is None:
            return self.missing_object(owner)
        wanted, bad = self.fields(request, MEDIA_FIELDS, "ThreadsMedia")
        if bad:
            return bad
        with self._lock:
            own = [
                media
                for media in self.media
                if media["user_id"] == user["id"] and media["reply_to"] is None
            ]
            return self.page(request, own[::-1], wanted)

    def replies(self, request, version, media_id):
        record, refused = self.auth(request, version, "threads_basic", "threads_read_replies")
        if refused:
            return refused
        wanted, bad = self.fields(request, MEDIA_FIELDS, "ThreadsMedia")
        if bad:
            return bad
        with self._lock:
            if self.find_media(media_id) is None:
                return self.missing_object(media_id)
            found = [media for media in self.media if media["reply_to"] == media_id]
            if self.params(request).get("reverse", "true") != "false":
                found = found[::-1]
            return self.page(request, found, wanted)

    def publishing_limit(self, request, version, owner):
        record, refused = self.auth(request, version, "threads_basic")
        if refused:
            return refused
        user = self.owner_of(record, owner)
        if user is None:
            return self.missing_object(owner)
        wanted, bad = self.fields(request, LIMIT_FIELDS, "ThreadsPublishingLimit")
        if bad:
            return bad
        with self._lock:
            posts, replies = self.usage(user["id"])
        duration = int(QUOTA_WINDOW.total_seconds())
        values = {
            "quota_usage": posts,
            "config": {"quota_total": self.quota_total, "quota_duration": duration},
            "reply_quota_usage": replies,
            "reply_config": {"quota_total": self.reply_quota_total, "quota_duration": duration},
        }
        return self.json({"data": [{field: values[field] for field in wanted if field in values}]})

    def usage(self, user_id):
        """(posts, replies) published by the user in the rolling window. Holds the lock."""
        since = self.now() - QUOTA_WINDOW
        recent = [m for m in self.media if m["user_id"] == user_id and m["timestamp"] > since]
        replies = sum(1 for media in recent if media["reply_to"])
        return len(recent) - replies, replies

    # --- containers --------------------------------------------------------------------
    def status_of(self, container, *, polled=False):
        """A container's status now; a status read counts as one processing poll. Holds
        the lock."""
        if container["media_id"]:
            return "PUBLISHED"
        if self.now() - container["created_at"] > CONTAINER_LIFETIME:
            return "EXPIRED"
        if container["polls_left"] > 0:
            if polled:
                container["polls_left"] -= 1
            return "IN_PROGRESS"
        if container["error_message"]:
            return "ERROR"
        return "FINISHED"

    def _container(self, user_id, params, image=None):
        container = {
            "id": self.next_id(),
            "user_id": user_id,
            "media_type": params["media_type"],
            "text": params.get("text") or "",
            "image_url": params.get("image_url") or "",
            "alt_text": params.get("alt_text") or "",
            "is_carousel_item": params.get("is_carousel_item") == "true",
            "children": [c for c in (params.get("children") or "").split(",") if c],
            "reply_to_id": params.get("reply_to_id") or None,
            "image": image,
            "polls_left": self.processing_polls,
            "error_message": self.container_error,
            "created_at": self.now(),
            "media_id": None,
            "parent": None,
        }
        self.container_error = None
        self.containers[container["id"]] = container
        return container

    def fetch(self, url):
        """Download an image as Meta does: (info, None) or (None, why)."""
        request = urllib.request.Request(  # noqa: S310 (any URL, as Meta's fetcher)
            url, headers={"User-Agent": "facebookexternalhit/1.1"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.fetch_timeout) as answer:  # noqa: S310
                status = answer.status
                content_type = answer.headers.get_content_type()
                data = answer.read(MAX_IMAGE_BYTES + 1)
        except urllib.error.HTTPError as error:
            self.fetches.append({"url": url, "ok": False, "status": error.code})
            return None, f"HTTP {error.code}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            self.fetches.append({"url": url, "ok": False, "status": None})
            return None, str(getattr(error, "reason", error))
        info = {
            "url": url,
            "ok": True,
            "status": status,
            "content_type": content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        self.fetches.append(info)
        if len(data) > MAX_IMAGE_BYTES:
            return None, "too_large"
        if content_type not in IMAGE_TYPES or image_size(data) is None:
            return None, "format"
        info["width"], info["height"] = image_size(data)
        return info, None

    def create_container(self, request, version, owner):
        record, refused = self.auth(request, version, "threads_basic", "threads_content_publish")
        if refused:
            return refused
        user = self.owner_of(record, owner)
        if user is None:
            return self.missing_object(owner, "post")
        if self.restricted:
            return self.graph_error(
                "This account is restricted: it can't publish right now.", 10, 2207051
            )
        params = self.params(request)
        media_type = params.get("media_type") or ""
        if media_type not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return self.graph_error(
                "(#100) Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}", 100
            )
        text = params.get("text") or ""
        if threads_count(text) > MAX_TEXT:
            return self.graph_error(
                f"(#100) Param text must be at most {MAX_TEXT} characters long.", 100
            )
        if media_type == "TEXT" and not text.strip():
            return self.graph_error("(#100) Param text is required for TEXT posts.", 100)
        if media_type == "VIDEO":
            return self.graph_error("(#100) This fake does not publish videos.", 100)
        if len(params.get("alt_text") or "") > MAX_ALT_TEXT:
            return self.graph_error(
                f"(#100) Param alt_text must be at most {MAX_ALT_TEXT} characters long.", 100
            )
        if params.get("reply_to_id"):
            if "threads_manage_replies" not in record["scopes"]:
                return self.graph_error(
                    "(#10) Application does not have permission for this action "
                    "(threads_manage_replies)",
                    10,
                )
            with self._lock:
                if self.find_media(params["reply_to_id"]) is None:
                    return self.graph_error("(#100) Param reply_to_id is not a valid post.", 100)
        image = None
        if media_type == "IMAGE":
            url = params.get("image_url") or ""
            if not url:
                return self.graph_error("(#100) Param image_url is required for IMAGE posts.", 100)
            image, problem = self.fetch(url)  # outside the lock: Tribu answers meanwhile
            if problem == "format":
                return self.graph_error(
                    "(#100) The image format is not supported: use JPEG or PNG.", 100
                )
            if problem == "too_large":
                return self.graph_error("(#100) The image is larger than 8 MB.", 100)
            if problem:
                return self.graph_error(
                    f"The media could not be fetched from this URI: {url} ({problem})",
                    9004,
                    2207052,
                )
        with self._lock:
            if media_type == "CAROUSEL":
                refusal = self.check_children(params, user["id"])
                if refusal is not None:
                    return refusal
            container = self._container(user["id"], params, image)
            for child in container["children"]:
                self.containers[child]["parent"] = container["id"]
        return self.json({"id": container["id"]})

    def check_children(self, params, user_id):
        """A carousel's children, as Meta checks them. Holds the lock."""
        children = [child for child in (params.get("children") or "").split(",") if child]
        if not 2 <= len(children) <= MAX_CHILDREN:
            return self.graph_error(
                f"(#100) A carousel needs between 2 and {MAX_CHILDREN} children.", 100
            )
        for child_id in children:
            child = self.containers.get(child_id)
            if child is None or child["user_id"] != user_id or not child["is_carousel_item"]:
                return self.graph_error(f"(#100) Param children: {child_id} is not valid.", 100)
            if child["parent"]:
                return self.graph_error(
                    f"(#100) Param children: {child_id} is already in a carousel.", 100
                )
            status = self.status_of(child)
            if status == "IN_PROGRESS":
                return self.graph_error("Media ID is not available", 9007, 2207027)
            if status != "FINISHED":
                return self.graph_error(
                    f"(#100) Param children: {child_id} is {status.lower()}.", 100
                )
        return None

    def publish(self, request, version, owner):
        record, refused = self.auth(request, version, "threads_basic", "threads_content_publish")
        if refused:
            return refused
        user = self.owner_of(record, owner)
        if user is None:
            return self.missing_object(owner, "post")
        creation_id = self.params(request).get("creation_id") or ""
        if not creation_id:
            return self.graph_error("(#100) The parameter creation_id is required", 100)
        if self.restricted:
            return self.graph_error(
                "This account is restricted: it can't publish right now.", 10, 2207051
            )
        with self._lock:
            container = self.containers.get(creation_id)
            if container is None or container["user_id"] != user["id"]:
                return self.missing_object(creation_id, "post")
            if container["is_carousel_item"]:
                return self.graph_error("(#100) A carousel item cannot be published alone.", 100)
            status = self.status_of(container)
            if status == "PUBLISHED":
                return self.graph_error(
                    "(#100) This media container has already been published.", 100, 4279009
                )
            if status == "IN_PROGRESS":
                return self.graph_error("Media ID is not available", 9007, 2207027)
            if status == "EXPIRED":
                return self.graph_error(
                    "(#100) The media container has expired: create a new one.", 100
                )
            if status == "ERROR":
                return self.graph_error(
                    f"(#100) The media container has an error: {container['error_message']}",
                    100,
                )
            posts, replies = self.usage(user["id"])
            if container["reply_to_id"] is None and posts >= self.quota_total:
                return self.graph_error(
                    "You reached the maximum number of posts that can be published through the "
                    "API in 24 hours.",
                    9,
                    2207042,
                )
            if container["reply_to_id"] is not None and replies >= self.reply_quota_total:
                return self.graph_error(
                    "You reached the maximum number of replies that can be published through "
                    "the API in 24 hours.",
                    9,
                    2207042,
                )
            children = [self.containers[child] for child in container["children"]]
            images = [child["image"] for child in children] or (
                [container["image"]] if container["image"] else []
            )
            parent = self.find_media(container["reply_to_id"]) if container["reply_to_id"] else None
            media = self._publish_media(
                {
                    "media_type": "CAROUSEL_ALBUM" if children else container["media_type"],
                    "text": container["text"],
                    "reply_to": container["reply_to_id"],
                    "root": parent["root"] if parent else None,
                    "images": images,
                    "alt_text": container["alt_text"],
                    "alt_texts": [child["alt_text"] for child in children],
                    "children": [self.next_id() for _child in children],
                },
                user,
                container_id=container["id"],
            )
            container["media_id"] = media["id"]
        return self.json({"id": media["id"]})

    def _publish_media(self, values, user, *, container_id):
        """Store a published post. Holds the lock."""
        media_id = self.next_id()
        shortcode = "".join(secrets.choice(SHORTCODE_ALPHABET) for _ in range(11))
        media = {
            "media_type": "TEXT",
            "alt_text": "",
            "alt_texts": [],
            "children": [],
            "images": [],
            "root": None,
            **values,
            "id": media_id,
            "user_id": user["id"],
            "username": user["username"],
            "container": container_id,
            "timestamp": self.now(),
            "shortcode": shortcode,
            "permalink": f"https://www.threads.net/@{user['username']}/post/{shortcode}",
        }
        if media["reply_to"] and media["root"] is None:
            media["root"] = media["reply_to"]
        if not media["reply_to"]:
            media["root"] = None
        self.media.append(media)
        return media
