"""What the publisher expects from each network module, and the errors it understands.

A network module (mastodon.py, bluesky.py, …) exposes one `Client` subclass. The publisher
never sees HTTP: it calls `publish()` and reads either a `Published` or a `PublishError`
whose `kind` tells it what to do next (docs/networks.md, "Retry taxonomy"):

- `retry_later`: 429, 5xx, media still processing. Retried with back-off, honouring
  `retry_after` when the network sent one.
- `reauth`: the token is dead or revoked. The channel needs reconnecting; the delivery is
  held, not failed.
- `fix_content`: the network refused the content (too long, bad media). A person must edit.
- `fatal`: the account cannot publish (suspended, permission missing).
- `unknown`: the request left and no answer came (read timeout, connection reset after the
  body was sent). The post may exist. The publisher retries only through the network's
  idempotency (`Client.idempotent`), otherwise it asks `find()` first.

`sent` on a PublishError says whether the request may have reached the network: a DNS
failure or a refused connection never did, so even a network without idempotency can be
retried at once.

Stage identifiers (uploaded media ids, Bluesky's record key, Instagram containers) are saved
through the `save_stage` callback *before* the call that uses them, so a worker that dies
mid-way resumes instead of starting over.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field


class ErrorKind:
    RETRY_LATER = "retry_later"
    REAUTH = "reauth"
    FIX_CONTENT = "fix_content"
    FATAL = "fatal"
    UNKNOWN = "unknown"


class PublishError(Exception):
    """A failed network call. `code` is stable (for programs and tests); `message` is in the
    active language and says what to do; `detail` is the network's own words."""

    def __init__(
        self,
        kind,
        code,
        message,
        *,
        status=None,
        retry_after=None,
        detail="",
        sent=True,
        request="",
    ):
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after  # seconds
        self.detail = detail
        self.sent = sent
        self.request = request  # "POST /api/v1/statuses", for the delivery log

    def __str__(self):
        return self.message


@dataclass(slots=True)
class Published:
    remote_id: str
    url: str = ""
    # Each request made, for the delivery log: (request, status, duration_ms).
    requests: list = field(default_factory=list)
    # What went wrong once the post was online, translated and saying what to do: a first
    # comment the network refused for good. The post counts as published (repeating it
    # would make a duplicate); the team is told to finish by hand.
    warnings: list = field(default_factory=list)


@dataclass(slots=True)
class NotFound:
    """`find()` looked and the post is not on the network: publishing again is safe."""

    requests: list = field(default_factory=list)


@dataclass(slots=True)
class CannotTell:
    """`find()` cannot settle it (the network gives no way to read the account's posts)."""

    reason: str = ""
    requests: list = field(default_factory=list)


@dataclass(slots=True)
class Account:
    """What `connect()` learns about the account."""

    account_id: str
    handle: str
    name: str
    avatar_url: str = ""
    account_kind: str = "profile"
    # Secrets to store (encrypted) on the channel: tokens, app password, session.
    secrets: dict = field(default_factory=dict)
    token_expires_at: object = None  # aware datetime or None
    consent_expires_at: object = None
    limits: dict = field(default_factory=dict)
    # When to call refresh() next (aware datetime). None: 15 minutes before
    # token_expires_at. Meta's 60-day tokens can be refreshed only once a day old, so their
    # clients ask for a refresh well before the end.
    refresh_at: object = None


@dataclass(slots=True)
class Content:
    """What one delivery publishes, frozen at its first attempt (Delivery.content)."""

    text: str
    thread: list = field(default_factory=list)  # follow-up parts, in order
    first_comment: str = ""
    # [{"path", "alt", "content_type", "width", "height", "size"}], path under MEDIA_ROOT
    media: list = field(default_factory=list)
    link_card: dict = field(default_factory=dict)  # {"url", "title", "description", "image"}
    language: str = ""  # ISO 639-1 when known

    def as_json(self):
        return {
            "text": self.text,
            "thread": list(self.thread),
            "first_comment": self.first_comment,
            "media": list(self.media),
            "link_card": dict(self.link_card),
            "language": self.language,
        }

    @classmethod
    def from_json(cls, data):
        return cls(
            text=data.get("text", ""),
            thread=list(data.get("thread") or []),
            first_comment=data.get("first_comment", ""),
            media=list(data.get("media") or []),
            link_card=dict(data.get("link_card") or {}),
            language=data.get("language", ""),
        )


@contextmanager
def no_refresh_lock():
    yield None


class Client:
    """One connected account on one network. Subclasses implement the methods below.

    `channel_like` has `base_url`, `account_id`, `handle`, `secret_values` (dict) and
    `limits`; it is a Channel in production and may be a simple object in tests.
    `on_secrets(dict)` is called whenever the client obtained new tokens (a refreshed
    session) so the caller stores them at once.

    `refresh_lock()` is a context manager a client holds while it spends a single-use
    refresh token (Bluesky's and X's rotate). It serializes refreshes of one channel and
    yields the secrets as stored at that moment: when their refresh token differs from the
    client's, someone refreshed meanwhile, and the client takes those tokens instead of
    spending a token that is already dead.
    """

    network = ""
    service_name = ""  # the network's name in messages: "LinkedIn"
    # The operator's app this network signs in through (settings.TRIBU_NETWORK_APPS key:
    # "linkedin", "meta", "x", "threads"); "" for networks connected otherwise.
    app_key = ""
    # True when re-sending with the same stage and idempotency key cannot create a second
    # post (Mastodon within an hour, Bluesky with its record key).
    idempotent = False
    # How long the network honours the idempotency key, in seconds (None: forever).
    idempotency_window = None

    def __init__(self, channel_like, *, on_secrets=None, timeout=None, refresh_lock=None):
        self.channel = channel_like
        self.on_secrets = on_secrets or (lambda secrets: None)
        self.timeout = timeout
        self.refresh_lock = refresh_lock or no_refresh_lock

    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        """Check the credentials against the network and describe the account (Account)."""
        raise NotImplementedError

    # --- OAuth, for networks with an `app_key` (http.App carries the operator's app) ---
    @classmethod
    def authorization_url(cls, app, redirect_uri, state, code_challenge):
        """Where to send the user to authorize Tribu (PKCE S256 where the network has it)."""
        raise NotImplementedError

    @classmethod
    def exchange_code(cls, app, redirect_uri, code, code_verifier, *, timeout=None):
        """Trade the authorization code for tokens: a dict (access_token, refresh_token,
        expires_at as ISO 8601, …) that `accounts()` reads. Raises PublishError."""
        raise NotImplementedError

    @classmethod
    def accounts(cls, app, grant, *, timeout=None):
        """The accounts this grant can publish to, each an Account whose `secrets` are
        complete (a LinkedIn member and the pages they administer, every Facebook Page with
        its page token, …). Raises PublishError."""
        raise NotImplementedError

    def refresh(self):
        """Refresh tokens before they expire. Returns an Account-like update (secrets,
        token_expires_at) or None when the network has nothing to refresh."""
        return None

    def publish(self, content, *, idempotency_key, stage, save_stage):
        """Publish `content` (Content). `stage` is the dict saved by earlier attempts;
        `save_stage(dict)` persists it before the next call. Returns Published or raises
        PublishError."""
        raise NotImplementedError

    def find(self, content, *, stage, since):
        """Look for a post made from `content` after `since` (aware datetime): Published,
        NotFound or CannotTell."""
        return CannotTell()
