from datetime import UTC, datetime

import pytest

from tribu.listening.connectors import bluesky
from tribu.listening.fetch.http import FetchError
from tribu.testing.fakes.schemas import validate_lexicon


def config_for(fake, **extra):
    return {"base_url": fake.base_url, "query": "tribu", **extra}


def test_posts_are_mapped(bluesky_fake):
    post = bluesky_fake.add_post(
        "jeanne.bsky.social",
        "J'adore  #Tribu https://example.com",
        display_name="Jeanne",
        likes=5,
        reposts=2,
        replies=1,
        quotes=3,
        tags=["veille"],
    )
    bluesky_fake.add_post("paul.bsky.social", "nothing to see")

    result = bluesky.poll(config_for(bluesky_fake), {})

    assert len(result.items) == 1
    item = result.items[0]
    rkey = post["uri"].rsplit("/", 1)[1]
    assert item.url == f"https://bsky.app/profile/jeanne.bsky.social/post/{rkey}"
    assert item.guid == post["uri"]
    assert item.text == "J'adore #Tribu https://example.com"
    assert item.author_name == "Jeanne"
    assert item.author_handle == "@jeanne.bsky.social"
    assert item.author_url == "https://bsky.app/profile/jeanne.bsky.social"
    assert item.published_at == datetime.fromisoformat(post["indexedAt"]).astimezone(UTC)
    assert item.engagement == {"likes": 5, "reposts": 2, "replies": 1, "quotes": 3}
    assert item.raw["langs"] == ["en"] and item.raw["tags"] == ["veille"]
    assert item.network == "bluesky"
    request = bluesky_fake.requests[-1]
    assert request.path == "/xrpc/app.bsky.feed.searchPosts"
    assert request.arg("q") == "tribu" and request.arg("sort") == "latest"
    assert request.arg("since") is None
    assert result.state["seen"] == [post["uri"]]


def test_fixtures_follow_the_lexicons(bluesky_fake):
    post = bluesky_fake.add_post("jeanne.bsky.social", "hello tribu", display_name="J", tags=["x"])
    validate_lexicon(post, "app.bsky.feed.defs#postView")
    validate_lexicon(post["record"], "app.bsky.feed.post")
    validate_lexicon(
        {"posts": [post], "cursor": "abc", "hitsTotal": 1}, "app.bsky.feed.searchPosts"
    )


def test_handle_invalid_falls_back_to_did(bluesky_fake):
    post = bluesky_fake.add_post("handle.invalid", "tribu")
    item = bluesky.poll(config_for(bluesky_fake), {}).items[0]
    did = post["author"]["did"]
    assert item.url.startswith(f"https://bsky.app/profile/{did}/post/")
    assert item.author_name == "handle.invalid"


def test_incremental_polling_with_since(bluesky_fake):
    first = bluesky_fake.add_post("a.bsky.social", "tribu one")
    result = bluesky.poll(config_for(bluesky_fake), {})
    assert [item.guid for item in result.items] == [first["uri"]]

    again = bluesky.poll(config_for(bluesky_fake), result.state)
    # `since` is inclusive: the post at that instant comes back and is skipped.
    assert again.items == []
    assert bluesky_fake.requests[-1].arg("since") == result.state["since"]

    second = bluesky_fake.add_post("b.bsky.social", "tribu two")
    later = bluesky.poll(config_for(bluesky_fake), again.state)
    assert [item.guid for item in later.items] == [second["uri"]]
    assert later.state["seen"] == [second["uri"]]


def test_posts_at_the_same_instant_are_not_lost(bluesky_fake):
    first = bluesky_fake.add_post("a.bsky.social", "tribu one")
    result = bluesky.poll(config_for(bluesky_fake), {})
    twin = bluesky_fake.add_post(
        "b.bsky.social",
        "tribu twin",
        indexed_at=first["indexedAt"],
        created_at=first["record"]["createdAt"],
    )
    later = bluesky.poll(config_for(bluesky_fake), result.state)
    assert [item.guid for item in later.items] == [twin["uri"]]
    assert sorted(later.state["seen"]) == sorted([first["uri"], twin["uri"]])


def test_cursor_pagination_is_bounded(bluesky_fake):
    bluesky_fake.add_post("a.bsky.social", "tribu zero")
    state = bluesky.poll(config_for(bluesky_fake), {}).state
    for number in range(250):
        bluesky_fake.add_post("a.bsky.social", f"tribu {number}")
    bluesky_fake.requests.clear()

    result = bluesky.poll(config_for(bluesky_fake, max_pages=2), state)

    assert len(bluesky_fake.requests) == 2
    assert bluesky_fake.requests[1].arg("cursor")
    assert len(result.items) == 200
    assert len(result.problems) == 1 and "2 pages" in result.problems[0]

    complete = bluesky.poll(config_for(bluesky_fake, max_pages=5), state)
    assert len(complete.items) == 250 and complete.problems == []


def test_public_appview_refusing_search_is_explained(bluesky_fake):
    bluesky_fake.require_auth = True
    with pytest.raises(FetchError) as caught:
        bluesky.poll(config_for(bluesky_fake), {})
    assert caught.value.code == "auth" and caught.value.status == 403
    assert "access token" in caught.value.message

    bluesky_fake.add_post("a.bsky.social", "tribu")
    result = bluesky.poll(config_for(bluesky_fake, access_token="bsky-token"), {})
    assert len(result.items) == 1
    assert bluesky_fake.requests[-1].headers["authorization"] == "Bearer bsky-token"


def test_expired_token(bluesky_fake):
    with pytest.raises(FetchError) as caught:
        bluesky.poll(config_for(bluesky_fake, access_token="old"), {})
    assert caught.value.code == "auth" and "expired" in caught.value.message


def test_bad_query(bluesky_fake):
    bluesky_fake.fail(400)
    with pytest.raises(FetchError) as caught:
        bluesky.poll(config_for(bluesky_fake), {})
    assert caught.value.code == "bad_request"


def test_wrong_base_url(bluesky_fake):
    with pytest.raises(FetchError) as caught:
        bluesky.poll({"base_url": bluesky_fake.base_url + "/x", "query": "tribu"}, {})
    assert caught.value.code == "not_found" and "AppView" in caught.value.message


def test_rate_limit_and_server_error(bluesky_fake):
    bluesky_fake.fail(429, retry_after="60")
    with pytest.raises(FetchError) as caught:
        bluesky.poll(config_for(bluesky_fake), {})
    assert caught.value.retry_after == 60
    bluesky_fake.fail(502)
    with pytest.raises(FetchError) as caught:
        bluesky.poll(config_for(bluesky_fake), {})
    assert caught.value.status == 502


def test_rate_limit_mid_pagination_keeps_state(bluesky_fake):
    bluesky_fake.add_post("a.bsky.social", "tribu zero")
    state = bluesky.poll(config_for(bluesky_fake), {}).state
    for number in range(150):
        bluesky_fake.add_post("a.bsky.social", f"tribu {number}")
    bluesky_fake.pass_through()
    bluesky_fake.fail(429, retry_after="45")
    result = bluesky.poll(config_for(bluesky_fake), state)
    assert len(result.items) == 100 and result.retry_after == 45
    # Pages go from the newest back: the state stays, so the next poll reads the gap.
    assert result.state == state


def test_malformed_json(bluesky_fake):
    bluesky_fake.malformed()
    with pytest.raises(FetchError) as caught:
        bluesky.poll(config_for(bluesky_fake), {})
    assert caught.value.code == "bad_response"


def test_malformed_post_is_skipped(bluesky_fake):
    good = bluesky_fake.add_post("a.bsky.social", "tribu good")
    bad = bluesky_fake.add_post("b.bsky.social", "tribu bad")
    bad["uri"] = "https://not-at-uri"
    odd = bluesky_fake.add_post("c.bsky.social", "tribu odd")
    odd["record"]["text"] = ["tribu", "odd"]
    result = bluesky.poll(config_for(bluesky_fake), {})
    assert [item.guid for item in result.items] == [good["uri"]]
    assert len(result.problems) == 2


def test_default_base_url_and_config_errors():
    with pytest.raises(FetchError) as caught:
        bluesky.poll({"query": " "}, {})
    assert caught.value.code == "invalid_config"
    assert bluesky.DEFAULT_BASE_URL == "https://public.api.bsky.app"
