import pytest

from ..fakes import BlueskyFake, HackerNewsFake, MastodonFake, RedditFake


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """The fakes listen on 127.0.0.1, which the SSRF guard refuses unless allowed."""
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def mastodon_fake():
    with MastodonFake() as fake:
        yield fake


@pytest.fixture
def bluesky_fake():
    with BlueskyFake() as fake:
        yield fake


@pytest.fixture
def reddit_fake():
    with RedditFake() as fake:
        yield fake


@pytest.fixture
def hackernews_fake():
    with HackerNewsFake() as fake:
        yield fake
