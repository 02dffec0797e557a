import pytest

from tribu.testing.fakes.bluesky import BlueskyPdsFake
from tribu.testing.fakes.mastodon import MastodonPublishFake


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """The fakes listen on 127.0.0.1, which the SSRF guard refuses unless allowed."""
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def mastodon_fake():
    with MastodonPublishFake() as fake:
        yield fake


@pytest.fixture
def bluesky_fake():
    with BlueskyPdsFake() as fake:
        yield fake
