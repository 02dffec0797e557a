"""Every field the connectors read, and every parameter they send, exists in the API
description of that response or endpoint (Mastodon OpenAPI, AT Protocol lexicons). Reddit
and Hacker News publish none: there the fakes' documented shapes stand in for it."""

from tribu.listening.connectors import bluesky, hackernews, mastodon, reddit
from tribu.testing.fakes.schemas import (
    lexicon,
    lexicon_properties,
    mastodon_parameters,
    mastodon_properties,
)

from ..fakes import HackerNewsFake, RedditFake


def test_mastodon_fields_exist_in_the_openapi_description():
    assert set(mastodon.STATUS_FIELDS) <= mastodon_properties("Status")
    assert set(mastodon.ACCOUNT_FIELDS) <= mastodon_properties("Account")
    assert set(mastodon.TAG_FIELDS) <= mastodon_properties("StatusTag")
    assert set(mastodon.SEARCH_FIELDS) <= mastodon_properties("Search")


def test_mastodon_parameters_exist_in_the_openapi_description(mastodon_fake):
    jeanne = mastodon_fake.add_account("jeanne")
    mastodon_fake.add_status(jeanne, "tribu", tags=["tribu"])
    base = {"base_url": mastodon_fake.base_url, "access_token": "secret-token"}
    for mode, query in (("hashtag", "tribu"), ("account", "jeanne"), ("search", "tribu")):
        state = mastodon.poll({**base, "mode": mode, "query": query}, {}).state
        mastodon.poll({**base, "mode": mode, "query": query}, {**state, "min_id": "1"})
    operations = {
        "/api/v1/timelines/tag/tribu": "/api/v1/timelines/tag/{hashtag}",
        "/api/v1/accounts/lookup": "/api/v1/accounts/lookup",
        f"/api/v1/accounts/{jeanne['id']}/statuses": "/api/v1/accounts/{id}/statuses",
        "/api/v2/search": "/api/v2/search",
    }
    for request in mastodon_fake.requests:
        allowed = mastodon_parameters(operations[request.path])
        assert set(request.args) <= allowed, (request.path, set(request.args) - allowed)


def test_bluesky_fields_exist_in_the_lexicons():
    assert set(bluesky.OUTPUT_FIELDS) <= lexicon_properties("app.bsky.feed.searchPosts")
    assert set(bluesky.POST_VIEW_FIELDS) <= lexicon_properties("app.bsky.feed.defs#postView")
    assert set(bluesky.PROFILE_FIELDS) <= lexicon_properties("app.bsky.actor.defs#profileViewBasic")
    assert set(bluesky.RECORD_FIELDS) <= lexicon_properties("app.bsky.feed.post")


def test_bluesky_parameters_exist_in_the_lexicon(bluesky_fake):
    bluesky_fake.add_post("a.bsky.social", "tribu")
    config = {"base_url": bluesky_fake.base_url, "query": "tribu", "lang": "en"}
    state = bluesky.poll(config, {}).state
    bluesky.poll(config, state)
    definition = lexicon("app.bsky.feed.searchPosts")["defs"]["main"]["parameters"]
    for request in bluesky_fake.requests:
        assert set(request.args) <= set(definition["properties"])
        assert set(definition["required"]) <= set(request.args)
        assert request.arg("sort") in definition["properties"]["sort"]["knownValues"]
        assert int(request.arg("limit")) <= definition["properties"]["limit"]["maximum"]


def test_reddit_fields_are_served_by_the_fake():
    fake = RedditFake()
    post = fake.add_post("france", "t", selftext="x")
    assert set(reddit.POST_FIELDS) <= set(post["data"])


def test_hackernews_fields_are_served_by_the_fake():
    fake = HackerNewsFake()
    story = fake.add_story("t", url="https://x.example")
    comment = fake.add_comment(story, "c")
    assert set(hackernews.HIT_FIELDS) <= set(story) | set(comment)
