from datetime import UTC, datetime

import pytest

from tribu.listening.connectors import reddit
from tribu.listening.fetch.http import FetchError


def sub_config(fake, **extra):
    return {"base_url": fake.base_url, "mode": "subreddit", "query": "r/france", **extra}


@pytest.fixture
def france(reddit_fake):
    reddit_fake.add_subreddit("france")
    return reddit_fake


def test_subreddit_posts_are_mapped(france):
    post = france.add_post(
        "france",
        "Tribu  est   sortie",
        selftext="Du <b>texte</b>",
        author="jeanne",
        score=12,
        comments=3,
    )
    link = france.add_post(
        "france", "Un lien", link="https://example.com/article", author="[deleted]"
    )

    result = reddit.poll(sub_config(france), {})

    by_guid = {item.guid: item for item in result.items}
    item = by_guid[post["data"]["name"]]
    assert item.url == "https://www.reddit.com" + post["data"]["permalink"]
    assert item.title == "Tribu est sortie"
    assert item.text == "Du <b>texte</b>"
    assert "&lt;b&gt;" in item.html and "<b>" not in item.html
    assert item.author_name == "jeanne"
    assert item.author_handle == "u/jeanne"
    assert item.author_url == "https://www.reddit.com/user/jeanne"
    assert item.published_at == datetime.fromtimestamp(post["data"]["created_utc"], UTC)
    assert item.engagement == {"score": 12, "comments": 3}
    assert item.network == "reddit"
    assert item.raw["subreddit"] == "france"
    deleted = by_guid[link["data"]["name"]]
    assert deleted.author_handle == "" and deleted.raw["link_url"] == "https://example.com/article"
    assert result.state == {
        "before": link["data"]["name"],
        "newest_utc": link["data"]["created_utc"],
    }
    request = france.requests[-1]
    assert request.path == "/r/france/new.json" and request.arg("raw_json") == "1"
    assert request.headers["user-agent"].startswith("server:tribu:")


def test_incremental_polling_with_before(france):
    first = france.add_post("france", "one")
    result = reddit.poll(sub_config(france), {})
    second = france.add_post("france", "two")
    later = reddit.poll(sub_config(france), result.state)
    assert [item.guid for item in later.items] == [second["data"]["name"]]
    assert france.requests[-1].arg("before") == first["data"]["name"]
    assert later.state["before"] == second["data"]["name"]


def test_pagination_towards_newer_posts_is_bounded(france):
    anchor = france.add_post("france", "anchor")
    posts = [france.add_post("france", f"post {n}") for n in range(250)]
    config = sub_config(france, max_pages=2)
    result = reddit.poll(
        config, {"before": anchor["data"]["name"], "newest_utc": anchor["data"]["created_utc"]}
    )
    assert len(france.requests) == 2
    assert {item.guid for item in result.items} == {p["data"]["name"] for p in posts[:200]}
    assert result.state["before"] == posts[199]["data"]["name"]
    rest = reddit.poll(config, result.state)
    assert {item.guid for item in rest.items} == {p["data"]["name"] for p in posts[200:]}


def test_deleted_anchor_falls_back_to_times(france):
    first = france.add_post("france", "one")
    state = reddit.poll(sub_config(france), {}).state
    france.posts.remove(first)  # deleted: `before` now answers an empty listing
    second = france.add_post("france", "two")
    result = reddit.poll(sub_config(france), state)
    assert [item.guid for item in result.items] == [second["data"]["name"]]
    assert result.state["before"] == second["data"]["name"]


def test_search(reddit_fake):
    reddit_fake.add_subreddit("france")
    hit = reddit_fake.add_post("france", "Tribu rocks")
    reddit_fake.add_post("france", "other")
    result = reddit.poll({"base_url": reddit_fake.base_url, "mode": "search", "query": "tribu"}, {})
    assert [item.guid for item in result.items] == [hit["data"]["name"]]
    request = reddit_fake.requests[-1]
    assert request.path == "/search.json"
    assert request.arg("q") == "tribu" and request.arg("sort") == "new"


def test_unknown_subreddit_redirect(reddit_fake):
    with pytest.raises(FetchError) as caught:
        reddit.poll(sub_config(reddit_fake, query="nope"), {})
    assert caught.value.code == "not_found" and "r/nope" in caught.value.message


def test_unknown_subreddit_404(france):
    france.fail(404)
    with pytest.raises(FetchError) as caught:
        reddit.poll(sub_config(france), {})
    assert caught.value.code == "not_found" and "r/france" in caught.value.message


def test_private_subreddit(reddit_fake):
    reddit_fake.add_subreddit("secret", private=True)
    with pytest.raises(FetchError) as caught:
        reddit.poll(sub_config(reddit_fake, query="secret"), {})
    assert caught.value.code == "auth" and "private" in caught.value.message


def test_rate_limit_with_retry_after(france):
    france.fail(429, retry_after="90")
    with pytest.raises(FetchError) as caught:
        reddit.poll(sub_config(france), {})
    assert caught.value.code == "rate_limited" and caught.value.retry_after == 90


def test_server_error_and_malformed(france):
    france.fail(503)
    with pytest.raises(FetchError) as caught:
        reddit.poll(sub_config(france), {})
    assert caught.value.status == 503
    france.respond_raw(b'{"kind": "t3", "data": {}}')
    with pytest.raises(FetchError) as caught:
        reddit.poll(sub_config(france), {})
    assert caught.value.code == "bad_response"


def test_malformed_post_is_skipped(france):
    good = france.add_post("france", "good")
    bad = france.add_post("france", "bad")
    del bad["data"]["permalink"]
    result = reddit.poll(sub_config(france), {})
    assert [item.guid for item in result.items] == [good["data"]["name"]]
    assert len(result.problems) == 1 and bad["data"]["name"] in result.problems[0]


@pytest.mark.parametrize(
    "config",
    [
        {"mode": "subreddit", "query": "not a name"},
        {"mode": "search", "query": ""},
        {"mode": "user", "query": "x"},
    ],
)
def test_invalid_config(config):
    with pytest.raises(FetchError) as caught:
        reddit.poll(config, {})
    assert caught.value.code == "invalid_config"
