"""Listening sources: create, change and delete them with validation, discover feeds, import
and export OPML, and describe each source's health in plain words.

A feed source is a URL. A network source (Mastodon, Bluesky, Reddit, Hacker News) is a base
URL (any instance or AppView: tests point it at loopback fakes), a mode and a query, kept in
`config` as {"base_url", "mode", "query"} (what the connectors read); `url` repeats the base
URL, as the model documents.

Every URL passes the fetch module's SSRF guard before it is saved (and again on every fetch):
loopback, private, link-local and metadata addresses are refused unless the operator sets
TRIBU_ALLOW_PRIVATE_ADDRESSES. A host name that does not resolve *now* is accepted: the site
may be down for a moment, and the first poll reports it in plain words.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tribu.core.services.audit import record
from tribu.listening.fetch.http import FetchError, check_url, fetch, resolve
from tribu.listening.models import Source

logger = logging.getLogger(__name__)

FEED = Source.Kind.FEED
MASTODON = Source.Kind.MASTODON
BLUESKY = Source.Kind.BLUESKY
REDDIT = Source.Kind.REDDIT
HACKERNEWS = Source.Kind.HACKERNEWS
KINDS = (FEED, MASTODON, BLUESKY, REDDIT, HACKERNEWS)
NETWORK_KINDS = (MASTODON, BLUESKY, REDDIT, HACKERNEWS)

# The public service each network kind reads when no base URL is given.
DEFAULT_BASE_URLS = {
    MASTODON: "https://mastodon.social",
    BLUESKY: "https://public.api.bsky.app",
    REDDIT: "https://www.reddit.com",
    HACKERNEWS: "https://hn.algolia.com",
}

# What each network kind can follow: mode -> a short description for forms and errors.
MODES = {
    MASTODON: {
        "hashtag": gettext_lazy("posts with a hashtag"),
        "search": gettext_lazy("public search"),
        "account": gettext_lazy("an account's posts"),
    },
    BLUESKY: {"search": gettext_lazy("post search")},
    REDDIT: {
        "search": gettext_lazy("search across Reddit"),
        "subreddit": gettext_lazy("new posts in a subreddit"),
    },
    HACKERNEWS: {"search": gettext_lazy("stories and comments search")},
}

# Settings the connectors understand besides base_url, mode and query; others are dropped.
CONNECTOR_OPTIONS = ("access_token", "lang", "tags", "max_pages", "timeout")
# Of those, the credentials: stored encrypted in Source.secrets, never in the JSON config.
SECRET_OPTIONS = ("access_token",)


def split_secrets(config):
    """(public config, secrets) from a cleaned config."""
    public = {key: value for key, value in config.items() if key not in SECRET_OPTIONS}
    secrets = {key: value for key, value in config.items() if key in SECRET_OPTIONS and value}
    return public, secrets


def connector_config(source):
    """The settings a connector needs to poll `source`, credentials included."""
    config = dict(source.config or {})
    if source.secrets:
        config.update(json.loads(source.secrets))
    return config


NAME_MAX_LENGTH = 200
VALUE_MAX_LENGTH = 300


class SourceError(ValueError):
    """A refused change; the text is for the user. `field` names the input at fault."""

    def __init__(self, message, field="__all__"):
        super().__init__(message)
        self.message = message
        self.field = field


class DuplicateSource(SourceError):
    """The workspace already follows this source; `existing` is that source."""

    def __init__(self, message, existing, field="url"):
        super().__init__(message, field)
        self.existing = existing


def kind_label(kind):
    return str(dict(Source.Kind.choices).get(kind, kind))


# Validation ------------------------------------------------------------------------------


def normalize_url(url):
    """A URL in the form sources are compared in: scheme and host lower case, no fragment,
    no default port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def check_public_url(url, field="url"):
    """Validate a URL that Tribu will fetch: its form, then the SSRF guard. Returns it
    normalized; raises SourceError with a message that says how to fix it."""
    url = (url or "").strip()
    if not url:
        raise SourceError(_("Enter the address of the feed, starting with https://."), field)
    if "://" not in url:
        # People paste "example.com/feed" from the address bar.
        url = "https://" + url
    try:
        check_url(url)
        resolve(url, allow_private=settings.TRIBU_ALLOW_PRIVATE_ADDRESSES)
    except FetchError as error:
        if error.code != "dns":
            raise SourceError(error.message, field) from None
    try:
        return normalize_url(url)
    except ValueError:
        raise SourceError(
            _("“%(url)s” is not a valid URL. Check it and try again.") % {"url": url}, field
        ) from None


def clean_value(kind, mode, value):
    """The followed hashtag, account, subreddit or search without the decorations people
    type (#, @, r/)."""
    value = "" if value is None else str(value).strip()
    if kind == MASTODON and mode == "hashtag":
        value = value.lstrip("#")
        if not value or any(char.isspace() for char in value):
            raise SourceError(
                _("Enter one hashtag, without spaces, such as “opensource”."), "config.query"
            )
    elif kind == MASTODON and mode == "account":
        value = value.lstrip("@")
        if not value or any(char.isspace() for char in value):
            raise SourceError(
                _("Enter the account as name@instance, such as “jeanne@mastodon.social”."),
                "config.query",
            )
    elif kind == REDDIT and mode == "subreddit":
        for prefix in ("/r/", "r/"):
            if value.lower().startswith(prefix):
                value = value[len(prefix) :]
        value = value.strip("/")
        if not value or not all(char.isalnum() or char == "_" for char in value):
            raise SourceError(
                _("Enter the subreddit's name, such as “france” for r/france."), "config.query"
            )
    if not value:
        raise SourceError(_("Enter what to search for."), "config.query")
    if len(value) > VALUE_MAX_LENGTH:
        raise SourceError(
            _("At most %(max)s characters.") % {"max": VALUE_MAX_LENGTH}, "config.query"
        )
    return value


def clean_network_config(kind, config):
    """{"base_url", "mode", "query"} (plus connector options) for a network kind, validated
    and normalized."""
    if not isinstance(config, dict):
        raise SourceError(
            _("Give the source settings as an object with base_url, mode and query."), "config"
        )
    modes = MODES[kind]
    mode = (config.get("mode") or next(iter(modes))).strip()
    if mode not in modes:
        raise SourceError(
            _("%(kind)s sources can follow: %(modes)s.")
            % {
                "kind": kind_label(kind),
                "modes": ", ".join(f"{name} ({label})" for name, label in modes.items()),
            },
            "config.mode",
        )
    base_url = check_public_url(
        config.get("base_url") or DEFAULT_BASE_URLS[kind], "config.base_url"
    ).rstrip("/")
    query = clean_value(kind, mode, config.get("query"))
    extra = {k: v for k, v in config.items() if k in CONNECTOR_OPTIONS}
    return {**extra, "base_url": base_url, "mode": mode, "query": query}


def default_name(kind, url, config):
    if kind == FEED:
        return urlsplit(url).hostname or url
    value = config["query"]
    if kind == MASTODON:
        return {"hashtag": f"#{value}", "account": f"@{value}"}.get(config["mode"], value)
    if kind == REDDIT and config["mode"] == "subreddit":
        return f"r/{value}"
    return f"{kind_label(kind)}: {value}"


def clean_name(name):
    name = (name or "").strip()
    if len(name) > NAME_MAX_LENGTH:
        raise SourceError(_("At most %(max)s characters.") % {"max": NAME_MAX_LENGTH}, "name")
    return name


def identity(kind, url, config):
    """What makes two sources the same: the feed URL, or the network, base URL, mode and
    query (case-insensitive, since hashtags and searches are)."""
    if kind == FEED:
        return (FEED, url)
    return (kind, config["base_url"].lower(), config["mode"], config["query"].casefold())


def find_duplicate(workspace, kind, url, config, exclude=None):
    wanted = identity(kind, url, config)
    candidates = Source.objects.filter(workspace=workspace, kind=kind)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    if kind == FEED:
        candidates = candidates.filter(url=url)
    for source in candidates:
        if identity(source.kind, source.url, source.config or {}) == wanted:
            return source
    return None


def duplicate_error(existing):
    return DuplicateSource(
        _("This workspace already follows this source, as “%(name)s”.") % {"name": existing.name},
        existing,
    )


def prepare(workspace, kind, url, config):
    """Validate kind, URL and config; returns (url, config)."""
    if kind not in KINDS:
        raise SourceError(
            _("Choose a kind of source among: %(kinds)s.") % {"kinds": ", ".join(KINDS)}, "kind"
        )
    if kind == FEED:
        url = check_public_url(url)
        config = {}
    else:
        config = clean_network_config(kind, config or {})
        url = config["base_url"]
    return url, config


# Changes -----------------------------------------------------------------------------------


def create_source(
    workspace, *, kind, url="", name="", config=None, actor=None, request=None, audit=True
):
    """Validate and create a source, due for its first poll now."""
    url, config = prepare(workspace, kind, url, config)
    name = clean_name(name)
    existing = find_duplicate(workspace, kind, url, config)
    if existing is not None:
        raise duplicate_error(existing)
    config, secrets = split_secrets(config)
    state = {}
    if not name:
        name = default_name(kind, url, config)
        # The first successful poll names a feed after its own title.
        state["auto_name"] = kind == FEED
    try:
        with transaction.atomic():
            source = Source.objects.create(
                workspace=workspace,
                kind=kind,
                name=name[:NAME_MAX_LENGTH],
                url=url,
                config=config,
                secrets=json.dumps(secrets) if secrets else "",
                state=state,
                enabled=True,
                next_poll_at=timezone.now(),
            )
    except IntegrityError:
        # A unique constraint in the model and a concurrent create: same answer as above.
        existing = find_duplicate(workspace, kind, url, config)
        if existing is None:
            raise
        raise duplicate_error(existing) from None
    if audit:
        record(
            workspace,
            "source.created",
            actor=actor,
            request=request,
            target=source.name,
            kind=kind,
            url=url,
        )
    return source


def update_source(source, *, name=None, enabled=None, paused=None, actor=None, request=None):
    """Rename, enable/disable, pause/resume. Resuming clears the failure count and makes
    the source due now, so the manager sees at once whether the problem is gone."""
    fields = []
    if name is not None:
        name = clean_name(name)
        if not name:
            raise SourceError(_("Enter a name for this source."), "name")
        if name != source.name:
            source.name = name
            fields.append("name")
            state = dict(source.state or {})
            if state.pop("auto_name", None):
                source.state = state
                fields.append("state")
    now = timezone.now()
    resumed = False
    if enabled is not None and enabled != source.enabled:
        source.enabled = enabled
        fields.append("enabled")
        if enabled:
            source.next_poll_at = now
            fields.append("next_poll_at")
    if paused is True and source.paused_at is None:
        source.paused_at = now
        source.paused_reason = _("Paused by %(who)s.") % {"who": who(actor, request)}
        fields += ["paused_at", "paused_reason"]
        record(
            source.workspace,
            "source.paused",
            actor=actor,
            request=request,
            target=source.name,
            reason="manual",
        )
    elif paused is False and source.paused_at is not None:
        resume(source, now)
        fields += ["paused_at", "paused_reason", "consecutive_failures", "next_poll_at"]
        resumed = True
    if fields:
        source.save(update_fields=sorted(set(fields)))
    if resumed:
        record(source.workspace, "source.resumed", actor=actor, request=request, target=source.name)
    return source


def resume(source, now):
    source.paused_at = None
    source.paused_reason = ""
    source.consecutive_failures = 0
    source.next_poll_at = now


def who(actor, request):
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return getattr(actor, "email", "") or _("a team member")


def delete_source(source, *, actor=None, request=None):
    workspace, name, kind, url = source.workspace, source.name, source.kind, source.url
    source.delete()
    record(
        workspace, "source.deleted", actor=actor, request=request, target=name, kind=kind, url=url
    )


# Discovery ---------------------------------------------------------------------------------


@dataclass
class Discovered:
    url: str
    title: str = ""


def discover_feeds(site_url):
    """Feeds a site offers: the URL itself when it is a feed, else the feeds its page links
    to with <link rel="alternate">. Raises SourceError with the fetch's explanation."""
    from tribu.listening.fetch import feeds

    url = check_public_url(site_url)
    try:
        result = fetch(url)
    except FetchError as error:
        raise SourceError(error.message, "url") from None
    content_type = result.headers.get("content-type") or ""
    if "html" not in content_type.lower():
        parsed = feeds.parse_feed(result.body, url=result.url, content_type=content_type)
        if parsed.format:
            return [Discovered(result.url, parsed.title)]
    return [
        Discovered(url, title)
        for url, title in feeds.discover(result.body, result.url, with_titles=True)
    ]


# OPML ----------------------------------------------------------------------------------------


@dataclass
class ImportLine:
    title: str
    url: str
    status: str  # "created", "duplicate" or "invalid"
    reason: str = ""
    source: Source | None = None


def import_opml(workspace, data, *, actor=None, request=None):
    """Create a feed source for each outline of an OPML file. The valid ones are imported
    and the others reported, line by line: a file exported by another reader often has a
    few dead or duplicate entries, and they should not block the rest.

    Raises SourceError when the file itself cannot be read."""
    from tribu.listening.fetch import feeds

    try:
        outlines = feeds.read_opml(data)
    except ValueError as error:
        raise SourceError(str(error), "file") from None
    lines = []
    created = 0
    for title, url in outlines:
        title = (title or "").strip()[:NAME_MAX_LENGTH]
        try:
            source = create_source(
                workspace, kind=FEED, url=url, name=title, actor=actor, audit=False
            )
        except DuplicateSource as error:
            lines.append(ImportLine(title, url, "duplicate", error.message, error.existing))
        except SourceError as error:
            lines.append(ImportLine(title, url, "invalid", error.message))
        else:
            created += 1
            lines.append(ImportLine(title or source.name, source.url, "created", "", source))
    if created:
        # One event for the import rather than one per feed: the log stays readable.
        record(
            workspace,
            "source.created",
            actor=actor,
            request=request,
            target=ngettext(
                "%(count)d feed from an OPML file", "%(count)d feeds from an OPML file", created
            )
            % {"count": created},
            kind=FEED,
            imported=created,
        )
    return lines


def export_opml(workspace):
    """The workspace's feed sources as an OPML file (bytes)."""
    from tribu.listening.fetch import feeds

    sources = Source.objects.filter(workspace=workspace, kind=FEED).order_by("name", "pk")
    return feeds.write_opml([(source.name, source.url) for source in sources])


# Health ----------------------------------------------------------------------------------


@dataclass
class Health:
    status: str  # "ok", "new", "failing", "paused", "disabled"
    label: str  # the status in plain words
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    items_seen: int
    next_poll_at: datetime | None
    paused: bool
    paused_reason: str
    consecutive_failures: int


def health(source):
    """What a manager needs to know about a source, in plain words."""
    if source.paused_at is not None:
        status = "paused"
        label = (
            _("Paused: %(reason)s") % {"reason": source.paused_reason}
            if source.paused_reason
            else _("Paused")
        )
    elif not source.enabled:
        status, label = "disabled", _("Turned off")
    elif source.consecutive_failures:
        status = "failing"
        label = ngettext(
            "Failing: %(count)d poll in a row failed; retrying with longer waits.",
            "Failing: %(count)d polls in a row failed; retrying with longer waits.",
            source.consecutive_failures,
        ) % {"count": source.consecutive_failures}
    elif source.last_success_at is None:
        status, label = "new", _("Waiting for its first poll")
    else:
        status, label = "ok", _("Working")
    return Health(
        status=status,
        label=str(label),
        last_success_at=source.last_success_at,
        last_error=source.last_error or "",
        last_error_at=source.last_error_at,
        items_seen=source.items_seen,
        next_poll_at=None if status in ("paused", "disabled") else source.next_poll_at,
        paused=source.paused_at is not None,
        paused_reason=source.paused_reason or "",
        consecutive_failures=source.consecutive_failures,
    )
