"""Contract fake of Meta's Graph API for Facebook Pages and Instagram professional accounts
(docs/networks.md §4, §5): one server plays the Facebook Login dialog, the token endpoint
and the Graph API, every path under a version (`/v24.0/…`).

- Facebook Login: `GET /{v}/dialog/oauth` (the signed-in user approves at once: 302 to
  `redirect_uri?code=…&state=…#_=_`, or `error=access_denied` when `deny_next` is set);
  `GET /{v}/oauth/access_token` trades a code (client id and secret, redirect URI, single
  use) for a short-lived user token, and `grant_type=fb_exchange_token` a user token for a
  long-lived one (60 days).
- `GET /{v}/me` (`metadata=1` names the node type: "user" or "page"), `GET /{v}/me/accounts`
  (the user's Pages with their Page tokens, tasks, picture and linked Instagram account,
  paginated with `paging.next`). A Page token derived from a long-lived user token never
  expires; one from a short-lived user token dies with it.
- Facebook: `POST /{page}/feed` (`message`, `link`, `attached_media`), `POST /{page}/photos`
  (multipart `source`, `published`, `message`, `alt_text_custom`), `GET /{page}/published_posts`,
  `GET /{post}?fields=permalink_url`, `POST /{post}/comments`. Posting needs the **Page
  token** of that Page with `pages_manage_posts` and `pages_read_engagement`: a user token is
  refused with (#200), as on the real network. The same message twice on a Page within an hour
  is refused with (#506) "Duplicate status message". Nothing else makes a repeat impossible.
- Instagram: `POST /{ig}/media` **downloads** `image_url` over HTTP (a failure answers
  9004/2207052 "Only photo or video can be accepted as media type"; JPEG only, aspect ratio
  4:5 to 1.91:1, 8 MB), carousels (`is_carousel_item`, `media_type=CAROUSEL`, `children`, 2 to
  10 FINISHED items); `GET /{container}?fields=status_code,status` answers IN_PROGRESS for
  `container_polls` reads, then FINISHED (or ERROR, see `fail_processing()`), EXPIRED after
  24 hours (`advance()`), PUBLISHED once published; `POST /{ig}/media_publish` publishes a
  FINISHED container once: a second time (or an expired container) is refused as Meta does
  ("The media builder … does not exist or has been expired", 100/2207008), so a duplicate
  is impossible; too early: 9007/2207027; over `quota_total` posts in 24 hours:
  9/2207042. `GET /{ig}/content_publishing_limit`, `GET /{ig}/media`, `GET /{media}`,
  `POST /{media}/comments` (needs `instagram_manage_comments`).

Errors have the Graph's shape ({"error": {"message", "type", "code", "error_subcode",
"fbtrace_id", …}}): dead tokens 190 (463 expired, 460 password changed, 458 app removed),
missing permission 10/200, unknown objects 100/33. `throttle()` answers Meta's throttling
(32 Page, 80001 Page BUC, 80002 Instagram BUC, 4 app) with `X-Business-Use-Case-Usage`
carrying `estimated_time_to_regain_access`. Faults from FakeServer (`fail(500)`, …) answer in
the same shape. `stats()` counts posts (Facebook posts and Instagram media) and duplicates.
"""

import base64
import collections
import hashlib
import io
import itertools
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from .server import FakeServer

VERSION = "v24.0"
APP_ID = "1234567890123456"
APP_SECRET = "fake-meta-app-secret"  # noqa: S105 (the fake's app secret)
USER_ID = "10160000000000001"
USER_TOKEN = "meta-user-token"  # noqa: S105 (long-lived user token of the default user)
PAGE_ID = "101000000000001"
PAGE_NAME = "Acme"
PAGE_TOKEN = "meta-page-token"  # noqa: S105 (the default Page's token, never expires)
IG_ID = "17841400000000001"
IG_USERNAME = "acme"
ALL_TASKS = ("ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE")
SCOPES = frozenset(
    {
        "public_profile",
        "pages_show_list",
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_manage_engagement",
        "business_management",
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_comments",
    }
)
SHORT_LIVED = timedelta(hours=1, minutes=30)
LONG_LIVED_SECONDS = 5_183_944  # what Meta answers for a 60-day token
CONTAINER_LIFETIME = timedelta(hours=24)
DUPLICATE_WINDOW = timedelta(hours=1)
MAX_CAPTION = 2200
MAX_MESSAGE = 63206
MAX_IG_IMAGE = 8 * 1024 * 1024
MAX_FB_PHOTO = 4 * 1024 * 1024
VERSION_RE = re.compile(r"^v\d+\.\d+$")
FIELD_RE = re.compile(r"([A-Za-z_]+)(\{[^{}]*\})?")


def graph_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_fields(value):
    """ "id,name,ig{id,username}" → {"id": None, "name": None, "ig": ["id", "username"]}."""
    fields = {}
    for match in FIELD_RE.finditer(value or ""):
        sub = match.group(2)
        fields[match.group(1)] = [f for f in sub[1:-1].split(",") if f] if sub else None
    return fields


class MetaGraphFake(FakeServer):
    network = "meta"

    def __init__(self, *, version=VERSION, container_polls=1, quota_total=50):
        super().__init__()
        self.version = version
        # Reads of a new container that answer IN_PROGRESS before FINISHED.
        self.container_polls = container_polls
        self.quota_total = quota_total
        self.quota_duration = 86400
        self.deny_next = False  # the next dialog answers error=access_denied
        self.download_timeout = 10.0
        self._ids = itertools.count(120_000_000_000_001)
        self._offset = 0.0
        self._processing_errors = []  # statuses the next containers end in (ERROR)
        self.users = {}  # id -> {"id", "name", "roles": {page_id: [tasks]}}
        self.pages = {}  # id -> {"id", "name", "ig": ig id or None}
        self.instagram = {}  # id -> {"id", "username", "name", "profile_picture_url", "page_id"}
        self.tokens = {}  # token -> {"kind", "user_id", "page_id", "scopes", "expires_at", "dead"}
        self.derived = {}  # (user token, page id) -> Page token
        self.codes = {}  # code -> {"user_id", "redirect_uri", "scopes"}
        self.posts = []  # Facebook posts, oldest first
        self.photos = {}  # id -> {"page_id", "published", "alt", "sha256", "post_id", …}
        self.containers = {}  # id -> Instagram container
        self.media = []  # Instagram media, oldest first
        self.comments = []  # {"id", "parent", "message", "from"}
        self.published_at = collections.defaultdict(list)  # ig id -> [times]
        self.downloads = []  # (url, status or error) of each image Meta fetched
        self.download_lock = threading.Lock()
        self.user = self.add_user("Alice Martin", user_id=USER_ID, token=USER_TOKEN)
        self.page = self.add_page(PAGE_NAME, page_id=PAGE_ID, token=PAGE_TOKEN)
        self.ig = self.add_instagram(self.page["id"], IG_USERNAME, ig_id=IG_ID, name="Acme")

    def rules(self):
        return [
            Rule("/<version>/dialog/oauth", endpoint="dialog", methods=["GET"]),
            Rule("/<version>/oauth/access_token", endpoint="access_token", methods=["GET", "POST"]),
            Rule("/<version>/me", endpoint="me", methods=["GET"]),
            Rule("/<version>/me/accounts", endpoint="me_accounts", methods=["GET"]),
            Rule("/<version>/<node>", endpoint="node", methods=["GET"]),
            Rule("/<version>/<node>/feed", endpoint="create_feed_post", methods=["POST"]),
            Rule("/<version>/<node>/photos", endpoint="create_photo", methods=["POST"]),
            Rule("/<version>/<node>/published_posts", endpoint="published_posts", methods=["GET"]),
            Rule("/<version>/<node>/comments", endpoint="create_comment", methods=["POST"]),
            Rule("/<version>/<node>/media", endpoint="ig_media", methods=["GET", "POST"]),
            Rule("/<version>/<node>/media_publish", endpoint="media_publish", methods=["POST"]),
            Rule(
                "/<version>/<node>/content_publishing_limit",
                endpoint="publishing_limit",
                methods=["GET"],
            ),
        ]

    # --- errors ----------------------------------------------------------------------
    def graph_error(
        self,
        status,
        code,
        message,
        *,
        subcode=None,
        title=None,
        user_msg=None,
        transient=False,
        headers=None,
    ):
        error = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "is_transient": transient,
            "fbtrace_id": base64.urlsafe_b64encode(secrets.token_bytes(9)).decode(),
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        if title:
            error["error_user_title"] = title
        if user_msg:
            error["error_user_msg"] = user_msg
        return self.json({"error": error}, status=status, headers=headers)

    def error_body(self, status, message):
        """Faults (fail(status)) answer what Meta answers with that status."""
        code, text, subcode, transient = {
            400: (100, "Invalid parameter", None, False),
            401: (190, "Error validating access token: Session has expired.", 463, False),
            403: (200, "(#200) Permissions error", None, False),
            404: (803, "(#803) Some of the aliases you requested do not exist", None, False),
            405: (100, "Unsupported request - method type", None, False),
            429: (4, "(#4) Application request limit reached", None, True),
            500: (1, "An unknown error has occurred.", None, True),
            503: (
                2,
                "An unexpected error has occurred. Please retry your request later.",
                None,
                True,
            ),
        }.get(status, (1, "An unknown error has occurred.", None, True))
        error = {
            "message": text,
            "type": "OAuthException",
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "AFakeTraceId",
        }
        if subcode:
            error["error_subcode"] = subcode
        return {"error": error}

    def unsupported(self, node, method="get"):
        return self.graph_error(
            400,
            100,
            f"Unsupported {method} request. Object with ID '{node}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please "
            "read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            subcode=33,
        )

    def invalid(self, message, **extra):
        return self.graph_error(400, 100, message, **extra)

    def no_permission(self, code=200, message="(#200) Permissions error"):
        return self.graph_error(403, code, message)

    def throttle(self, *, code=32, minutes=5, times=1, path=None, account_id=None):
        """Answer the next request(s) with Meta's throttling error and usage header."""
        messages = {
            4: "(#4) Application request limit reached",
            17: "(#17) User request limit reached",
            32: "(#32) Page request limit reached",
            613: "(#613) Calls to this api have exceeded the rate limit.",
            80001: "(#80001) There have been too many calls to this Page account. Wait a bit "
            "and try again. For more info, please refer to "
            "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
            80002: "(#80002) There have been too many calls to this Instagram account. Wait a "
            "bit and try again. For more info, please refer to "
            "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        }
        kind = "instagram" if code == 80002 else "pages"
        usage = {
            account_id or (IG_ID if kind == "instagram" else PAGE_ID): [
                {
                    "type": kind,
                    "call_count": 100,
                    "total_cputime": 40,
                    "total_time": 60,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        body = {
            "error": {
                "message": messages.get(code, f"(#{code}) Rate limit reached"),
                "type": "OAuthException",
                "code": code,
                "is_transient": True,
                "fbtrace_id": "AFakeTraceId",
            }
        }
        self.respond_raw(
            json.dumps(body).encode(),
            status=400,
            times=times,
            path=path,
            headers={
                "X-Business-Use-Case-Usage": json.dumps(usage),
                "X-App-Usage": json.dumps({"call_count": 12, "total_cputime": 4, "total_time": 6}),
            },
        )

    # --- clock, ids, people ----------------------------------------------------------
    def now(self):
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, seconds):
        """Move the fake's clock (tokens and containers expire, the quota window slides)."""
        with self._lock:
            self._offset += seconds

    def next_id(self):
        return str(next(self._ids))

    def add_user(self, name, *, user_id=None, token=None, scopes=SCOPES):
        user = {"id": user_id or self.next_id(), "name": name, "roles": {}}
        self.users[user["id"]] = user
        if token:
            self.add_token(token, user=user, scopes=scopes)
        return user

    def add_token(self, token, *, user=None, page=None, scopes=SCOPES, expires_at=None):
        """A user token (page None) or a Page token of `user` for `page`."""
        user = user or self.user
        self.tokens[token] = {
            "kind": "page" if page else "user",
            "user_id": user["id"],
            "page_id": page["id"] if page else None,
            "scopes": set(scopes),
            "expires_at": expires_at,
            "dead": None,
        }
        return token

    def add_page(self, name, *, page_id=None, tasks=ALL_TASKS, user=None, token=None):
        """A Page the user (default: the default user) has `tasks` on; `token`: its Page
        token derived from the user's default long-lived token."""
        user = user or self.user
        page = {"id": page_id or self.next_id(), "name": name, "ig": None}
        self.pages[page["id"]] = page
        user["roles"][page["id"]] = list(tasks)
        if token:
            self.add_token(token, user=user, page=page)
            user_token = next(
                (
                    t
                    for t, r in self.tokens.items()
                    if r["kind"] == "user" and r["user_id"] == user["id"]
                ),
                None,
            )
            if user_token:
                self.derived[(user_token, page["id"])] = token
        return page

    def add_instagram(self, page_id, username, *, ig_id=None, name=None):
        ig = {
            "id": ig_id or "178414" + self.next_id()[-11:],
            "username": username,
            "name": name or username.title(),
            "profile_picture_url": f"https://scontent.cdninstagram.example/{username}.jpg",
            "page_id": page_id,
        }
        self.instagram[ig["id"]] = ig
        self.pages[page_id]["ig"] = ig["id"]
        return ig

    def page_token(self, page_id, *, user_token=USER_TOKEN):
        """The Page token /me/accounts gives `user_token`'s user for `page_id`."""
        with self._lock:
            return self._derive(user_token, self.tokens[user_token], page_id)

    def _derive(self, user_token, record, page_id):
        """Holds the lock. A long-lived user token gives a Page token that never expires; a
        short-lived one, a Page token that dies with it."""
        key = (user_token, page_id)
        token = self.derived.get(key)
        if token is None:
            token = "page-" + secrets.token_urlsafe(16)
            self.derived[key] = token
            self.tokens[token] = {
                "kind": "page",
                "user_id": record["user_id"],
                "page_id": page_id,
                "scopes": set(record["scopes"]),
                "expires_at": None if record.get("long_lived", True) else record["expires_at"],
                "dead": None,
                "from": user_token,
            }
        return token

    # --- what tests change -----------------------------------------------------------
    def revoke(self, token, *, subcode=460):
        """The token dies (460: password changed, 458: app removed, 467: logged out); a
        user's password change kills the Page tokens derived from it too."""
        with self._lock:
            record = self.tokens[token]
            record["dead"] = subcode
            if record["kind"] == "user" and subcode == 460:
                for other in self.tokens.values():
                    if other["user_id"] == record["user_id"]:
                        other["dead"] = subcode

    def expire(self, token):
        with self._lock:
            self.tokens[token]["expires_at"] = self.now() - timedelta(seconds=1)

    def remove_scope(self, token, scope):
        with self._lock:
            self.tokens[token]["scopes"].discard(scope)

    def fail_processing(
        self, status="Error: Media upload has failed with error code 2207003", times=1
    ):
        """The next `times` containers end in ERROR with this `status` after processing."""
        with self._lock:
            self._processing_errors.extend([status] * times)

    # --- for tests and benchmarks ----------------------------------------------------
    def posts_with_text(self, text):
        with self._lock:
            return [post for post in self.posts if post["message"] == text]

    def media_with_caption(self, caption):
        with self._lock:
            return [media for media in self.media if media["caption"] == caption]

    def duplicates(self):
        """Texts one account posted more than once: what exactly-once must never cause."""
        with self._lock:
            counts = collections.Counter(
                [(post["page_id"], post["message"]) for post in self.posts if post["message"]]
                + [(media["ig_id"], media["caption"]) for media in self.media if media["caption"]]
            )
        return sorted(text for (_account, text), count in counts.items() if count > 1)

    def stats(self):
        with self._lock:
            facebook, instagram = len(self.posts), len(self.media)
        return {
            "posts": facebook + instagram,
            "facebook_posts": facebook,
            "instagram_media": instagram,
            "duplicates": self.duplicates(),
        }

    def calls(self, method, suffix):
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    # --- request helpers -------------------------------------------------------------
    def params(self, request):
        """Graph parameters: the query string, then the form or JSON body."""
        values = {key: request.args.get(key) for key in request.args}
        if request.mimetype == "application/json":
            data = request.get_json(silent=True)
            if isinstance(data, dict):
                values.update(
                    {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
                )
        else:
            values.update({key: request.form.get(key) for key in request.form})
        return values

    def bad_version(self, version):
        if VERSION_RE.match(version or ""):
            return None
        return self.graph_error(
            400, 2500, f"Unknown path components: /{version}", title=None, transient=False
        )

    def authenticate(self, request, params):
        """(token, record) or (None, the error answer)."""
        header = request.headers.get("Authorization", "")
        token = None
        for prefix in ("Bearer ", "OAuth "):
            if header.startswith(prefix):
                token = header[len(prefix) :].strip()
        token = token or params.get("access_token")
        if not token:
            return None, self.graph_error(
                400, 104, "An access token is required to request this resource."
            )
        with self._lock:
            record = self.tokens.get(token)
            now = self.now()
        headers = {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'}
        if record is None:
            return None, self.graph_error(
                400, 190, "Invalid OAuth access token - Cannot parse access token", headers=headers
            )
        if record["dead"]:
            message = {
                458: "Error validating access token: The user has not authorized application "
                f"{APP_ID}.",
                460: "Error validating access token: The session has been invalidated because "
                "the user changed their password or Facebook has changed the session for "
                "security reasons.",
                467: "Error validating access token: The user is enrolled in a blocking, "
                "logged-in checkpoint",
            }.get(record["dead"], "Error validating access token.")
            return None, self.graph_error(
                400, 190, message, subcode=record["dead"], headers=headers
            )
        if record["expires_at"] and now >= record["expires_at"]:
            expired = record["expires_at"].strftime("%A, %d-%b-%y %H:%M:%S PST")
            return None, self.graph_error(
                400,
                190,
                f"Error validating access token: Session has expired on {expired}. The current "
                f"time is {now.strftime('%A, %d-%b-%y %H:%M:%S PST')}.",
                subcode=463,
                headers=headers,
            )
        return token, record

    def reaches_page(self, record, page_id):
        if record["kind"] == "page":
            return record["page_id"] == page_id
        return page_id in self.users[record["user_id"]]["roles"]

    def tasks(self, record, page_id):
        return self.users[record["user_id"]]["roles"].get(page_id, [])

    # --- Facebook Login --------------------------------------------------------------
    def dialog(self, request, version):
        refused = self.bad_version(version)
        if refused:
            return refused
        args = request.args
        if args.get("client_id") != APP_ID:
            return Response(
                "<h1>Invalid App ID</h1><p>The provided app ID does not look like a valid app "
                "ID.</p>",
                status=200,
                content_type="text/html",
            )
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return Response(
                "<h1>URL blocked</h1><p>This redirect failed because the redirect URI is not "
                "whitelisted in the app's Client OAuth Settings.</p>",
                status=200,
                content_type="text/html",
            )
        scopes = [s for s in re.split(r"[,\s]+", args.get("scope") or "") if s]
        query = {}
        if self.deny_next:
            self.deny_next = False
            query = {
                "error": "access_denied",
                "error_code": "200",
                "error_description": "Permissions error",
                "error_reason": "user_denied",
            }
        else:
            code = "AQ" + secrets.token_urlsafe(40)
            with self._lock:
                self.codes[code] = {
                    "user_id": self.user["id"],
                    "redirect_uri": redirect_uri,
                    "scopes": {s for s in scopes if s in SCOPES} | {"public_profile"},
                    "used": False,
                }
            query["code"] = code
        if args.get("state"):
            query["state"] = args["state"]
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urlencode(query) + "#_=_"
        return Response(status=302, headers={"Location": location})

    def access_token(self, request, version):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        if params.get("client_id") != APP_ID:
            return self.graph_error(
                400, 101, "Error validating application. Invalid application ID."
            )
        if params.get("client_secret") != APP_SECRET:
            return self.graph_error(400, 1, "Error validating client secret.")
        if params.get("grant_type") == "fb_exchange_token":
            return self.exchange_token(params.get("fb_exchange_token") or "")
        code = params.get("code") or ""
        with self._lock:
            grant = self.codes.get(code)
            if grant is None:
                return self.invalid("Invalid verification code format.")
            if grant["used"]:
                return self.invalid("This authorization code has been used.", subcode=36009)
            if grant["redirect_uri"] != params.get("redirect_uri"):
                return self.invalid(
                    "Error validating verification code. Please make sure your redirect_uri "
                    "is identical to the one you used in the OAuth dialog request",
                    subcode=36008,
                )
            grant["used"] = True
            token = "EAA" + secrets.token_urlsafe(32)
            self.tokens[token] = {
                "kind": "user",
                "user_id": grant["user_id"],
                "page_id": None,
                "scopes": set(grant["scopes"]),
                "expires_at": self.now() + SHORT_LIVED,
                "long_lived": False,
                "dead": None,
            }
        return self.json(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": int(SHORT_LIVED.total_seconds()),
            }
        )

    def exchange_token(self, old):
        with self._lock:
            record = self.tokens.get(old)
            alive = (
                record is not None
                and not record["dead"]
                and not (record["expires_at"] and self.now() >= record["expires_at"])
            )
            if not alive or record["kind"] != "user":
                return self.graph_error(400, 190, "Invalid OAuth access token.")
            token = "EAA" + secrets.token_urlsafe(40)
            self.tokens[token] = {
                **record,
                "scopes": set(record["scopes"]),
                "expires_at": self.now() + timedelta(seconds=LONG_LIVED_SECONDS),
                "long_lived": True,
            }
        return self.json(
            {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS}
        )

    # --- nodes -----------------------------------------------------------------------
    def picture(self, name):
        slug = re.sub(r"\W+", "-", name.lower())
        return {
            "data": {
                "height": 50,
                "is_silhouette": False,
                "url": f"https://scontent.xx.fbcdn.example/{slug}.jpg",
                "width": 50,
            }
        }

    def instagram_json(self, ig, fields):
        values = {
            "id": ig["id"],
            "username": ig["username"],
            "name": ig["name"],
            "profile_picture_url": ig["profile_picture_url"],
            "followers_count": 1234,
            "media_count": len([m for m in self.media if m["ig_id"] == ig["id"]]),
        }
        return {key: values[key] for key in (fields or ["id"]) if key in values}

    def page_json(self, page, fields, token, record):
        """Holds the lock."""
        out = {}
        for name, sub in fields.items():
            if name == "id":
                out["id"] = page["id"]
            elif name == "name":
                out["name"] = page["name"]
            elif name == "picture":
                out["picture"] = self.picture(page["name"])
            elif name == "tasks" and record["kind"] == "user":
                out["tasks"] = self.tasks(record, page["id"])
            elif name == "access_token" and record["kind"] == "user":
                out["access_token"] = self._derive(token, record, page["id"])
            elif name == "access_token":
                out["access_token"] = token
            elif name == "instagram_business_account" and page["ig"]:
                out[name] = self.instagram_json(self.instagram[page["ig"]], sub)
            elif name == "category":
                out["category"] = "Brand"
        return out

    def me(self, request, version):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        token, record = self.authenticate(request, params)
        if token is None:
            return record
        fields = parse_fields(params.get("fields") or "id,name")
        with self._lock:
            if record["kind"] == "page":
                node = self.page_json(self.pages[record["page_id"]], fields, token, record)
                kind = "page"
            else:
                user = self.users[record["user_id"]]
                unknown = [f for f in fields if f not in ("id", "name", "picture")]
                if unknown:
                    return self.invalid(
                        f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
                        "(User)"
                    )
                node = {"id": user["id"]}
                if "name" in fields:
                    node["name"] = user["name"]
                if "picture" in fields:
                    node["picture"] = self.picture(user["name"])
                kind = "user"
        if params.get("metadata") == "1":
            node["metadata"] = {"type": kind}
        return self.json(node)

    def me_accounts(self, request, version):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        token, record = self.authenticate(request, params)
        if token is None:
            return record
        if record["kind"] == "page":
            return self.invalid(
                "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"
            )
        fields = parse_fields(params.get("fields") or "id,name,access_token,category,tasks")
        try:
            limit = min(max(int(params.get("limit") or 25), 1), 100)
            start = int(base64.urlsafe_b64decode(params.get("after") or "MA==").decode())
        except ValueError:
            return self.invalid("(#100) The parameter limit or after is invalid")
        with self._lock:
            user = self.users[record["user_id"]]
            page_ids = list(user["roles"]) if "pages_show_list" in record["scopes"] else []
            chunk = page_ids[start : start + limit]
            data = [self.page_json(self.pages[pid], fields, token, record) for pid in chunk]
        body = {"data": data}
        if data:
            cursor = lambda index: base64.urlsafe_b64encode(str(index).encode()).decode()  # noqa: E731
            body["paging"] = {"cursors": {"before": cursor(start), "after": cursor(start + limit)}}
            if start + limit < len(page_ids):
                query = {
                    "fields": params.get("fields") or "",
                    "limit": limit,
                    "after": cursor(start + limit),
                    "access_token": token,
                }
                body["paging"]["next"] = self.base_url + request.path + "?" + urlencode(query)
        return self.json(body)

    def find_post(self, post_id):
        return next((post for post in self.posts if post["id"] == post_id), None)

    def find_media(self, media_id):
        return next((media for media in self.media if media["id"] == media_id), None)

    def node(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        token, record = self.authenticate(request, params)
        if token is None:
            return record
        fields = parse_fields(params.get("fields") or "id")
        with self._lock:
            if node in self.pages and self.reaches_page(record, node):
                return self.json(self.page_json(self.pages[node], fields, token, record))
            post = self.find_post(node)
            if post and self.reaches_page(record, post["page_id"]):
                return self.json(self.pick(self.post_json(post), fields))
            container = self.containers.get(node)
            if container and self.reaches_ig(record, container["ig_id"]):
                return self.json(self.pick(self.container_json(container), fields))
            media = self.find_media(node)
            if media and self.reaches_ig(record, media["ig_id"]):
                return self.json(self.pick(self.media_json(media), fields))
            ig = self.instagram.get(node)
            if ig and self.reaches_ig(record, node):
                return self.json(self.instagram_json(ig, list(fields)))
        return self.unsupported(node)

    def pick(self, values, fields):
        return {key: values[key] for key in ["id", *fields] if key in values}

    # --- Facebook Pages --------------------------------------------------------------
    def post_json(self, post):
        values = {
            "id": post["id"],
            "created_time": graph_time(post["created"]),
            "permalink_url": post["permalink_url"],
        }
        if post["message"]:
            values["message"] = post["message"]
        return values

    def page_poster(self, request, node, params):
        """(record, None) when the request may publish on Page `node`, else (None, answer)."""
        token, record = self.authenticate(request, params)
        if token is None:
            return None, record
        if node not in self.pages:
            return None, self.unsupported(node, "post")
        needed = {"pages_manage_posts", "pages_read_engagement"}
        if (
            record["kind"] != "page"
            or record["page_id"] != node
            or not needed <= record["scopes"]
            or "CREATE_CONTENT" not in self.tasks(record, node)
        ):
            return None, self.no_permission(
                200,
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts as an admin with sufficient administrative permission",
            )
        return record, None

    def store_post(self, page_id, message, *, link="", photo_ids=(), record=None):
        """Holds the lock."""
        number = self.next_id()
        post = {
            "id": f"{page_id}_{number}",
            "page_id": page_id,
            "message": message,
            "link": link,
            "photo_ids": list(photo_ids),
            "created": self.now(),
            "permalink_url": f"https://www.facebook.com/{page_id}/posts/{number}",
            "comments": [],
        }
        self.posts.append(post)
        return post

    def duplicate_of(self, page_id, message):
        """Holds the lock. Facebook refuses the same status twice in a row on a Page."""
        if not message:
            return None
        now = self.now()
        return next(
            (
                post
                for post in self.posts
                if post["page_id"] == page_id
                and post["message"] == message
                and now - post["created"] < DUPLICATE_WINDOW
            ),
            None,
        )

    def attached_media(self, params):
        """The media_fbid list of `attached_media[i]` (or one `attached_media` JSON list)."""
        raw = []
        if params.get("attached_media"):
            try:
                value = json.loads(params["attached_media"])
            except ValueError:
                return None
            raw = value if isinstance(value, list) else [value]
        index = 0
        while f"attached_media[{index}]" in params:
            try:
                raw.append(json.loads(params[f"attached_media[{index}]"]))
            except ValueError:
                return None
            index += 1
        ids = []
        for entry in raw:
            if not isinstance(entry, dict) or not entry.get("media_fbid"):
                return None
            ids.append(str(entry["media_fbid"]))
        return ids

    def create_feed_post(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        _record, refused = self.page_poster(request, node, params)
        if refused:
            return refused
        message = params.get("message") or ""
        link = params.get("link") or ""
        photo_ids = self.attached_media(params)
        if photo_ids is None:
            return self.invalid("(#100) param attached_media must be an array of objects")
        if not message.strip() and not link and not photo_ids:
            return self.invalid("(#100) Missing message or attachment")
        if len(message) > MAX_MESSAGE:
            return self.invalid(
                f"(#100) Param message must be at most {MAX_MESSAGE} characters long"
            )
        if link and photo_ids:
            return self.invalid("(#100) Param link cannot be used with attached_media")
        if link and not link.startswith(("http://", "https://")):
            return self.invalid("(#100) Param link must be a valid URL")
        with self._lock:
            for index, photo_id in enumerate(photo_ids):
                photo = self.photos.get(photo_id)
                if (
                    photo is None
                    or photo["page_id"] != node
                    or photo["published"]
                    or photo["post_id"]
                ):
                    return self.invalid(
                        f"(#100) param attached_media[{index}] has invalid media_fbid"
                    )
            if self.duplicate_of(node, message):
                return self.graph_error(400, 506, "(#506) Duplicate status message")
            post = self.store_post(node, message, link=link, photo_ids=photo_ids)
            for photo_id in photo_ids:
                self.photos[photo_id]["post_id"] = post["id"]
        return self.json({"id": post["id"]})

    def create_photo(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        _record, refused = self.page_poster(request, node, params)
        if refused:
            return refused
        upload = request.files.get("source")
        if upload is None:
            return self.graph_error(400, 324, "(#324) Requires upload file")
        data = upload.read()
        if len(data) > MAX_FB_PHOTO:
            return self.graph_error(
                400,
                100,
                "Invalid parameter",
                subcode=1366046,
                title="Photos could not be uploaded",
                user_msg="Your photos couldn't be uploaded. Photos should be less than 4 MB "
                "and saved as JPG, PNG, GIF, TIFF, HEIF or WebP files.",
            )
        size = image_info(data)
        if size is None:
            return self.graph_error(400, 324, "(#324) Missing or invalid image file")
        published = (params.get("published") or "true").lower() != "false"
        message = params.get("message") or ""
        if len(message) > MAX_MESSAGE:
            return self.invalid(
                f"(#100) Param message must be at most {MAX_MESSAGE} characters long"
            )
        with self._lock:
            if published and self.duplicate_of(node, message):
                return self.graph_error(400, 506, "(#506) Duplicate status message")
            photo_id = self.next_id()
            self.photos[photo_id] = {
                "id": photo_id,
                "page_id": node,
                "published": published,
                "alt": params.get("alt_text_custom") or "",
                "message": message,
                "sha256": hashlib.sha256(data).hexdigest(),
                "filename": upload.filename,
                "content_type": upload.mimetype,
                "size": size,
                "post_id": None,
            }
            if not published:
                return self.json({"id": photo_id})
            post = self.store_post(node, message, photo_ids=[photo_id])
            self.photos[photo_id]["post_id"] = post["id"]
        return self.json({"id": photo_id, "post_id": post["id"]})

    def published_posts(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        token, record = self.authenticate(request, params)
        if token is None:
            return record
        if node not in self.pages or not self.reaches_page(record, node):
            return self.unsupported(node)
        if "pages_read_engagement" not in record["scopes"]:
            return self.no_permission(
                10, "(#10) This endpoint requires the 'pages_read_engagement' permission"
            )
        fields = parse_fields(params.get("fields") or "id,message,created_time")
        try:
            limit = min(max(int(params.get("limit") or 25), 1), 100)
            start = int(base64.urlsafe_b64decode(params.get("after") or "MA==").decode())
        except ValueError:
            return self.invalid("(#100) The parameter limit or after is invalid")
        with self._lock:
            own = [post for post in reversed(self.posts) if post["page_id"] == node]
            chunk = [self.pick(self.post_json(p), fields) for p in own[start : start + limit]]
        body = {"data": chunk}
        if start + limit < len(own):
            after = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            query = {"fields": params.get("fields") or "", "limit": limit, "after": after}
            body["paging"] = {
                "cursors": {"after": after},
                "next": self.base_url + request.path + "?" + urlencode(query),
            }
        return self.json(body)

    def create_comment(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        token, record = self.authenticate(request, params)
        if token is None:
            return record
        message = params.get("message") or ""
        with self._lock:
            post = self.find_post(node)
            media = self.find_media(node)
        if post is not None:
            if not self.reaches_page(record, post["page_id"]):
                return self.unsupported(node, "post")
            if record["kind"] != "page" or "pages_manage_engagement" not in record["scopes"]:
                return self.no_permission(200, "(#200) Permissions error")
            limit, author = 8000, post["page_id"]
        elif media is not None:
            if not self.reaches_ig(record, media["ig_id"]):
                return self.unsupported(node, "post")
            if "instagram_manage_comments" not in record["scopes"]:
                return self.no_permission(
                    10, "(#10) Application does not have permission for this action"
                )
            limit, author = MAX_CAPTION, media["ig_id"]
        else:
            return self.unsupported(node, "post")
        if not message.strip():
            return self.invalid("(#100) Missing message or attachment")
        if len(message) > limit:
            return self.invalid(f"(#100) Param message must be at most {limit} characters long")
        with self._lock:
            number = self.next_id()
            comment_id = f"{node}_{number}" if post is not None else number
            comment = {"id": comment_id, "parent": node, "message": message, "from": author,
                       "created": self.now()}  # fmt: skip
            self.comments.append(comment)
            (post or media)["comments"].append(comment)
        return self.json({"id": comment_id})

    # --- Instagram -------------------------------------------------------------------
    def reaches_ig(self, record, ig_id):
        ig = self.instagram.get(ig_id)
        return ig is not None and self.reaches_page(record, ig["page_id"])

    def ig_caller(self, request, node, params, *, publish):
        token, record = self.authenticate(request, params)
        if token is None:
            return None, record
        if node not in self.instagram or not self.reaches_ig(record, node):
            return None, self.unsupported(node, "post" if publish else "get")
        needed = (
            {"instagram_basic", "instagram_content_publish"} if publish else {"instagram_basic"}
        )
        if not needed <= record["scopes"]:
            return None, self.no_permission(
                10, "(#10) Application does not have permission for this action"
            )
        return record, None

    def container_state(self, container):
        """Holds the lock. A read of the container: IN_PROGRESS for its first polls."""
        if container["media_id"]:
            return "PUBLISHED"
        if self.now() - container["created"] >= CONTAINER_LIFETIME:
            return "EXPIRED"
        if container["polls_left"] > 0:
            container["polls_left"] -= 1
            return "IN_PROGRESS"
        return "ERROR" if container["error"] else "FINISHED"

    def container_json(self, container):
        state = self.container_state(container)
        status = {
            "IN_PROGRESS": "In Progress: Media is still being processed.",
            "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
            "PUBLISHED": "Published: Media has been successfully published.",
            "EXPIRED": "Expired: Media was not published within 24 hours.",
            "ERROR": container["error"],
        }[state]
        return {"id": container["id"], "status_code": state, "status": status}

    def media_json(self, media):
        return {
            "id": media["id"],
            "caption": media["caption"],
            "media_type": media["media_type"],
            "timestamp": graph_time(media["created"]),
            "permalink": media["permalink"],
            "like_count": 0,
            "comments_count": len(media["comments"]),
        }

    def download(self, url):
        """Fetch an image as Meta does: (bytes, None) or (None, reason)."""
        if not url.startswith(("http://", "https://")):
            return None, "unsupported scheme"
        try:
            with urllib.request.urlopen(url, timeout=self.download_timeout) as response:  # noqa: S310
                data = response.read(MAX_IG_IMAGE + 1)
                status = response.status
        except urllib.error.HTTPError as error:
            status, data = error.code, None
        except (urllib.error.URLError, OSError, ValueError) as error:
            with self.download_lock:
                self.downloads.append((url, str(error)))
            return None, str(error)
        with self.download_lock:
            self.downloads.append((url, status))
        if status != 200 or data is None:
            return None, f"HTTP {status}"
        return data, None

    def fetch_failed(self, url):
        return self.graph_error(
            400,
            9004,
            "Only photo or video can be accepted as media type.",
            subcode=2207052,
            title="Media download has failed.",
            user_msg=f"The media could not be fetched from this uri: {url}",
        )

    def ig_media(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        if request.method == "GET":
            return self.list_media(request, node, params)
        _record, refused = self.ig_caller(request, node, params, publish=True)
        if refused:
            return refused
        caption = params.get("caption") or ""
        if len(caption) > MAX_CAPTION:
            return self.invalid(
                f"(#100) Param caption must be at most {MAX_CAPTION} characters long",
                subcode=2207010,
                title="Caption too long",
                user_msg=f"The caption is longer than {MAX_CAPTION} characters.",
            )
        media_type = (params.get("media_type") or "").upper()
        if media_type == "CAROUSEL":
            return self.create_carousel(node, params, caption)
        if media_type:
            return self.invalid(f"(#100) The fake does not handle media_type {media_type}")
        image_url = params.get("image_url") or ""
        if not image_url:
            return self.invalid("(#100) The parameter image_url is required")
        data, _reason = self.download(image_url)
        if data is None:
            return self.fetch_failed(image_url)
        info = image_info(data)
        if info is None:
            return self.fetch_failed(image_url)
        width, height, image_format = info
        if len(data) > MAX_IG_IMAGE:
            return self.invalid(
                "Invalid parameter",
                subcode=2207004,
                title="Image is too large",
                user_msg="The image is too large to download. It should be less than 8 MiB.",
            )
        if image_format != "JPEG":
            return self.graph_error(
                400,
                36001,
                "Invalid image format",
                subcode=2207005,
                title="Unsupported format",
                user_msg="The image format is not supported. Only JPEG images are supported.",
            )
        ratio = round(width / height, 2)
        if not 0.8 <= ratio <= 1.91:
            return self.graph_error(
                400,
                36003,
                f"The submitted image with aspect ratio ('{width}/{height}') cannot be "
                "published. Please submit an image with a valid aspect ratio.",
                subcode=2207009,
                title="The aspect ratio is not supported.",
            )
        carousel_item = (params.get("is_carousel_item") or "").lower() == "true"
        if carousel_item and caption:
            caption = ""  # Meta ignores a caption on a carousel item
        return self.store_container(
            node,
            kind="IMAGE",
            caption=caption,
            image_url=image_url,
            alt_text=params.get("alt_text") or "",
            carousel_item=carousel_item,
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def create_carousel(self, node, params, caption):
        children = [c for c in (params.get("children") or "").split(",") if c]
        if not 2 <= len(children) <= 10:
            return self.invalid(
                "(#100) The carousel must have between 2 and 10 children",
                subcode=2207028,
                title="Carousel validation failed",
            )
        with self._lock:
            for child_id in children:
                child = self.containers.get(child_id)
                if child is None or child["ig_id"] != node or not child["carousel_item"]:
                    return self.invalid(
                        f"(#100) The child {child_id} is not a carousel item of this account",
                        subcode=2207028,
                        title="Carousel validation failed",
                    )
                if child["media_id"] or self.peek(child) != "FINISHED":
                    return self.invalid(
                        "(#100) Every carousel item must be FINISHED before the carousel is "
                        "created",
                        subcode=2207028,
                        title="Carousel validation failed",
                    )
        return self.store_container(node, kind="CAROUSEL", caption=caption, children=children)

    def peek(self, container):
        """Holds the lock. The state without counting a poll."""
        if container["media_id"]:
            return "PUBLISHED"
        if self.now() - container["created"] >= CONTAINER_LIFETIME:
            return "EXPIRED"
        if container["polls_left"] > 0:
            return "IN_PROGRESS"
        return "ERROR" if container["error"] else "FINISHED"

    def store_container(self, node, **fields):
        with self._lock:
            container_id = self.next_id()
            error = self._processing_errors.pop(0) if self._processing_errors else None
            self.containers[container_id] = {
                "id": container_id,
                "ig_id": node,
                "kind": fields.get("kind"),
                "caption": fields.get("caption", ""),
                "image_url": fields.get("image_url", ""),
                "alt_text": fields.get("alt_text", ""),
                "carousel_item": fields.get("carousel_item", False),
                "children": fields.get("children", []),
                "sha256": fields.get("sha256", ""),
                "polls_left": self.container_polls,
                "error": error,
                "created": self.now(),
                "media_id": None,
            }
        return self.json({"id": container_id})

    def list_media(self, request, node, params):
        _record, refused = self.ig_caller(request, node, params, publish=False)
        if refused:
            return refused
        fields = parse_fields(params.get("fields") or "id")
        try:
            limit = min(max(int(params.get("limit") or 25), 1), 100)
        except ValueError:
            return self.invalid("(#100) The parameter limit is invalid")
        with self._lock:
            own = [m for m in reversed(self.media) if m["ig_id"] == node][:limit]
            data = [self.pick(self.media_json(m), fields) for m in own]
        return self.json(
            {"data": data, "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}}
        )

    def builder_expired(self, creation_id):
        return self.invalid(
            "Invalid parameter",
            subcode=2207008,
            title="Media builder expired",
            user_msg=f"The media builder with creation_id = {creation_id} does not exist or "
            "has been expired.",
        )

    def media_publish(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        _record, refused = self.ig_caller(request, node, params, publish=True)
        if refused:
            return refused
        creation_id = params.get("creation_id") or ""
        if not creation_id:
            return self.invalid("(#100) The parameter creation_id is required")
        with self._lock:
            container = self.containers.get(creation_id)
            if container is None or container["ig_id"] != node or container["carousel_item"]:
                return self.builder_expired(creation_id)
            state = self.peek(container)
            if state in ("PUBLISHED", "EXPIRED"):
                # A container goes out once: a repeat cannot make a second post.
                return self.builder_expired(creation_id)
            if state == "IN_PROGRESS":
                return self.graph_error(
                    400,
                    9007,
                    "Media ID is not available",
                    subcode=2207027,
                    title="Media not ready for publishing",
                    user_msg="The media is not ready for publishing, please wait for a moment",
                )
            if state == "ERROR":
                return self.invalid(
                    "(#100) The media could not be published because it failed processing",
                    subcode=2207032,
                    title="Create media failed",
                )
            now = self.now()
            window = timedelta(seconds=self.quota_duration)
            recent = [t for t in self.published_at[node] if now - t < window]
            if len(recent) >= self.quota_total:
                return self.graph_error(
                    400,
                    9,
                    "Application request limit reached",
                    subcode=2207042,
                    title="Max publish limit reached",
                    user_msg="You reached the maximum number of posts that is allowed to be "
                    "published by Content Publishing API.",
                    transient=True,
                )
            media_id = "179" + self.next_id()[-14:]
            shortcode = base64.urlsafe_b64encode(hashlib.sha256(media_id.encode()).digest())[:11]
            media = {
                "id": media_id,
                "ig_id": node,
                "caption": container["caption"],
                "media_type": "CAROUSEL_ALBUM" if container["kind"] == "CAROUSEL" else "IMAGE",
                "children": [self.containers[c] for c in container["children"]],
                "alt_text": container["alt_text"],
                "created": now,
                "permalink": f"https://www.instagram.com/p/{shortcode.decode()}/",
                "comments": [],
                "container_id": creation_id,
            }
            container["media_id"] = media_id
            for child_id in container["children"]:
                self.containers[child_id]["media_id"] = media_id
            self.media.append(media)
            self.published_at[node].append(now)
        return self.json({"id": media_id})

    def publishing_limit(self, request, version, node):
        refused = self.bad_version(version)
        if refused:
            return refused
        params = self.params(request)
        _record, refused = self.ig_caller(request, node, params, publish=False)
        if refused:
            return refused
        with self._lock:
            now = self.now()
            window = timedelta(seconds=self.quota_duration)
            usage = len([t for t in self.published_at[node] if now - t < window])
        entry = {"quota_usage": usage}
        fields = parse_fields(params.get("fields") or "quota_usage")
        if "config" in fields:
            entry["config"] = {
                "quota_total": self.quota_total,
                "quota_duration": self.quota_duration,
            }
        return self.json({"data": [entry]})


def image_info(data):
    """(width, height, format) when `data` is an image Pillow can read, else None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size[0], image.size[1], image.format
    except (UnidentifiedImageError, OSError, ValueError):
        return None
