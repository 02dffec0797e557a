"""Plumbing shared by the network connectors: the poll result, JSON over `fetch`, error
wording, and the small text and date helpers every mapping needs.

Every connector reaches the network only through `tribu.listening.fetch.http.fetch`, so the
SSRF guard, the byte and time limits and the Retry-After handling apply to all of them.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.listening.fetch import feeds
from tribu.listening.fetch.http import FetchError, Limits, fetch

# One API page is small (tens of kilobytes); 5 MB leaves room for chatty servers while a
# hostile one cannot make a poll hold much memory.
LIMITS = Limits(max_bytes=5 * 1024 * 1024, max_seconds=20.0)
DEFAULT_MAX_PAGES = 5
MAX_PAGES = 20
MAX_ITEMS = 1000  # per poll, all pages together
MAX_SEEN = 200  # ids remembered at the newest timestamp, to skip them on the next poll

SPACES = re.compile(r"\s+")
LINK_PART = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
REL = re.compile(r'rel\s*=\s*"?([^";,]+)"?', re.I)


@dataclass(slots=True)
class PollResult:
    """What one poll produced. `state` is what the next poll needs (ids, cursors, dates);
    `retry_after` is set when the network asked us to wait (the items gathered before it
    asked are still returned); `problems` lists skipped items and partial results, in the
    user's language, for the source's health page."""

    items: list
    state: dict
    retry_after: int | None = None
    problems: list[str] = field(default_factory=list)


class BadItem(ValueError):
    """An item lacks a field we need, or has it in an unexpected form."""


def config_error(message):
    return FetchError("invalid_config", message)


def base_url_from(config, default=None):
    value = str(config.get("base_url") or default or "").strip().rstrip("/")
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    return value


def limits_for(config):
    """Per-source time limit: operators may shorten it for slow instances (and tests do)."""
    timeout = config.get("timeout")
    if timeout is None:
        return LIMITS
    seconds = min(max(float(timeout), 0.1), 60.0)
    return Limits(
        max_bytes=LIMITS.max_bytes,
        max_seconds=seconds,
        connect_timeout=min(LIMITS.connect_timeout, seconds),
        max_redirects=LIMITS.max_redirects,
    )


def max_pages_for(config):
    try:
        pages = int(config.get("max_pages") or DEFAULT_MAX_PAGES)
    except (TypeError, ValueError):
        pages = DEFAULT_MAX_PAGES
    return min(max(pages, 1), MAX_PAGES)


def with_query(url, params):
    params = {key: value for key, value in params.items() if value not in (None, "")}
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(params, doseq=True)


def get_json(url, *, config, network, explain=None, headers=None):
    """GET `url` and decode its JSON body. Returns (data, FetchResult).

    `explain(error)` may turn an HTTP error into a (code, message) pair that says what to
    do for this network (a token to add, a name to check); other errors pass through."""
    request_headers = {"Accept": "application/json"}
    request_headers.update(headers or {})
    try:
        result = fetch(url, headers=request_headers, limits=limits_for(config))
    except FetchError as error:
        better = explain(error) if explain and error.code == "http_error" else None
        if better:
            code, message = better
            raise FetchError(
                code, message, status=error.status, retry_after=error.retry_after, url=error.url
            ) from None
        raise
    try:
        data = json.loads(result.body)
    except ValueError:
        raise bad_response(network, result.url) from None
    return data, result


def bad_response(network, url):
    return FetchError(
        "bad_response",
        _(
            "%(network)s answered %(url)s with something that is not the expected JSON. Check "
            "the source's base URL; if it is right, the service may be having trouble and "
            "polling will try again later."
        )
        % {"network": network, "url": url},
        url=url,
    )


def skipped_problem(network, item_id, reason):
    return _("Skipped one %(network)s item (%(id)s) that could not be read: %(reason)s.") % {
        "network": network,
        "id": item_id or "?",
        "reason": reason,
    }


def truncated_problem(network, pages):
    return ngettext(
        "%(network)s had more new items than the %(pages)s page read per poll; the oldest of "
        "them were skipped. Poll this source more often, or narrow its query.",
        "%(network)s had more new items than the %(pages)s pages read per poll; the oldest of "
        "them were skipped. Poll this source more often, or narrow its query.",
        pages,
    ) % {"network": network, "pages": pages}


def partial_problem(error):
    return _("Only part of the new items were read: %(error)s") % {"error": error}


def parse_links(value):
    """Parse an RFC 8288 Link header into {rel: url}."""
    links = {}
    for match in LINK_PART.finditer(value or ""):
        for rel in REL.findall(match.group(2)):
            for name in rel.split():
                links.setdefault(name.lower(), match.group(1).strip())
    return links


def same_origin(url, base):
    """Pagination links must stay on the server we were configured for."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def sanitize_html(value, base=""):
    """HTML made safe to render, exactly as feed items are (nh3, links made absolute
    against `base`, size capped)."""
    if not value:
        return ""
    return feeds.sanitize(value, base)


def html_to_text(value):
    """Plain text of an HTML fragment: tags dropped (script and style with their content),
    entities decoded, paragraphs and line breaks turned into spaces, whitespace collapsed."""
    if not value:
        return ""
    return feeds.html_to_text(sanitize_html(value))


def collapse(value):
    return SPACES.sub(" ", value or "").strip()


def parse_datetime(value):
    """An ISO 8601 timestamp ("2024-05-01T10:00:00.123Z") as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise BadItem(_("a date is missing"))
    text = value.strip()
    # Python 3.11 accepts at most 6 fractional digits; some servers send 9.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadItem(_("the date “%(value)s” is not valid") % {"value": value[:40]}) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_timestamp(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadItem(_("a date is missing"))
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadItem(_("the date “%(value)s” is not valid") % {"value": value}) from None


def require(mapping, key, kind=str):
    """mapping[key], checked to be of `kind`; BadItem otherwise."""
    if not isinstance(mapping, dict):
        raise BadItem(_("the item is not an object"))
    value = mapping.get(key)
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise BadItem(_("the field “%(field)s” is missing or malformed") % {"field": key})
    if kind is str and not value:
        raise BadItem(_("the field “%(field)s” is empty") % {"field": key})
    return value


def count(mapping, key):
    """An engagement counter, or None when the network did not send it."""
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def page_list(data, key, network, url):
    """The list of items in a decoded page; a page of another shape is a bad response."""
    items = data.get(key) if isinstance(data, dict) and key else data
    if not isinstance(items, list):
        raise bad_response(network, url)
    return items
