"""Contract fakes of the social networks: real HTTP servers on loopback, one class per
network, built from the API descriptions in ../shared/data/apis and docs/networks.md."""

from tribu.testing.fakes.server import FakeServer, RecordedRequest

from .bluesky import BlueskyFake
from .hackernews import HackerNewsFake
from .mastodon import MastodonFake
from .reddit import RedditFake

__all__ = [
    "BlueskyFake",
    "FakeServer",
    "HackerNewsFake",
    "MastodonFake",
    "RecordedRequest",
    "RedditFake",
]
