from datetime import UTC, datetime

import pytest

from tribu.listening.connectors import hackernews
from tribu.listening.fetch.http import FetchError


def config_for(fake, **extra):
    return {"base_url": fake.base_url, "query": "tribu", **extra}


def test_stories_and_comments_are_mapped(hackernews_fake):
    story = hackernews_fake.add_story(
        "Show HN: Tribu", url="https://tribu.example", author="jeanne", points=42, comments=7
    )
    ask = hackernews_fake.add_story(
        "Ask HN: tribu?", text="<p>Is it <i>good</i>?<script>x</script></p>"
    )
    comment = hackernews_fake.add_comment(story, "I like tribu &amp; more<p>second")

    result = hackernews.poll(config_for(hackernews_fake), {})

    by_id = {item.raw["id"]: item for item in result.items}
    shown = by_id[story["objectID"]]
    assert shown.url == "https://tribu.example"
    assert shown.guid == f"https://news.ycombinator.com/item?id={story['objectID']}"
    assert shown.title == "Show HN: Tribu"
    assert shown.author_handle == "jeanne"
    assert shown.author_url == "https://news.ycombinator.com/user?id=jeanne"
    assert shown.engagement == {"points": 42, "comments": 7}
    assert shown.published_at == datetime.fromtimestamp(story["created_at_i"], UTC)
    assert shown.network == "hackernews"
    asked = by_id[ask["objectID"]]
    assert asked.url == f"https://news.ycombinator.com/item?id={ask['objectID']}"
    assert asked.text == "Is it good?" and "script" not in asked.html
    answer = by_id[comment["objectID"]]
    assert answer.title == "Show HN: Tribu"
    assert answer.text == "I like tribu & more second"
    assert answer.url == f"https://news.ycombinator.com/item?id={comment['objectID']}"
    assert answer.raw["type"] == "comment" and answer.raw["story_id"] == story["objectID"]
    request = hackernews_fake.requests[-1]
    assert request.path == "/api/v1/search_by_date"
    assert request.arg("tags") == "(story,comment)" and request.arg("query") == "tribu"
    assert request.arg("numericFilters") is None
    assert result.state == {"since": comment["created_at_i"], "seen": [comment["objectID"]]}


def test_incremental_polling(hackernews_fake):
    first = hackernews_fake.add_story("tribu one")
    result = hackernews.poll(config_for(hackernews_fake), {})
    assert [item.raw["id"] for item in result.items] == [first["objectID"]]
    twin = hackernews_fake.add_story("tribu twin", same_second=True)
    later_story = hackernews_fake.add_story("tribu later")
    later = hackernews.poll(config_for(hackernews_fake), result.state)
    assert (
        hackernews_fake.requests[-1].arg("numericFilters")
        == f"created_at_i>={first['created_at_i']}"
    )
    assert sorted(item.raw["id"] for item in later.items) == sorted(
        [twin["objectID"], later_story["objectID"]]
    )
    assert hackernews.poll(config_for(hackernews_fake), later.state).items == []


def test_pages_are_bounded(hackernews_fake):
    hackernews_fake.add_story("tribu zero")
    state = hackernews.poll(config_for(hackernews_fake), {}).state
    for number in range(250):
        hackernews_fake.add_story(f"tribu {number}")
    hackernews_fake.requests.clear()
    result = hackernews.poll(config_for(hackernews_fake, max_pages=2), state)
    assert [r.arg("page") for r in hackernews_fake.requests] == [None, "1"]
    assert len(result.items) == 200 and len(result.problems) == 1
    complete = hackernews.poll(config_for(hackernews_fake), state)
    assert len(complete.items) == 250 and complete.problems == []


@pytest.mark.parametrize(
    "status, code", [(400, "bad_request"), (403, "auth"), (404, "not_found"), (500, "http_error")]
)
def test_http_errors(hackernews_fake, status, code):
    hackernews_fake.fail(status)
    with pytest.raises(FetchError) as caught:
        hackernews.poll(config_for(hackernews_fake), {})
    assert caught.value.code == code and caught.value.status == status


def test_rate_limited(hackernews_fake):
    hackernews_fake.fail(429, retry_after="3600")
    with pytest.raises(FetchError) as caught:
        hackernews.poll(config_for(hackernews_fake), {})
    assert caught.value.retry_after == 3600


def test_malformed_json_and_items(hackernews_fake):
    hackernews_fake.malformed()
    with pytest.raises(FetchError) as caught:
        hackernews.poll(config_for(hackernews_fake), {})
    assert caught.value.code == "bad_response"
    good = hackernews_fake.add_story("tribu good")
    bad = hackernews_fake.add_story("tribu bad")
    bad["created_at_i"] = "soon"
    result = hackernews.poll(config_for(hackernews_fake), {})
    assert [item.raw["id"] for item in result.items] == [good["objectID"]]
    assert len(result.problems) == 1


def test_slow_answer_times_out(hackernews_fake):
    hackernews_fake.slow(1.0)
    with pytest.raises(FetchError) as caught:
        hackernews.poll(config_for(hackernews_fake, timeout=0.3), {})
    assert caught.value.code == "timeout"
