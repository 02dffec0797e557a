from datetime import UTC, datetime

import pytest

from tribu.listening.connectors import mastodon
from tribu.listening.fetch.http import FetchError
from tribu.testing.fakes.schemas import validate_openapi


def hashtag_config(fake, **extra):
    return {"base_url": fake.base_url, "mode": "hashtag", "query": "#Tribu", **extra}


def test_hashtag_statuses_are_mapped(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne", display_name="Jeanne Dupont", followers=321)
    status = mastodon_fake.add_status(
        jeanne,
        "L'école <b>& Tribu</b>",
        tags=["tribu"],
        language="fr",
        favourites=4,
        reblogs=2,
        replies=1,
    )
    mastodon_fake.add_status(jeanne, "autre chose", tags=["other"])

    result = mastodon.poll(hashtag_config(mastodon_fake), {})

    assert [item.guid for item in result.items] == [status["uri"]]
    item = result.items[0]
    assert item.url == status["url"]
    assert item.text == "L'école <b>& Tribu</b> #tribu"  # the HTML entities decoded
    assert "<b>" not in item.html and "&lt;b&gt;" in item.html
    assert item.author_name == "Jeanne Dupont"
    assert item.author_handle == "@jeanne@mastodon.example"
    assert item.author_url == "https://mastodon.example/@jeanne"
    assert item.author_followers == 321
    assert item.published_at == datetime.fromisoformat(status["created_at"]).astimezone(UTC)
    assert item.network == "mastodon"
    assert item.engagement == {"likes": 4, "reposts": 2, "replies": 1}
    assert item.raw == {"id": status["id"], "tags": ["tribu"], "language": "fr"}
    assert result.state == {"min_id": status["id"]}
    assert result.retry_after is None and result.problems == []
    request = mastodon_fake.requests[-1]
    assert request.path == "/api/v1/timelines/tag/Tribu"
    assert request.arg("limit") == "40"
    assert "authorization" not in request.headers


def test_fixtures_follow_the_openapi_description(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    remote = mastodon_fake.add_account("paul", domain="other.example")
    status = mastodon_fake.add_status(jeanne, "hello", tags=["tribu"], spoiler="cw")
    boost = mastodon_fake.add_status(remote, reblog=status)
    for account in (jeanne, remote):
        validate_openapi(account, "Account")
    for item in (status, boost):
        validate_openapi(item, "Status")
    validate_openapi({"accounts": [], "statuses": [status], "hashtags": []}, "Search")


def test_html_is_sanitized(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    mastodon_fake.add_status(
        jeanne,
        content=(
            '<p>Hi<script>alert(1)</script> <a href="javascript:alert(1)">x</a></p><p>#tribu</p>'
        ),
        tags=["tribu"],
    )
    item = mastodon.poll(hashtag_config(mastodon_fake), {}).items[0]
    assert "script" not in item.html and "javascript" not in item.html
    assert item.text == "Hi x #tribu"


def test_second_poll_returns_only_new_statuses(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    first = mastodon_fake.add_status(jeanne, "un", tags=["tribu"])
    result = mastodon.poll(hashtag_config(mastodon_fake), {})
    assert [item.raw["id"] for item in result.items] == [first["id"]]

    again = mastodon.poll(hashtag_config(mastodon_fake), result.state)
    assert again.items == [] and again.state == result.state
    assert mastodon_fake.requests[-1].arg("min_id") == first["id"]

    second = mastodon_fake.add_status(jeanne, "deux", tags=["tribu"])
    third = mastodon_fake.add_status(jeanne, "trois", tags=["tribu"])
    later = mastodon.poll(hashtag_config(mastodon_fake), again.state)
    assert sorted(item.raw["id"] for item in later.items) == sorted([second["id"], third["id"]])
    assert later.state["min_id"] == third["id"]


def test_first_poll_takes_only_the_newest_page(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    statuses = [mastodon_fake.add_status(jeanne, f"n{i}", tags=["tribu"]) for i in range(45)]
    result = mastodon.poll(hashtag_config(mastodon_fake), {})
    assert len(result.items) == 40
    assert len(mastodon_fake.requests) == 1
    assert result.state["min_id"] == statuses[-1]["id"]


def test_pagination_follows_links_up_to_the_page_cap_then_resumes(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    anchor = mastodon_fake.add_status(jeanne, "old", tags=["tribu"])
    new = [mastodon_fake.add_status(jeanne, f"n{i}", tags=["tribu"]) for i in range(100)]
    config = hashtag_config(mastodon_fake, max_pages=2)

    result = mastodon.poll(config, {"min_id": anchor["id"]})
    assert len(mastodon_fake.requests) == 2
    # min_id pages forward: the 80 statuses just after the anchor, nothing skipped.
    assert sorted(item.raw["id"] for item in result.items) == sorted(s["id"] for s in new[:80])
    assert result.state["min_id"] == new[79]["id"]

    rest = mastodon.poll(config, result.state)
    assert sorted(item.raw["id"] for item in rest.items) == sorted(s["id"] for s in new[80:])
    assert rest.state["min_id"] == new[-1]["id"]


def test_account_statuses_with_boosts(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne", display_name="Jeanne")
    paul = mastodon_fake.add_account(
        "paul", domain="other.example", display_name="Paul", followers=7
    )
    original = mastodon_fake.add_status(paul, "original post", favourites=9)
    own = mastodon_fake.add_status(jeanne, "my post")
    boost = mastodon_fake.add_status(jeanne, reblog=original)
    config = {
        "base_url": mastodon_fake.base_url,
        "mode": "account",
        "query": "@jeanne@mastodon.example",
    }

    result = mastodon.poll(config, {})

    by_guid = {item.guid: item for item in result.items}
    assert set(by_guid) == {own["uri"], original["uri"]}
    shared = by_guid[original["uri"]]
    assert shared.author_handle == "@paul@other.example"
    assert shared.text == "original post"
    assert shared.engagement["likes"] == 9
    assert shared.raw["boosted_by"] == "@jeanne@mastodon.example"
    assert result.state["account"] == "jeanne@mastodon.example"
    assert result.state["account_id"] == jeanne["id"]
    assert result.state["min_id"] == boost["id"]  # the boost's own id drives paging
    assert [r.path for r in mastodon_fake.requests] == [
        "/api/v1/accounts/lookup",
        f"/api/v1/accounts/{jeanne['id']}/statuses",
    ]

    # The account id is remembered: no second lookup.
    mastodon.poll(config, result.state)
    assert mastodon_fake.requests[-1].path.endswith("/statuses")
    assert len(mastodon_fake.requests) == 3


def test_unknown_account_is_explained(mastodon_fake):
    config = {"base_url": mastodon_fake.base_url, "mode": "account", "query": "nobody"}
    with pytest.raises(FetchError) as caught:
        mastodon.poll(config, {})
    assert caught.value.code == "not_found" and caught.value.status == 404
    assert "nobody" in caught.value.message and "spelling" in caught.value.message


def test_search_with_token(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    hit = mastodon_fake.add_status(jeanne, "I love Tribu")
    mastodon_fake.add_status(jeanne, "unrelated")
    config = {
        "base_url": mastodon_fake.base_url,
        "mode": "search",
        "query": "tribu",
        "access_token": "secret-token",
    }

    result = mastodon.poll(config, {})

    assert [item.guid for item in result.items] == [hit["uri"]]
    request = mastodon_fake.requests[-1]
    assert request.path == "/api/v2/search"
    assert request.arg("type") == "statuses" and request.arg("q") == "tribu"
    assert request.headers["authorization"] == "Bearer secret-token"
    assert result.problems == []


def test_anonymous_search_explains_the_limitation(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    mastodon_fake.add_status(jeanne, "I love Tribu")
    config = {"base_url": mastodon_fake.base_url, "mode": "search", "query": "tribu"}

    result = mastodon.poll(config, {})
    assert result.items == []
    assert len(result.problems) == 1 and "read:search" in result.problems[0]

    mastodon_fake.anonymous_search = "401"
    with pytest.raises(FetchError) as caught:
        mastodon.poll(config, {})
    assert caught.value.code == "auth"
    assert "read:search" in caught.value.message and "full-text search" in caught.value.message


def test_timeline_needing_login(mastodon_fake):
    mastodon_fake.public_preview = False
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake), {})
    assert caught.value.code == "auth" and caught.value.status == 401
    assert "access token" in caught.value.message

    jeanne = mastodon_fake.add_account("jeanne")
    mastodon_fake.add_status(jeanne, "x", tags=["tribu"])
    result = mastodon.poll(hashtag_config(mastodon_fake, access_token="secret-token"), {})
    assert len(result.items) == 1


def test_revoked_token(mastodon_fake):
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake, access_token="revoked"), {})
    assert caught.value.code == "auth"
    assert "revoked" in caught.value.message and "new one" in caught.value.message


def test_forbidden_scope(mastodon_fake):
    mastodon_fake.fail(403)
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake, access_token="secret-token"), {})
    assert caught.value.code == "auth" and "scope" in caught.value.message


def test_wrong_base_url_is_not_found(mastodon_fake):
    config = {"base_url": mastodon_fake.base_url + "/nothing", "mode": "hashtag", "query": "x"}
    with pytest.raises(FetchError) as caught:
        mastodon.poll(config, {})
    assert caught.value.code == "not_found" and "base URL" in caught.value.message


def test_rate_limited_first_page_raises_with_retry_after(mastodon_fake):
    mastodon_fake.fail(429, retry_after="120")
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake), {})
    assert caught.value.code == "rate_limited" and caught.value.retry_after == 120


def test_rate_limited_later_page_keeps_what_was_read(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    anchor = mastodon_fake.add_status(jeanne, "old", tags=["tribu"])
    new = [mastodon_fake.add_status(jeanne, f"n{i}", tags=["tribu"]) for i in range(50)]
    mastodon_fake.pass_through()
    mastodon_fake.fail(429, retry_after="30")

    result = mastodon.poll(hashtag_config(mastodon_fake), {"min_id": anchor["id"]})

    assert len(result.items) == 40
    assert result.retry_after == 30
    assert result.state["min_id"] == new[39]["id"]  # the next poll resumes after them
    assert len(result.problems) == 1


def test_server_error(mastodon_fake):
    mastodon_fake.fail(500)
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake), {})
    assert caught.value.code == "http_error" and caught.value.status == 500


@pytest.mark.parametrize("body", [b'[{"id": "1", ', b"<html>Welcome</html>", b'{"not": "a list"}'])
def test_malformed_responses(mastodon_fake, body):
    mastodon_fake.respond_raw(body)
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake), {"min_id": "5"})
    assert caught.value.code == "bad_response"
    assert "base URL" in caught.value.message


def test_one_malformed_status_is_skipped(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    good = mastodon_fake.add_status(jeanne, "good", tags=["tribu"])
    bad = mastodon_fake.add_status(jeanne, "bad", tags=["tribu"])
    bad["created_at"] = "yesterday"
    worse = mastodon_fake.add_status(jeanne, "worse", tags=["tribu"])
    del worse["uri"]

    result = mastodon.poll(hashtag_config(mastodon_fake), {})

    assert [item.guid for item in result.items] == [good["uri"]]
    assert len(result.problems) == 2
    assert any(bad["id"] in problem for problem in result.problems)
    assert result.state["min_id"] == worse["id"]  # skipped ones are not fetched again


def test_slow_instance_times_out(mastodon_fake):
    mastodon_fake.slow(1.0)
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake, timeout=0.3), {})
    assert caught.value.code == "timeout"


def test_huge_page_is_refused(mastodon_fake):
    mastodon_fake.respond_raw(b"[" + b" " * (6 * 1024 * 1024) + b"]")
    with pytest.raises(FetchError) as caught:
        mastodon.poll(hashtag_config(mastodon_fake), {})
    assert caught.value.code == "too_large"


@pytest.mark.parametrize(
    "config",
    [
        {"mode": "hashtag", "query": "x"},
        {"base_url": "https://m.example", "mode": "hashtag", "query": "#"},
        {"base_url": "https://m.example", "mode": "lists", "query": "x"},
    ],
)
def test_invalid_config(config):
    with pytest.raises(FetchError) as caught:
        mastodon.poll(config, {})
    assert caught.value.code == "invalid_config"
