"""Contract fake of X's API v2 (write side), built from docs/networks.md section 6.

- OAuth 2.0 with PKCE: `GET /i/oauth2/authorize` (the signed-in user approves at once and is
  redirected with a code and the state; `deny_next` answers error=access_denied), `POST
  /2/oauth2/token` (form-encoded; a confidential client authenticates with HTTP Basic; the
  code lives 30 seconds, works once, and its S256 challenge must match the verifier).
  `grant_type=refresh_token` rotates: the refresh token used is dead afterwards, and a dead
  one answers 400 {"error": "invalid_request", …}. Access tokens live 2 hours
  (`access_ttl`; `advance()` moves the fake's clock, `expire_access_tokens()` ends them).
- `GET /2/users/me`, `GET /2/users/{id}/tweets` (newest first; max_results 5–100,
  since_id, until_id, start_time, end_time, exclude, tweet.fields, pagination_token).
- `POST /2/media/upload` (multipart `media` + `media_category`), `GET /2/media/upload?
  command=STATUS&media_id=` while `processing_polls` is set (`check_after_secs` in
  `processing_info`), `POST /2/media/metadata` (alt text, 1,000 characters at most). Media
  ids expire after `expires_after_secs` (`media_ttl`).
- `POST /2/tweets` (JSON): the weighted 280-character count of twitter-text
  (tribu.publishing.text), 1–4 ready media ids of the author, replies to an existing post.
  The same text as one of the account's tweets is refused with X's 403 "duplicate content"
  (`refuse_duplicates`, within `duplicate_window` seconds when set). An over-long text is
  refused with 403 "You are not permitted to perform this action." (reported behaviour,
  networks.md "Gotchas"). Answers 201 {"data": {"id", "text"}}; the stored `text` is what X
  serves: URLs replaced by t.co links, "&", "<" and ">" escaped, a t.co link to the media.

No idempotency (X has none). Every answer carries `x-rate-limit-limit`, `-remaining` and
`-reset` (epoch seconds) for its endpoint and user; a window that runs out answers 429 with
X's problem body. Errors use X's shapes: problem+json {"title", "detail", "type", "status"},
{"errors": [{"message", "parameters"}], "title", "detail", "type"} for invalid requests, and
{"error", "error_description"} on the token endpoint. `cap_usage()` makes every call answer
429 usage-capped (the developer account's credits are spent), `read_only_app = True` makes
writes answer the 403 of an app without "Read and write" permission, `suspend()` the 403 of
a suspended account.

`stats()` (also `GET /_fake/stats`): {"posts", "duplicates", "refused_duplicates"}. The
weighted count imports tribu.publishing.text, so Django must be set up (as in tests).
"""

import base64
import hashlib
import html
import io
import itertools
import json
import math
import re
import secrets
import time
import unicodedata
from datetime import UTC, datetime
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from .server import FakeServer

TOKEN = "x-access-token"  # noqa: S105 (the fake's default access token)
REFRESH_TOKEN = "x-refresh-token"  # noqa: S105
CLIENT_ID = "x-fake-client-id"
CLIENT_SECRET = "x-fake-client-secret"  # noqa: S105
USER_ID = "1580661436132757506"
USERNAME = "tribu_fr"
SCOPES = frozenset(
    (
        "tweet.read",
        "tweet.write",
        "tweet.moderate.write",
        "users.read",
        "users.email",
        "follows.read",
        "follows.write",
        "offline.access",
        "space.read",
        "mute.read",
        "mute.write",
        "like.read",
        "like.write",
        "list.read",
        "list.write",
        "block.read",
        "block.write",
        "bookmark.read",
        "bookmark.write",
        "dm.read",
        "dm.write",
        "media.write",
    )
)
DEFAULT_SCOPES = "tweet.read tweet.write users.read media.write offline.access"
ACCESS_TTL = 7200  # seconds: X's access tokens live two hours
CODE_TTL = 30  # seconds to exchange an authorization code
MEDIA_TTL = 86400  # expires_after_secs of an uploaded image
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_ALT = 1000
PROBLEMS = "https://api.twitter.com/2/problems/"
USAGE_CAPPED = "https://api.x.com/2/problems/usage-capped"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
NOT_PERMITTED = "You are not permitted to perform this action."
SUSPENDED = "Your account is suspended and is not permitted to access this feature."
READ_ONLY = (
    "Your client app is not configured with the appropriate oauth1 app permissions for this "
    "endpoint."
)
TWEET_KEYS = frozenset(
    (
        "text",
        "media",
        "reply",
        "quote_tweet_id",
        "poll",
        "reply_settings",
        "community_id",
        "made_with_ai",
        "paid_partnership",
        "edit_options",
        "for_super_followers_only",
        "direct_message_deep_link",
        "geo",
        "nullcast",
        "card_uri",
        "share_with_followers",
    )
)
TWEET_FIELDS = frozenset(
    (
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    )
)
USER_FIELDS = frozenset(
    (
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    )
)
IMAGE_TYPES = frozenset(("image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"))
MEDIA_CATEGORIES = frozenset(("tweet_image", "tweet_gif", "tweet_video", "dm_image", "subtitles"))
# Per-user windows of 15 minutes (networks.md "Rate limits and pricing").
WINDOW = 900
RATE_LIMITS = {
    "create_tweet": 100,
    "users_me": 75,
    "user_tweets": 900,
    "upload_media": 1875,
    "media_status": 1875,
    "media_metadata": 500,
    "token": 1000,
}
T_CO = re.compile(r"https://t\.co/\w+")


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def iso(seconds):
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value):
    """An RFC 3339 time of a query (YYYY-MM-DDTHH:mm:ssZ) as epoch seconds, else None."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


def weighted_length(text):
    from tribu.publishing.text import x_weighted_length

    return x_weighted_length(text)


def url_spans(text):
    from tribu.publishing.text import find_urls

    return find_urls(text, bare_domains=True)


def same_text(text):
    """The form X compares for duplicates: NFC, outer spaces trimmed."""
    return unicodedata.normalize("NFC", text).strip()


class XFake(FakeServer):
    network = "x"

    def __init__(
        self,
        *,
        user_id=USER_ID,
        username=USERNAME,
        name="Tribu",
        token=TOKEN,
        refresh_token=REFRESH_TOKEN,
        scopes=DEFAULT_SCOPES,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        max_characters=280,
        access_ttl=ACCESS_TTL,
        media_ttl=MEDIA_TTL,
    ):
        super().__init__()
        self.max_characters = max_characters
        self.access_ttl = access_ttl
        self.media_ttl = media_ttl
        self.code_ttl = CODE_TTL
        # Uploads answer `processing_info` and STATUS polls answer "in_progress" this many
        # times; `processing_fails` ends the processing in "failed" instead.
        self.processing_polls = 0
        self.processing_fails = False
        self.check_after_secs = 1
        self.refuse_duplicates = True
        self.duplicate_window = None  # seconds; None: every tweet of the account
        self.deny_next = False  # the next authorization is refused by the user
        self.read_only_app = False  # the app lacks "Read and write" permission
        self.usage_capped = False
        self.rate_limits = dict(RATE_LIMITS)
        self.refused_duplicates = 0
        self._offset = 0.0  # seconds added to the real clock by advance()
        self._ids = itertools.count(1_880_000_000_000_000_000 + secrets.randbelow(10**12))
        self._windows = {}  # (endpoint, identity) -> [count, reset epoch]
        self.apps = {client_id: client_secret}
        self.users = {}  # id -> {"id", "name", "username", "profile_image_url", ...}
        self.suspended = set()
        self.tokens = {}  # access token -> {"user_id", "scopes", "expires_at", "client_id"}
        self.refresh_tokens = {}  # refresh token -> {"user_id", "scopes", "client_id"}
        self.used_refresh_tokens = set()
        self.revoked = set()
        self.codes = {}  # code -> {"client_id", "redirect_uri", "scopes", "challenge", ...}
        self.media = {}  # id -> {"user_id", "uploaded_at", "polls_left", "state", "alt", ...}
        self.tweets = []  # oldest first
        self.user = self.add_user(user_id, username, name)
        self.add_token(token, user_id=user_id, scopes=scopes, client_id=client_id)
        if refresh_token:
            self.refresh_tokens[refresh_token] = {
                "user_id": user_id,
                "scopes": frozenset(scopes.split()),
                "client_id": client_id,
            }

    def rules(self):
        return [
            Rule("/i/oauth2/authorize", endpoint="authorize", methods=["GET"]),
            Rule("/2/oauth2/token", endpoint="token", methods=["POST"]),
            Rule("/2/users/me", endpoint="users_me", methods=["GET"]),
            Rule("/2/users/<user_id>/tweets", endpoint="user_tweets", methods=["GET"]),
            Rule("/2/media/upload", endpoint="upload_media", methods=["POST"]),
            Rule("/2/media/upload", endpoint="media_status", methods=["GET"]),
            Rule("/2/media/metadata", endpoint="media_metadata", methods=["POST"]),
            Rule("/2/tweets", endpoint="create_tweet", methods=["POST"]),
        ]

    # --- X's error shapes ----------------------------------------------------------------
    def status_message(self, status):
        return {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            405: "Method Not Allowed",
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }.get(status, "Error")

    def error_body(self, status, message):
        """problem+json, as X answers most errors (401: {"title": "Unauthorized", …})."""
        return {
            "title": self.status_message(status),
            "detail": message,
            "type": "about:blank",
            "status": status,
        }

    def problem(self, status, detail, *, title=None, type_="about:blank", **extra):
        body = {
            "title": title or self.status_message(status),
            "detail": detail,
            "type": type_,
            "status": status,
            **extra,
        }
        return self.json(body, status=status, headers={"Content-Type": "application/problem+json"})

    def invalid(self, message, parameter=None, value=None):
        """400 with X's "invalid request" body and the parameter at fault."""
        error = {"message": message}
        if parameter:
            error["parameters"] = {parameter: [] if value is None else [str(value)]}
        return self.json(
            {
                "errors": [error],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": PROBLEMS + "invalid-request",
            },
            status=400,
        )

    def oauth_error(self, status, error, description):
        return self.json({"error": error, "error_description": description}, status=status)

    # --- clock, users, tokens (for tests) --------------------------------------------
    def now(self):
        return time.time() + self._offset

    def advance(self, seconds):
        """Move the fake's clock: tokens, codes and media ids expire."""
        with self._lock:
            self._offset += seconds

    def next_id(self):
        return str(next(self._ids))

    def add_user(self, user_id, username, name=""):
        user = {
            "id": str(user_id),
            "name": name or username,
            "username": username,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/avatar_normal.jpg",
            "created_at": "2022-10-14T08:00:00.000Z",
            "protected": False,
        }
        with self._lock:
            self.users[user["id"]] = user
        return user

    def add_token(
        self, token, *, user_id=None, scopes=DEFAULT_SCOPES, client_id=CLIENT_ID, ttl=None
    ):
        with self._lock:
            self.tokens[token] = {
                "user_id": str(user_id or self.user["id"]),
                "scopes": frozenset(scopes.split()),
                "expires_at": self.now() + (self.access_ttl if ttl is None else ttl),
                "client_id": client_id,
            }

    def revoke(self, token):
        with self._lock:
            self.revoked.add(token)

    def expire_access_tokens(self):
        with self._lock:
            for record in self.tokens.values():
                record["expires_at"] = self.now() - 1

    def suspend(self, user_id=None):
        with self._lock:
            self.suspended.add(str(user_id or self.user["id"]))

    def cap_usage(self, capped=True):
        """The developer account's credits are spent: every call answers usage-capped."""
        self.usage_capped = capped

    # --- data (for tests and benchmarks) ---------------------------------------------
    def posts_with_text(self, text):
        with self._lock:
            return [tweet for tweet in self.tweets if tweet["source_text"] == text]

    def tweet(self, tweet_id):
        with self._lock:
            return next((tweet for tweet in self.tweets if tweet["id"] == tweet_id), None)

    def duplicates(self):
        """Texts posted more than once by the same account (the same reply parent apart)."""
        groups = {}
        with self._lock:
            for tweet in self.tweets:
                if not tweet["source_text"].strip():
                    continue
                key = (tweet["author_id"], same_text(tweet["source_text"]), tweet["in_reply_to"])
                groups.setdefault(key, []).append(tweet["id"])
        return [text for (_author, text, _parent), ids in groups.items() if len(ids) > 1]

    def stats(self):
        return {
            "posts": len(self.tweets),
            "duplicates": self.duplicates(),
            "refused_duplicates": self.refused_duplicates,
        }

    def add_tweet(self, text, *, user_id=None, seconds_ago=0):
        """A post made on X outside Tribu's requests (by hand, or by an attempt whose answer
        was lost), `seconds_ago` in the past."""
        with self._lock:
            tweet_id = self.next_id()
            tweet = {
                "id": tweet_id,
                "text": self.display_text(text, with_media=False),
                "source_text": text,
                "author_id": str(user_id or self.user["id"]),
                "created": self.now() - seconds_ago,
                "in_reply_to": None,
                "conversation_id": tweet_id,
                "media_keys": [],
                "media_ids": [],
                "alt_texts": [],
                "note_tweet": None,
            }
            self.tweets.append(tweet)
        return tweet

    def requests_to(self, path, method=None):
        return [
            request
            for request in self.requests
            if request.path == path and (method is None or request.method == method)
        ]

    # --- rate limits on every answer -----------------------------------------------------
    def dispatch(self, request, fault=None):
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, _values = adapter.match()
        except Exception:  # noqa: BLE001 - unknown routes are answered by the base class
            endpoint = None
        limit = self.rate_limits.get(endpoint)
        window = None
        if limit is not None:
            identity = self.identity(request)
            with self._lock:
                now = self.now()
                window = self._windows.get((endpoint, identity))
                if window is None or window[1] <= now:
                    window = [0, int(now) + WINDOW]
                    self._windows[(endpoint, identity)] = window
                window[0] += 1
        if fault is None and self.usage_capped and endpoint not in (None, "authorize"):
            response = self.problem(
                429,
                "Usage cap exceeded: Monthly product cap",
                title="UsageCapExceeded",
                type_=USAGE_CAPPED,
                period="Monthly",
                scope="Product",
            )
        elif fault is None and window is not None and window[0] > limit:
            response = self.problem(429, "Too Many Requests")
        else:
            response = super().dispatch(request, fault)
        if window is not None and isinstance(response, Response):
            remaining = 0 if response.status_code == 429 else max(0, limit - window[0])
            for name, value in (
                ("x-rate-limit-limit", limit),
                ("x-rate-limit-remaining", remaining),
                ("x-rate-limit-reset", window[1]),
            ):
                if name not in response.headers:
                    response.headers[name] = str(value)
        return response

    def identity(self, request):
        token = self.bearer(request)
        record = self.tokens.get(token) if token else None
        return record["user_id"] if record else "app"

    # --- authentication ----------------------------------------------------------------
    def authenticate(self, request, *scopes, write=False):
        """(user, None) for a live user token holding `scopes`, else (None, answer)."""
        token = self.bearer(request)
        with self._lock:
            record = self.tokens.get(token) if token else None
            if record is None or token in self.revoked or record["expires_at"] <= self.now():
                return None, self.problem(401, "Unauthorized")
            user = self.users[record["user_id"]]
            missing = [scope for scope in scopes if scope not in record["scopes"]]
            suspended = user["id"] in self.suspended
        if suspended:
            return None, self.problem(403, SUSPENDED)
        if write and self.read_only_app:
            return None, self.problem(
                403, READ_ONLY, type_=PROBLEMS + "oauth1-permissions", required_enrollment=None
            )
        if missing:
            return None, self.problem(403, NOT_PERMITTED)
        return user, None

    # --- OAuth ---------------------------------------------------------------------------
    def authorize(self, request):
        args = request.args
        client_id = args.get("client_id", "")
        redirect_uri = args.get("redirect_uri", "")
        if client_id not in self.apps or not redirect_uri.startswith(("http://", "https://")):
            message = (
                "Something went wrong. You weren't able to give access to the App. Go back "
                "and try logging in again."
            )
            return self.json({"error": message}, status=400)
        scopes = args.get("scope", "").split()
        method = args.get("code_challenge_method", "plain")
        problems = []
        if args.get("response_type") != "code":
            problems.append("response_type")
        if not scopes or any(scope not in SCOPES for scope in scopes):
            problems.append("scope")
        if not args.get("state"):
            problems.append("state")
        if not args.get("code_challenge") or method not in ("S256", "plain"):
            problems.append("code_challenge")
        state = args.get("state", "")
        if problems:
            query = {"error": "invalid_request", "error_description": ", ".join(problems)}
            return self.redirect(redirect_uri, {**query, "state": state})
        if self.deny_next:
            self.deny_next = False
            return self.redirect(redirect_uri, {"error": "access_denied", "state": state})
        code = secrets.token_urlsafe(32)
        with self._lock:
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scopes": frozenset(scopes),
                "challenge": args["code_challenge"],
                "method": method,
                "user_id": self.user["id"],
                "issued_at": self.now(),
                "used": False,
            }
        return self.redirect(redirect_uri, {"state": state, "code": code})

    def redirect(self, redirect_uri, query):
        separator = "&" if "?" in redirect_uri else "?"
        return Response(
            status=302, headers={"Location": redirect_uri + separator + urlencode(query)}
        )

    def client_credentials(self, request, form):
        """(client_id, None) when the client authenticated, else (None, answer). A
        confidential client sends HTTP Basic; a public client only its client_id."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                raw = base64.b64decode(header[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                raw = ""
            client_id, _sep, secret = raw.partition(":")
            if self.apps.get(client_id) is None or self.apps[client_id] != secret:
                return None, self.oauth_error(
                    401, "unauthorized_client", "Missing valid authorization header"
                )
            return client_id, None
        client_id = form.get("client_id", "")
        if client_id in self.apps and not self.apps[client_id]:
            return client_id, None  # a public client
        return None, self.oauth_error(
            401, "unauthorized_client", "Missing valid authorization header"
        )

    def token(self, request):
        if not (request.mimetype or "").startswith("application/x-www-form-urlencoded"):
            return self.oauth_error(
                400, "invalid_request", "Missing required parameter [grant_type]."
            )
        form = request.form
        client_id, refused = self.client_credentials(request, form)
        if refused:
            return refused
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self.token_from_code(form, client_id)
        if grant_type == "refresh_token":
            return self.token_from_refresh(form, client_id)
        return self.oauth_error(400, "unsupported_grant_type", "Grant type is not supported.")

    def token_from_code(self, form, client_id):
        invalid = self.oauth_error(
            400, "invalid_request", "Value passed for the authorization code was invalid."
        )
        for name in ("code", "redirect_uri", "code_verifier"):
            if not form.get(name):
                return self.oauth_error(
                    400, "invalid_request", f"Missing required parameter [{name}]."
                )
        with self._lock:
            code = self.codes.get(form["code"])
            if code is None or code["used"] or code["client_id"] != client_id:
                return invalid
            code["used"] = True
            if self.now() - code["issued_at"] > self.code_ttl:
                return invalid
            if code["redirect_uri"] != form["redirect_uri"]:
                return invalid
            verifier = form["code_verifier"]
            expected = s256(verifier) if code["method"] == "S256" else verifier
            if expected != code["challenge"]:
                return invalid
            return self.json(self.issue(code["user_id"], code["scopes"], client_id))

    def token_from_refresh(self, form, client_id):
        refresh_token = form.get("refresh_token", "")
        with self._lock:
            record = self.refresh_tokens.get(refresh_token)
            if record is None or record["client_id"] != client_id:
                return self.oauth_error(
                    400, "invalid_request", "Value passed for the token was invalid."
                )
            # Rotation: this refresh token is spent.
            del self.refresh_tokens[refresh_token]
            self.used_refresh_tokens.add(refresh_token)
            return self.json(self.issue(record["user_id"], record["scopes"], client_id))

    def issue(self, user_id, scopes, client_id):
        """New tokens (holds the lock)."""
        access = secrets.token_urlsafe(48)
        self.tokens[access] = {
            "user_id": user_id,
            "scopes": frozenset(scopes),
            "expires_at": self.now() + self.access_ttl,
            "client_id": client_id,
        }
        answer = {
            "token_type": "bearer",
            "expires_in": self.access_ttl,
            "access_token": access,
            "scope": " ".join(sorted(scopes)),
        }
        if "offline.access" in scopes:
            refresh = secrets.token_urlsafe(48)
            self.refresh_tokens[refresh] = {
                "user_id": user_id,
                "scopes": frozenset(scopes),
                "client_id": client_id,
            }
            answer["refresh_token"] = refresh
        return answer

    # --- users -----------------------------------------------------------------------
    def fields(self, request, name, allowed):
        """The requested fields, or an error answer for an unknown one."""
        raw = request.args.get(name)
        if raw is None:
            return set(), None
        values = set(raw.split(","))
        unknown = sorted(values - allowed)
        if unknown:
            return None, self.invalid(
                f"The `{name}` query parameter value [{unknown[0]}] is not one of "
                f"[{','.join(sorted(allowed))}]",
                name,
                unknown[0],
            )
        return values, None

    def users_me(self, request):
        user, refused = self.authenticate(request, "users.read", "tweet.read")
        if refused:
            return refused
        fields, bad = self.fields(request, "user.fields", USER_FIELDS)
        if bad:
            return bad
        data = {"id": user["id"], "name": user["name"], "username": user["username"]}
        for name in fields:
            if name in user:
                data[name] = user[name]
        return self.json({"data": data})

    def user_tweets(self, request, user_id):
        _user, refused = self.authenticate(request, "tweet.read", "users.read")
        if refused:
            return refused
        if user_id not in self.users:
            return self.json(
                {
                    "errors": [
                        {
                            "value": user_id,
                            "detail": f"Could not find user with id: [{user_id}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "id",
                            "resource_id": user_id,
                            "type": PROBLEMS + "resource-not-found",
                        }
                    ]
                }
            )
        fields, bad = self.fields(request, "tweet.fields", TWEET_FIELDS)
        if bad:
            return bad
        args = request.args
        try:
            max_results = int(args.get("max_results", 10))
        except ValueError:
            max_results = 0
        if not 5 <= max_results <= 100:
            return self.invalid(
                f"The `max_results` query parameter value [{args.get('max_results')}] is not "
                "between 5 and 100",
                "max_results",
                args.get("max_results"),
            )
        bounds = {}
        for name in ("start_time", "end_time"):
            if name in args:
                bounds[name] = parse_time(args[name])
                if bounds[name] is None:
                    return self.invalid(
                        f"Invalid '{name}':'{args[name]}'. '{name}' must be a date in the "
                        "format YYYY-MM-DDTHH:mm:ssZ",
                        name,
                        args[name],
                    )
        for name in ("since_id", "until_id"):
            if name in args and not args[name].isdigit():
                return self.invalid(
                    f"The `{name}` query parameter value [{args[name]}] does not match "
                    "^[0-9]{1,19}$",
                    name,
                    args[name],
                )
        excluded = set(filter(None, args.get("exclude", "").split(",")))
        if excluded - {"retweets", "replies"}:
            return self.invalid("The `exclude` query parameter value is not valid", "exclude")
        with self._lock:
            tweets = [tweet for tweet in self.tweets if tweet["author_id"] == user_id]
        tweets.sort(key=lambda tweet: int(tweet["id"]), reverse=True)
        if "replies" in excluded:
            tweets = [tweet for tweet in tweets if tweet["in_reply_to"] is None]
        if "since_id" in args:
            tweets = [tweet for tweet in tweets if int(tweet["id"]) > int(args["since_id"])]
        if "until_id" in args:
            tweets = [tweet for tweet in tweets if int(tweet["id"]) < int(args["until_id"])]
        if "start_time" in bounds:
            tweets = [tweet for tweet in tweets if tweet["created"] >= bounds["start_time"]]
        if "end_time" in bounds:
            tweets = [tweet for tweet in tweets if tweet["created"] < bounds["end_time"]]
        token = args.get("pagination_token")
        if token:
            tweets = [tweet for tweet in tweets if int(tweet["id"]) < int(token, 16)]
        page = tweets[:max_results]
        meta = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
        if len(tweets) > max_results:
            meta["next_token"] = format(int(page[-1]["id"]), "x")
        answer = {"meta": meta}
        if page:
            answer["data"] = [self.render(tweet, fields) for tweet in page]
        return self.json(answer)

    def render(self, tweet, fields):
        data = {
            "id": tweet["id"],
            "text": tweet["text"],
            "edit_history_tweet_ids": [tweet["id"]],
        }
        if "created_at" in fields:
            data["created_at"] = iso(tweet["created"])
        if "author_id" in fields:
            data["author_id"] = tweet["author_id"]
        if "conversation_id" in fields:
            data["conversation_id"] = tweet["conversation_id"]
        if "referenced_tweets" in fields and tweet["in_reply_to"]:
            data["referenced_tweets"] = [{"type": "replied_to", "id": tweet["in_reply_to"]}]
        if "attachments" in fields and tweet["media_keys"]:
            data["attachments"] = {"media_keys": list(tweet["media_keys"])}
        if "note_tweet" in fields and tweet.get("note_tweet"):
            data["note_tweet"] = {"text": tweet["note_tweet"]}
        return data

    # --- media -----------------------------------------------------------------------
    def media_record(self, media_id, *, status=False):
        media = self.media[media_id]
        data = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "expires_after_secs": max(
                0, math.ceil(media["uploaded_at"] + self.media_ttl - self.now())
            ),
        }
        if not status:
            data["size"] = media["size"]
            data["image"] = {"image_type": media["content_type"], "w": media["w"], "h": media["h"]}
        if media["state"] != "ready" or status:
            info = {"state": media["state"] if media["state"] != "ready" else "succeeded"}
            if media["state"] in ("pending", "in_progress"):
                info["check_after_secs"] = self.check_after_secs
                info["progress_percent"] = 0 if media["state"] == "pending" else 50
            if media["state"] == "failed":
                info["error"] = {
                    "code": 1,
                    "name": "InvalidMedia",
                    "message": "Unsupported image format",
                }
            else:
                info.setdefault("progress_percent", 100)
            data["processing_info"] = info
        return data

    def upload_media(self, request):
        user, refused = self.authenticate(request, "media.write", write=True)
        if refused:
            return refused
        upload = request.files.get("media")
        if upload is None:
            if request.form.get("media_data") is None:
                return self.invalid("The `media` field is required", "media")
            return self.invalid("Only multipart uploads are supported by this fake", "media_data")
        category = request.form.get("media_category")
        if category not in MEDIA_CATEGORIES:
            return self.invalid(
                f"The `media_category` value [{category}] is not one of "
                f"[{','.join(sorted(MEDIA_CATEGORIES))}]",
                "media_category",
                category,
            )
        data = upload.read()
        if not data:
            return self.invalid("The `media` field is required", "media")
        if len(data) > MAX_IMAGE_BYTES:
            return self.invalid(
                f"Image file size must be <= {MAX_IMAGE_BYTES} bytes", "media", len(data)
            )
        media_type = request.form.get("media_type") or upload.mimetype
        size = image_size(data)
        if size is None or media_type not in IMAGE_TYPES:
            return self.invalid("Unsupported media type or invalid media file", "media_type")
        with self._lock:
            media_id = self.next_id()
            self.media[media_id] = {
                "user_id": user["id"],
                "uploaded_at": self.now(),
                "polls_left": self.processing_polls,
                "state": "pending" if self.processing_polls else "ready",
                "fails": self.processing_fails,
                "alt": "",
                "size": len(data),
                "content_type": media_type,
                "filename": upload.filename,
                "category": category,
                "sha256": hashlib.sha256(data).hexdigest(),
                "w": size[0],
                "h": size[1],
                "tweet_id": None,
            }
            answer = self.media_record(media_id)
        return self.json({"data": answer})

    def media_status(self, request):
        user, refused = self.authenticate(request, "media.write")
        if refused:
            return refused
        if request.args.get("command") != "STATUS":
            return self.invalid("The `command` query parameter must be STATUS", "command")
        media_id = request.args.get("media_id", "")
        with self._lock:
            media = self.media.get(media_id)
            if media is None or media["user_id"] != user["id"] or self.expired(media):
                return self.invalid("Invalid media_id", "media_id", media_id)
            if media["state"] in ("pending", "in_progress"):
                if media["polls_left"] > 0:
                    media["polls_left"] -= 1
                    media["state"] = "in_progress"
                else:
                    media["state"] = "failed" if media["fails"] else "ready"
            answer = self.media_record(media_id, status=True)
        return self.json({"data": answer})

    def media_metadata(self, request):
        user, refused = self.authenticate(request, "media.write", write=True)
        if refused:
            return refused
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return self.invalid("The `id` field is required", "id")
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if not isinstance(alt, str):
            return self.invalid("The `metadata.alt_text.text` field is required", "metadata")
        if len(alt) > MAX_ALT:
            return self.invalid(
                f"The alt text must be at most {MAX_ALT} characters", "metadata.alt_text.text"
            )
        with self._lock:
            media = self.media.get(body["id"])
            if media is None or media["user_id"] != user["id"] or self.expired(media):
                return self.invalid("Invalid media id", "id", body["id"])
            media["alt"] = alt
        return self.json(
            {"data": {"id": body["id"], "associated_metadata": {"alt_text": {"text": alt}}}}
        )

    def expired(self, media):
        return self.now() - media["uploaded_at"] > self.media_ttl

    # --- tweets ----------------------------------------------------------------------
    def create_tweet(self, request):
        user, refused = self.authenticate(
            request, "tweet.write", "tweet.read", "users.read", write=True
        )
        if refused:
            return refused
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not (request.mimetype or "").endswith("json"):
            return self.invalid("Request body must be a JSON object", "body")
        unknown = sorted(set(body) - TWEET_KEYS)
        if unknown:
            return self.invalid(f"The `{unknown[0]}` field is not allowed", unknown[0])
        text = body.get("text", "")
        if not isinstance(text, str):
            return self.invalid("The `text` field must be a string", "text")
        media_ids = (body.get("media") or {}).get("media_ids") if "media" in body else None
        if media_ids is not None and (
            not isinstance(media_ids, list)
            or not 1 <= len(media_ids) <= 4
            or not all(isinstance(value, str) and value.isdigit() for value in media_ids)
        ):
            return self.invalid(
                "The `media.media_ids` field must hold 1 to 4 media ids (strings)",
                "media.media_ids",
            )
        if not text.strip() and not media_ids:
            return self.invalid("Tweet text or media is required", "text")
        if weighted_length(text) > self.max_characters:
            return self.problem(403, NOT_PERMITTED)
        reply = body.get("reply")
        parent_id = None
        if reply is not None:
            parent_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
            if not isinstance(parent_id, str) or not parent_id.isdigit():
                return self.invalid(
                    "The `reply.in_reply_to_tweet_id` field must be a tweet id",
                    "reply.in_reply_to_tweet_id",
                )
        with self._lock:
            media = []
            for media_id in media_ids or []:
                item = self.media.get(media_id)
                if (
                    item is None
                    or item["user_id"] != user["id"]
                    or self.expired(item)
                    or item["state"] != "ready"
                    or item["tweet_id"]
                ):
                    return self.invalid("Your media IDs are invalid.", "media.media_ids", media_id)
                media.append((media_id, item))
            parent = None
            if parent_id is not None:
                parent = next((t for t in self.tweets if t["id"] == parent_id), None)
                if parent is None:
                    return self.problem(
                        403,
                        "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    )
            if self.refuse_duplicates and text.strip() and self.is_duplicate(user["id"], text):
                self.refused_duplicates += 1
                return self.problem(403, DUPLICATE)
            tweet_id = self.next_id()
            for _media_id, item in media:
                item["tweet_id"] = tweet_id
            shown = self.display_text(text, with_media=bool(media))
            tweet = {
                "id": tweet_id,
                "text": shown,
                "source_text": text,
                "author_id": user["id"],
                "created": self.now(),
                "in_reply_to": parent_id,
                "conversation_id": parent["conversation_id"] if parent else tweet_id,
                "media_keys": [f"3_{media_id}" for media_id, _item in media],
                "media_ids": [media_id for media_id, _item in media],
                "alt_texts": [item["alt"] for _media_id, item in media],
                "note_tweet": None,
            }
            if weighted_length(text) > 280:
                tweet["note_tweet"] = shown
                tweet["text"] = shown[:275] + "…"
            self.tweets.append(tweet)
        return self.json(
            {"data": {"id": tweet_id, "text": tweet["text"], "edit_history_tweet_ids": [tweet_id]}},
            status=201,
        )

    def is_duplicate(self, user_id, text):
        """Holds the lock."""
        wanted = same_text(text)
        now = self.now()
        return any(
            tweet["author_id"] == user_id
            and same_text(tweet["source_text"]) == wanted
            and (self.duplicate_window is None or now - tweet["created"] < self.duplicate_window)
            for tweet in self.tweets
        )

    def display_text(self, text, *, with_media):
        """The text as X serves it: NFC, URLs as t.co links, &, < and > escaped, and a t.co
        link to the media at the end."""
        text = unicodedata.normalize("NFC", text)
        pieces, last = [], 0
        for start, end in url_spans(text):
            pieces.append(html.escape(text[last:start], quote=False))
            pieces.append("https://t.co/" + secrets.token_urlsafe(7).replace("-", "a"))
            last = end
        pieces.append(html.escape(text[last:], quote=False))
        shown = "".join(pieces)
        if with_media:
            link = "https://t.co/" + secrets.token_urlsafe(7).replace("-", "b")
            shown = f"{shown} {link}" if shown else link
        return shown


def image_size(data):
    """(width, height) when `data` is an image Pillow can read, else None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
