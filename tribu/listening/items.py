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
