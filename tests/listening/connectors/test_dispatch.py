import pytest

from tribu.listening import connectors
from tribu.listening.connectors import PollResult
from tribu.listening.fetch.http import FetchError


def test_poll_dispatches_by_kind(hackernews_fake, reddit_fake):
    hackernews_fake.add_story("tribu")
    result = connectors.poll(
        "hackernews", {"base_url": hackernews_fake.base_url, "query": "tribu"}, None
    )
    assert isinstance(result, PollResult)
    assert [item.network for item in result.items] == ["hackernews"]
    assert set(connectors.CONNECTORS) == {"mastodon", "bluesky", "reddit", "hackernews"}


def test_unknown_kind_is_a_config_error():
    with pytest.raises(FetchError) as caught:
        connectors.poll("myspace", {}, {})
    assert caught.value.code == "invalid_config" and "mastodon" in caught.value.message


def test_loopback_is_refused_unless_allowed(settings, hackernews_fake):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(FetchError) as caught:
        connectors.poll("hackernews", {"base_url": hackernews_fake.base_url, "query": "x"}, {})
    assert caught.value.code == "blocked_address"
    assert hackernews_fake.requests == []
