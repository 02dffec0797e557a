from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Document:
    """What a topic query is evaluated against: one mention, as plain text fields."""

    text: str
    title: str = ""
    author: str = ""  # display name and handle, e.g. "Jeanne Martin @jeanne@mastodon.social"
    url: str = ""
    lang: str = ""  # ISO 639-1 code, "" when unknown
    source: str = ""  # the source's name
    network: str = ""  # "web", "mastodon", "bluesky", "reddit", "hackernews"
