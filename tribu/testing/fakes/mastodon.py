"""Contract fake of a Mastodon instance, write side: what publishing talks to.

- OAuth: `POST /api/v1/apps`, `GET /oauth/authorize` (the signed-in user approves at once and
  is redirected with a code), `POST /oauth/token` (authorization code, PKCE S256 checked).
- `GET /api/v1/accounts/verify_credentials`, `GET /api/v2/instance` (limits).
- `POST /api/v2/media` (multipart `file` + `description`): 200 for images, or 202 while
  `processing_polls` is set, then `GET /api/v1/media/{id}` answers 206 that many times, 200
  after. Posting a status with unfinished media is refused with 422, as Mastodon does.
- `POST /api/v1/statuses` (JSON or form) with `Idempotency-Key`: the same key, from the same
  account, within an hour returns the original status and posts nothing. `advance(seconds)`
  moves the fake's clock so a test can let a key expire.
- `GET /api/v1/accounts/{id}/statuses`, newest first, with id pagination.

Tokens carry scopes; `revoke(token)` makes every call with it answer 401 {"error": "The access
token is invalid"}, a missing scope answers 403. Bodies carry every field the OpenAPI
description requires (tests validate them). State is shared by the server's threads, so every
read-modify-write holds the lock. `posts_with_text()` and `duplicates()` let tests and
benchmarks count what was really posted; `GET /_fake/stats` serves the same counts.
"""

import base64
import collections
import hashlib
import html
import io
import itertools
import re
import secrets
import time
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from .server import FakeServer

TOKEN = "publish-token"  # noqa: S105 (the fake's default token; benchmarks use it too)
IDEMPOTENCY_SECONDS = 3600
# Every scope Mastodon knows, from the OpenAPI description's OAuthScope.
SCOPES = frozenset(
    (
        "profile",
        "read",
        "write",
        "push",
        "follow",
        "read:accounts",
        "read:blocks",
        "read:bookmarks",
        "read:favourites",
        "read:filters",
        "read:follows",
        "read:lists",
        "read:mutes",
        "read:notifications",
        "read:search",
        "read:statuses",
        "write:accounts",
        "write:blocks",
        "write:bookmarks",
        "write:conversations",
        "write:favourites",
        "write:filters",
        "write:follows",
        "write:lists",
        "write:media",
        "write:mutes",
        "write:notifications",
        "write:reports",
        "write:statuses",
    )
)
VAPID_KEY = (
    "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="
)
DEFAULT_SCOPES = "read:accounts write:statuses write:media read:statuses"
INVALID_TOKEN = "The access token is invalid"  # noqa: S105
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
NOT_PROCESSED = "Cannot attach files that have not finished processing. Try again in a moment!"

URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
TOKEN_RE = re.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])"
    r"|(?<![\w/@])@(?P<user>\w+)(?:@(?P<host>[\w.-]+\w))?"
    r"|(?<![\w&/#])#(?P<tag>\w+)"
)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def granted(needed, scopes):
    """True when `scopes` include one of `needed`; `write` covers `write:statuses`."""
    return any(scope in scopes for scope in needed)


class MastodonPublishFake(FakeServer):
    network = "mastodon"

    def __init__(
        self,
        *,
        domain="mastodon.example",
        username="tribu",
        token=TOKEN,
        scopes=DEFAULT_SCOPES,
        max_characters=500,
        max_media=4,
        characters_reserved_per_url=23,
        image_size_limit=16 * 1024 * 1024,
        description_limit=1500,
    ):
        super().__init__()
        self.domain = domain
        self.max_characters = max_characters
        self.max_media = max_media
        self.characters_reserved_per_url = characters_reserved_per_url
        self.image_size_limit = image_size_limit
        self.description_limit = description_limit  # None: an older server without it
        # Uploads answer 202 and GET /api/v1/media/{id} answers 206 this many times.
        self.processing_polls = 0
        self.instance_available = True  # False: GET /api/v2/instance answers 404
        self._ids = itertools.count(113_500_000_000_000_000)
        self._offset = 0.0  # seconds added to the real clock by advance()
        self.accounts = {}  # id -> Account JSON
        self.tokens = {}  # token -> {"account_id", "scopes", "app"}
        self.revoked = set()
        self.apps = {}  # client_id -> CredentialApplication JSON (+ "_secret")
        self.codes = {}  # code -> {"client_id", "redirect_uri", "scopes", "challenge", ...}
        self.media = {}  # id -> {"attachment", "account_id", "polls_left", "status_id", ...}
        self.statuses = []  # Status JSON, oldest first
        self.sources = {}  # status id -> the text as posted
        self.idempotency = {}  # (account_id, key) -> (status id, fake time)
        self.account = self.add_account(username)
        self.add_token(token, scopes=scopes)

    def rules(self):
        return [
            Rule("/api/v1/apps", endpoint="create_app", methods=["POST"]),
            Rule("/oauth/authorize", endpoint="authorize", methods=["GET"]),
            Rule("/oauth/token", endpoint="token", methods=["POST"]),
            Rule(
                "/api/v1/accounts/verify_credentials",
                endpoint="verify_credentials",
                methods=["GET"],
            ),
            Rule("/api/v2/instance", endpoint="instance", methods=["GET"]),
            Rule("/api/v2/media", endpoint="upload_media", methods=["POST"]),
            Rule("/api/v1/media/<media_id>", endpoint="get_media", methods=["GET"]),
            Rule("/api/v1/statuses", endpoint="create_status", methods=["POST"]),
            Rule(
                "/api/v1/accounts/<account_id>/statuses",
                endpoint="account_statuses",
                methods=["GET"],
            ),
        ]

    def error_body(self, status, message):
        return {"error": message}  # components/schemas/Error

    # --- clock and ids ---------------------------------------------------------------
    def now(self):
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, seconds):
        """Move the fake's clock forward (idempotency keys expire after an hour)."""
        with self._lock:
            self._offset += seconds

    def next_id(self):
        return str(next(self._ids))

    # --- accounts and tokens ---------------------------------------------------------
    def add_account(self, username, *, display_name=None):
        account = {
            "id": self.next_id(),
            "username": username,
            "acct": username,
            "url": f"https://{self.domain}/@{username}",
            "uri": f"https://{self.domain}/users/{username}",
            "display_name": display_name if display_name is not None else username.title(),
            "note": "<p>Bio</p>",
            "avatar": f"https://{self.domain}/avatars/{username}.png",
            "avatar_static": f"https://{self.domain}/avatars/{username}.png",
            "header": f"https://{self.domain}/headers/original/missing.png",
            "header_static": f"https://{self.domain}/headers/original/missing.png",
            "locked": False,
            "fields": [],
            "emojis": [],
            "bot": False,
            "group": False,
            "discoverable": True,
            "indexable": True,
            "created_at": iso(datetime(2024, 1, 1, tzinfo=UTC)),
            "last_status_at": None,
            "statuses_count": 0,
            "followers_count": 12,
            "following_count": 3,
        }
        self.accounts[account["id"]] = account
        return account

    def add_token(self, token, *, scopes=DEFAULT_SCOPES, account=None, app="Tribu"):
        self.tokens[token] = {
            "account_id": (account or self.account)["id"],
            "scopes": set(scopes.split()),
            "app": app,
        }
        return token

    def revoke(self, token):
        with self._lock:
            self.revoked.add(token)

    def credential(self, request, *needed):
        """(token record, None) or (None, the 401/403 answer)."""
        token = self.bearer(request)
        record = self.tokens.get(token) if token and token not in self.revoked else None
        if record is None:
            return None, self.error(401, INVALID_TOKEN)
        if needed and not granted(needed, record["scopes"]):
            return None, self.error(403, OUTSIDE_SCOPES)
        return record, None

    # --- for tests and benchmarks ----------------------------------------------------
    def posts_with_text(self, text):
        with self._lock:
            return [status for status in self.statuses if self.sources[status["id"]] == text]

    def duplicates(self):
        """Texts posted more than once: what an exactly-once publisher must never cause."""
        with self._lock:
            counts = collections.Counter(self.sources[status["id"]] for status in self.statuses)
        return sorted(text for text, count in counts.items() if count > 1)

    def stats(self):
        with self._lock:
            count = len(self.statuses)
        return {"statuses": count, "duplicates": self.duplicates()}

    def media_requests(self):
        return [r for r in self.requests if r.method == "POST" and r.path == "/api/v2/media"]

    def status_requests(self):
        return [r for r in self.requests if r.method == "POST" and r.path == "/api/v1/statuses"]

    # --- request bodies --------------------------------------------------------------
    def params(self, request):
        """Form or JSON parameters, as Rails accepts both; lists under `name` or `name[]`."""
        if request.mimetype == "application/json":
            data = request.get_json(silent=True)
            return data if isinstance(data, dict) else None
        data = {}
        for key in request.form:
            values = request.form.getlist(key)
            if key.endswith("[]"):
                data[key[:-2]] = values
            else:
                data[key] = values[0]
        return data

    # --- OAuth -----------------------------------------------------------------------
    def oauth_error(self, status, error, description):
        # Doorkeeper's shape, which the Error schema describes.
        return self.json({"error": error, "error_description": description}, status=status)

    def create_app(self, request):
        data = self.params(request)
        if data is None:
            return self.error(400, "Bad request")
        name = str(data.get("client_name") or "").strip()
        redirect_uris = data.get("redirect_uris") or []
        if isinstance(redirect_uris, str):
            redirect_uris = redirect_uris.split()
        scopes = str(data.get("scopes") or "read").split()
        if not name:
            return self.error(422, "Validation failed: Application name can't be blank")
        if not redirect_uris:
            return self.error(422, "Validation failed: Redirect URI can't be blank")
        if any(scope not in SCOPES for scope in scopes):
            return self.error(422, "Validation failed: Scopes are invalid")
        client_id = secrets.token_urlsafe(32)
        app = {
            "id": self.next_id(),
            "name": name,
            "website": data.get("website") or None,
            "scopes": scopes,
            "redirect_uri": "\n".join(redirect_uris),
            "redirect_uris": redirect_uris,
            "client_id": client_id,
            "client_secret": secrets.token_urlsafe(32),
            "client_secret_expires_at": 0,
            "vapid_key": VAPID_KEY,
        }
        with self._lock:
            self.apps[client_id] = app
        return self.json(app)

    def authorize(self, request):
        """The user is signed in and approves at once: redirect with a code."""
        args = request.args
        app = self.apps.get(args.get("client_id", ""))
        if app is None:
            return self.oauth_error(401, "invalid_client", "Client authentication failed.")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in app["redirect_uris"]:
            return self.oauth_error(
                400, "invalid_redirect_uri", "The requested redirect uri is malformed."
            )
        if args.get("response_type") != "code":
            return self.oauth_error(400, "unsupported_response_type", "Use response_type=code.")
        scopes = (args.get("scope") or "read").split()
        if any(not granted((scope, scope.split(":")[0]), app["scopes"]) for scope in scopes):
            return self.oauth_error(400, "invalid_scope", "The requested scope is invalid.")
        challenge = args.get("code_challenge")
        if challenge and args.get("code_challenge_method") != "S256":
            return self.oauth_error(400, "invalid_request", "code_challenge_method must be S256")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = {
                "client_id": app["client_id"],
                "redirect_uri": redirect_uri,
                "scopes": scopes,
                "challenge": challenge,
                "app": app["name"],
            }
        query = {"code": code}
        if args.get("state"):
            query["state"] = args["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return Response(
            status=302, headers={"Location": redirect_uri + separator + urlencode(query)}
        )

    def token(self, request):
        data = self.params(request) or {}
        app = self.apps.get(str(data.get("client_id") or ""))
        if app is None or data.get("client_secret") != app["client_secret"]:
            return self.oauth_error(
                401,
                "invalid_client",
                "Client authentication failed due to unknown client, no client authentication "
                "included, or unsupported authentication method.",
            )
        if data.get("grant_type") != "authorization_code":
            return self.oauth_error(
                400, "unsupported_grant_type", "The authorization grant type is not supported."
            )
        invalid_grant = self.oauth_error(
            400,
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match the "
            "redirection URI used in the authorization request, or was issued to another "
            "client.",
        )
        with self._lock:
            grant = self.codes.get(str(data.get("code") or ""))
            if (
                grant is None
                or grant["client_id"] != app["client_id"]
                or grant["redirect_uri"] != data.get("redirect_uri")
            ):
                return invalid_grant
            if grant["challenge"]:
                verifier = str(data.get("code_verifier") or "")
                if not verifier or s256(verifier) != grant["challenge"]:
                    return invalid_grant
            del self.codes[data["code"]]
            access_token = secrets.token_urlsafe(32)
            self.add_token(access_token, scopes=" ".join(grant["scopes"]), app=grant["app"])
        return self.json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "scope": " ".join(grant["scopes"]),
                "created_at": int(time.time()),
            }
        )

    # --- account and instance --------------------------------------------------------
    def verify_credentials(self, request):
        record, refused = self.credential(request, "read", "read:accounts", "profile")
        if refused:
            return refused
        account = self.accounts[record["account_id"]]
        return self.json(
            {
                **account,
                "source": {
                    "privacy": "public",
                    "sensitive": False,
                    "language": "",
                    "note": "Bio",
                    "fields": [],
                    "follow_requests_count": 0,
                    "indexable": True,
                },
                "role": {
                    "id": "-99",
                    "name": "",
                    "permissions": "0",
                    "color": "",
                    "highlighted": False,
                },
            }
        )

    def instance(self, request):
        if not self.instance_available:
            return self.error(404, "Record not found")
        media = {
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
            "image_size_limit": self.image_size_limit,
            "image_matrix_limit": 33177600,
            "video_size_limit": 103809024,
            "video_frame_rate_limit": 120,
            "video_matrix_limit": 8294400,
        }
        if self.description_limit is not None:
            media["description_limit"] = self.description_limit
        return self.json(
            {
                "domain": self.domain,
                "title": "Mastodon (fake)",
                "version": "4.5.0",
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "A contract fake of a Mastodon instance.",
                "usage": {"users": {"active_month": 42}},
                "thumbnail": {"url": f"https://{self.domain}/thumbnail.png"},
                "icon": [],
                "languages": ["fr", "en"],
                "api_versions": {"mastodon": 6},
                "configuration": {
                    "urls": {"streaming": f"wss://{self.domain}"},
                    "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": self.max_media,
                        "characters_reserved_per_url": self.characters_reserved_per_url,
                    },
                    "media_attachments": media,
                    "polls": {
                        "max_options": 4,
                        "max_characters_per_option": 50,
                        "min_expiration": 300,
                        "max_expiration": 2629746,
                    },
                    "translation": {"enabled": False},
                },
                "registrations": {"enabled": False, "approval_required": False},
                "contact": {"email": f"admin@{self.domain}"},
                "rules": [],
            }
        )

    # --- media -----------------------------------------------------------------------
    def attachment(self, media_id, description, size, processed):
        url = f"https://files.{self.domain}/media_attachments/{media_id}/original.png"
        width, height = size if size else (None, None)
        return {
            "id": media_id,
            "type": "image",
            "url": url if processed else None,
            "preview_url": url.replace("original", "small"),
            "remote_url": None,
            "meta": {"original": {"width": width, "height": height}} if size else None,
            "description": description or None,
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        }

    def upload_media(self, request):
        record, refused = self.credential(request, "write", "write:media")
        if refused:
            return refused
        upload = request.files.get("file")
        if upload is None:
            return self.error(422, "Validation failed: File can't be blank")
        data = upload.read()
        description = request.form.get("description", "")
        if not data:
            return self.error(422, "Validation failed: File can't be blank")
        if len(data) > self.image_size_limit:
            megabytes = self.image_size_limit // (1024 * 1024)
            return self.error(
                422, f"Validation failed: File file size must be less than {megabytes} MB"
            )
        if self.description_limit and len(description) > self.description_limit:
            return self.error(
                422,
                "Validation failed: Description is too long "
                f"(maximum is {self.description_limit} characters)",
            )
        size = image_size(data)
        if size is None or not (upload.mimetype or "").startswith("image/"):
            return self.error(422, "Validation failed: File content type is invalid")
        with self._lock:
            media_id = self.next_id()
            processing = self.processing_polls > 0
            self.media[media_id] = {
                "attachment": self.attachment(media_id, description, size, not processing),
                "account_id": record["account_id"],
                "polls_left": self.processing_polls,
                "status_id": None,
                "filename": upload.filename,
                "content_type": upload.mimetype,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            attachment = dict(self.media[media_id]["attachment"])
        return self.json(attachment, status=202 if processing else 200)

    def get_media(self, request, media_id):
        record, refused = self.credential(request, "write", "write:media")
        if refused:
            return refused
        with self._lock:
            media = self.media.get(media_id)
            if media is None or media["account_id"] != record["account_id"]:
                return self.error(404, "Record not found")
            if media["polls_left"] > 0:
                media["polls_left"] -= 1
                return self.json(dict(media["attachment"]), status=206)
            media["attachment"]["url"] = media["attachment"]["preview_url"].replace(
                "small", "original"
            )
            return self.json(dict(media["attachment"]))

    # --- statuses --------------------------------------------------------------------
    def create_status(self, request):
        record, refused = self.credential(request, "write", "write:statuses")
        if refused:
            return refused
        data = self.params(request)
        if data is None:
            return self.error(400, "Bad request")
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key:
                remembered = self.idempotency.get((record["account_id"], key))
                now = time.monotonic() + self._offset
                if remembered and now - remembered[1] < IDEMPOTENCY_SECONDS:
                    original = self.find_status(remembered[0])
                    if original is not None:
                        return self.json(original)
            status, refusal = self.new_status(record, data)
            if refusal:
                return refusal
            if key:
                self.idempotency[(record["account_id"], key)] = (
                    status["id"],
                    time.monotonic() + self._offset,
                )
        return self.json(status)

    def find_status(self, status_id):
        return next((status for status in self.statuses if status["id"] == status_id), None)

    def new_status(self, record, data):
        """Validate and store a status, as PostStatusService does. Holds the lock."""
        text = str(data.get("status") or "")
        media_ids = data.get("media_ids") or []
        media_ids = [
            str(media_id) for media_id in ([media_ids] if isinstance(media_ids, str) else media_ids)
        ]
        visibility = data.get("visibility") or "public"
        if visibility not in ("public", "unlisted", "private", "direct"):
            return None, self.error(422, "Validation failed: Visibility is not included")
        if not text.strip() and not media_ids:
            return None, self.error(422, "Validation failed: Text can't be blank")
        if self.count(text) + len(data.get("spoiler_text") or "") > self.max_characters:
            return None, self.error(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        if len(media_ids) > self.max_media:
            return None, self.error(422, f"Cannot attach more than {self.max_media} files")
        media = [self.media.get(media_id) for media_id in media_ids]
        if any(
            item is None or item["account_id"] != record["account_id"] or item["status_id"]
            for item in media
        ):
            missing = ", ".join(media_ids)
            return None, self.error(
                422,
                f"Media with IDs {missing} not found or already attached to another post",
            )
        if any(item["polls_left"] > 0 for item in media):
            return None, self.error(422, NOT_PROCESSED)
        parent = None
        if data.get("in_reply_to_id"):
            parent = self.find_status(str(data["in_reply_to_id"]))
            if parent is None:
                return None, self.error(404, "Record not found")
        account = self.accounts[record["account_id"]]
        status_id = self.next_id()
        for item in media:
            item["status_id"] = status_id
            item["attachment"]["url"] = item["attachment"]["preview_url"].replace(
                "small", "original"
            )
        content, mentions, tags = self.render(text)
        status = {
            "id": status_id,
            "created_at": iso(self.now()),
            "in_reply_to_id": parent["id"] if parent else None,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "sensitive": bool(data.get("sensitive")),
            "spoiler_text": str(data.get("spoiler_text") or ""),
            "visibility": visibility,
            "language": data.get("language") or None,
            "uri": f"https://{self.domain}/users/{account['username']}/statuses/{status_id}",
            "url": f"https://{self.domain}/@{account['username']}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": content,
            "reblog": None,
            "application": {"name": record["app"], "website": None},
            "account": account,
            "media_attachments": [dict(item["attachment"]) for item in media],
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if parent:
            parent["replies_count"] += 1
        account["statuses_count"] += 1
        account["last_status_at"] = status["created_at"][:10]
        self.statuses.append(status)
        self.sources[status_id] = text
        return status, None

    def count(self, text):
        """Mastodon's count, roughly: each URL weighs `characters_reserved_per_url`."""
        return len(URL_RE.sub("x" * self.characters_reserved_per_url, text))

    def render(self, text):
        """The HTML Mastodon serves in `content`: paragraphs, <br />, and links for URLs,
        mentions and hashtags, URLs shortened for display with invisible spans."""
        mentions, tags = [], []

        def link(match):
            if match["url"]:
                url = match["url"]
                prefix = re.match(r"https?://(www\.)?", url).group(0)
                rest = url[len(prefix) :]
                shown = (
                    f'<span class="ellipsis">{html.escape(rest[:30])}</span>'
                    f'<span class="invisible">{html.escape(rest[30:])}</span>'
                    if len(rest) > 30
                    else f'<span class="">{html.escape(rest)}</span><span class="invisible"></span>'
                )
                return (
                    f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" '
                    f'translate="no"><span class="invisible">{html.escape(prefix)}</span>'
                    f"{shown}</a>"
                )
            if match["user"]:
                user, host = match["user"], match["host"] or self.domain
                url = f"https://{host}/@{user}"
                mentions.append(
                    {
                        "id": str(zlib.crc32(f"{user}@{host}".encode())),
                        "username": user,
                        "acct": user if host == self.domain else f"{user}@{host}",
                        "url": url,
                    }
                )
                return (
                    f'<span class="h-card" translate="no"><a href="{html.escape(url)}" '
                    f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
                )
            tag = match["tag"]
            url = f"https://{self.domain}/tags/{tag.lower()}"
            tags.append({"name": tag.lower(), "url": url})
            return (
                f'<a href="{url}" class="mention hashtag" rel="tag">'
                f"#<span>{html.escape(tag)}</span></a>"
            )

        paragraphs = []
        for paragraph in re.split(r"\n{2,}", text.strip()):
            pieces, last = [], 0
            for match in TOKEN_RE.finditer(paragraph):
                pieces.append(html.escape(paragraph[last : match.start()]))
                pieces.append(link(match))
                last = match.end()
            pieces.append(html.escape(paragraph[last:]))
            paragraphs.append("<p>" + "".join(pieces).replace("\n", "<br />") + "</p>")
        return "".join(paragraphs), mentions, tags

    def account_statuses(self, request, account_id):
        _record, refused = self.credential(request, "read", "read:statuses")
        if refused:
            return refused
        if account_id not in self.accounts:
            return self.error(404, "Record not found")
        with self._lock:
            own = [status for status in self.statuses if status["account"]["id"] == account_id]
        if request.args.get("exclude_replies") == "true":
            own = [status for status in own if status["in_reply_to_id"] is None]
        if request.args.get("exclude_reblogs") == "true":
            own = [status for status in own if status["reblog"] is None]
        ordered = sorted(own, key=lambda status: int(status["id"]), reverse=True)
        try:
            limit = min(max(int(request.args.get("limit", 20)), 1), 40)
        except ValueError:
            limit = 20
        if request.args.get("max_id"):
            ordered = [s for s in ordered if int(s["id"]) < int(request.args["max_id"])]
        if request.args.get("since_id"):
            ordered = [s for s in ordered if int(s["id"]) > int(request.args["since_id"])]
        page = ordered[:limit]
        headers = {}
        if page:
            keep = {name: value for name, value in request.args.items() if name != "max_id"}
            next_url = (
                self.base_url + request.path + "?" + urlencode({**keep, "max_id": page[-1]["id"]})
            )
            headers["Link"] = f'<{next_url}>; rel="next"'
        return self.json(page, headers=headers)


def image_size(data):
    """(width, height) when `data` is an image Pillow can read, else None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
