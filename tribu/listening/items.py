from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ParsedItem:
    """One item read from a source (feed entry, post, story), normalized and sanitized,
    before it is stored as a Mention. Connectors and feed parsers produce these."""

    url: str  # canonical absolute URL ("" when the item has none)
    guid: str = ""  # the source's own id (feed guid, status id, post URI)
    title: str = ""
    text: str = ""  # plain text, whitespace collapsed
    html: str = ""  # sanitized with nh3, safe to render
    author_name: str = ""
    author_handle: str = ""  # "@jeanne@mastodon.social", "@jeanne.bsky.social", "u/jeanne"
    author_url: str = ""
    author_followers: int | None = None
    published_at: datetime | None = None  # timezone-aware (UTC)
    network: str = "web"
    engagement: dict = field(default_factory=dict)  # e.g. {"likes": 3, "reposts": 1}
    raw: dict = field(default_factory=dict)  # small metadata worth keeping (ids, tags)


# C0 control characters other than tab and newlines: PostgreSQL refuses NUL in text and
# jsonb, and none of them is ever meaningful in a mention.
_CONTROL_CHARACTERS = dict.fromkeys(
    [code for code in range(32) if chr(code) not in "\t\n\r"] + [0x7F]
)
_TEXT_FIELDS = ("url", "guid", "title", "text", "html", "author_name", "author_handle",
                "author_url")  # fmt: skip


def scrub(value):
    """`value` without control characters, recursively through lists and dicts."""
    if isinstance(value, str):
        return value.translate(_CONTROL_CHARACTERS)
    if isinstance(value, dict):
        return {scrub(key): scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def scrub_items(items):
    """Remove control characters from every text field of every item, in place."""
    for item in items:
        for name in _TEXT_FIELDS:
            setattr(item, name, scrub(getattr(item, name)))
        item.raw = scrub(item.raw)
        item.engagement = scrub(item.engagement)
    return items
