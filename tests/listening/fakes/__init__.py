"""Contract fakes of the social networks: real HTTP servers on loopback, one class per
network, built from the API descriptions in ../shared/data/apis and docs/networks.md."""

from .bluesky import BlueskyFake
from .hackernews import HackerNewsFake
from .mastodon import MastodonFake
from .reddit import RedditFake
from .server import FakeServer, RecordedRequest

__all__ = [
    "BlueskyFake",
    "FakeServer",
    "HackerNewsFake",
    "MastodonFake",
    "RecordedRequest",
    "RedditFake",
]
