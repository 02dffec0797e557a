"""tribu.listening.services.sources: validation, duplicates, discovery, OPML and health."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.core.models import AuditEvent
from tribu.listening.fetch import feeds
from tribu.listening.models import Source
from tribu.listening.services import sources
from tribu.listening.services.sources import DuplicateSource, SourceError

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Le Blog</title><link>https://blog.example/</link>
<item><title>Bonjour</title><link>https://blog.example/bonjour</link><guid>1</guid></item>
</channel></rss>"""


@pytest.fixture
def private_allowed(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


# Creating ------------------------------------------------------------------------------


def test_a_feed_source_is_created_due_now_and_audited(workspace, user):
    before = timezone.now()
    source = sources.create_source(
        workspace, kind="feed", url=" https://News.Example/feed.xml#top ", actor=user
    )
    assert source.url == "https://news.example/feed.xml"
    assert source.name == "news.example"
    assert source.enabled and source.paused_at is None
    assert before <= source.next_poll_at <= timezone.now()
    event = AuditEvent.objects.get(action="source.created")
    assert (event.actor, event.target_label, event.data["url"]) == (
        user,
        "news.example",
        "https://news.example/feed.xml",
    )


def test_an_address_without_scheme_gets_https(workspace):
    source = sources.create_source(workspace, kind="feed", url="blog.example/rss", name="Blog")
    assert (source.url, source.name) == ("https://blog.example/rss", "Blog")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost:8080/feed",
        "http://10.0.0.7/rss",
        "http://192.168.1.1/rss",
        "http://[::1]/rss",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_private_and_metadata_addresses_are_refused(workspace, url):
    with pytest.raises(SourceError) as error:
        sources.create_source(workspace, kind="feed", url=url)
    assert error.value.field == "url"
    assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in error.value.message
    assert not Source.objects.exists()


def test_an_operator_may_allow_private_addresses_but_never_metadata(workspace, private_allowed):
    source = sources.create_source(workspace, kind="feed", url="http://127.0.0.1:8080/feed")
    assert source.url == "http://127.0.0.1:8080/feed"
    with pytest.raises(SourceError):
        sources.create_source(workspace, kind="feed", url="http://169.254.169.254/")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "Enter the address"),
        ("ftp://files.example/feed", "Only http:// and https://"),
        ("https://user:secret@blog.example/feed", "user name or password"),
    ],
)
def test_bad_feed_addresses_say_what_to_fix(workspace, url, words):
    with pytest.raises(SourceError) as error:
        sources.create_source(workspace, kind="feed", url=url)
    assert words in error.value.message


def test_an_unknown_kind_is_refused(workspace):
    with pytest.raises(SourceError) as error:
        sources.create_source(workspace, kind="twitter", url="https://x.example")
    assert error.value.field == "kind"
    assert "feed, mastodon" in error.value.message


def test_the_same_feed_twice_in_a_workspace_is_refused(workspace, make_workspace):
    first = sources.create_source(workspace, kind="feed", url="https://blog.example/rss")
    with pytest.raises(DuplicateSource) as error:
        sources.create_source(workspace, kind="feed", url="HTTPS://BLOG.example:443/rss")
    assert error.value.existing == first
    assert "already follows this source" in error.value.message
    # Another workspace may follow it too.
    sources.create_source(make_workspace(), kind="feed", url="https://blog.example/rss")


def test_network_sources_are_validated_and_normalized(workspace):
    source = sources.create_source(
        workspace,
        kind="mastodon",
        config={"base_url": "mastodon.example/", "mode": "hashtag", "query": "#Tribu"},
    )
    assert source.config == {
        "base_url": "https://mastodon.example",
        "mode": "hashtag",
        "query": "Tribu",
    }
    assert (source.url, source.name) == ("https://mastodon.example", "#Tribu")
    subreddit = sources.create_source(
        workspace, kind="reddit", config={"mode": "subreddit", "query": "/r/france/"}
    )
    assert subreddit.config["query"] == "france"
    assert subreddit.config["base_url"] == sources.DEFAULT_BASE_URLS["reddit"]
    assert subreddit.name == "r/france"


def test_network_duplicates_ignore_case(workspace):
    config = {"base_url": "https://mastodon.example", "mode": "hashtag", "query": "tribu"}
    sources.create_source(workspace, kind="mastodon", config=config)
    with pytest.raises(DuplicateSource):
        sources.create_source(workspace, kind="mastodon", config={**config, "query": "#TRIBU"})
    # Another mode on the same instance is another source.
    sources.create_source(workspace, kind="mastodon", config={**config, "mode": "search"})


@pytest.mark.parametrize(
    ("kind", "config", "field", "words"),
    [
        ("mastodon", {"mode": "trending", "query": "x"}, "config.mode", "hashtag"),
        ("mastodon", {"mode": "hashtag", "query": "two words"}, "config.query", "one hashtag"),
        ("mastodon", {"mode": "search", "query": "  "}, "config.query", "what to search"),
        ("reddit", {"mode": "subreddit", "query": "fr ance"}, "config.query", "subreddit"),
        (
            "bluesky",
            {"base_url": "http://127.0.0.1:9", "query": "tribu"},
            "config.base_url",
            "private",
        ),
        ("hackernews", "tribu", "config", "base_url, mode and query"),
    ],
)
def test_bad_network_settings_say_what_to_fix(workspace, kind, config, field, words):
    with pytest.raises(SourceError) as error:
        sources.create_source(workspace, kind=kind, config=config)
    assert error.value.field == field
    assert words in error.value.message


# Changing ------------------------------------------------------------------------------


def test_pausing_and_resuming_are_audited_and_resume_polls_now(workspace, user):
    source = sources.create_source(workspace, kind="feed", url="https://blog.example/rss")
    Source.objects.filter(pk=source.pk).update(
        consecutive_failures=4, next_poll_at=timezone.now() + timedelta(hours=3)
    )
    source.refresh_from_db()
    sources.update_source(source, paused=True, actor=user)
    source.refresh_from_db()
    assert source.paused_at is not None
    assert user.email in source.paused_reason
    assert sources.health(source).status == "paused"

    sources.update_source(source, paused=False, actor=user)
    source.refresh_from_db()
    assert (source.paused_at, source.paused_reason, source.consecutive_failures) == (None, "", 0)
    assert source.next_poll_at <= timezone.now()
    assert list(
        AuditEvent.objects.filter(action__startswith="source.p").values_list("action", flat=True)
    ) == ["source.paused"]
    assert AuditEvent.objects.filter(action="source.resumed", actor=user).exists()


def test_renaming_keeps_the_name_the_manager_chose(workspace):
    source = sources.create_source(workspace, kind="feed", url="https://blog.example/rss")
    assert source.state == {"auto_name": True}
    sources.update_source(source, name="  Mon blog  ")
    source.refresh_from_db()
    assert (source.name, source.state) == ("Mon blog", {})
    with pytest.raises(SourceError):
        sources.update_source(source, name=" ")


def test_deleting_is_audited(workspace, user):
    source = sources.create_source(workspace, kind="feed", url="https://blog.example/rss")
    sources.delete_source(source, actor=user)
    assert not Source.objects.exists()
    event = AuditEvent.objects.get(action="source.deleted")
    assert (event.actor, event.target_label) == (user, "blog.example")


# Discovery -----------------------------------------------------------------------------


def test_discovery_lists_the_feeds_a_page_links_to(httpserver, private_allowed):
    httpserver.expect_request("/").respond_with_data(
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        '<link rel="alternate" type="application/atom+xml" href="https://blog.example/atom">'
        "</head><body>Hi</body></html>",
        content_type="text/html; charset=utf-8",
    )
    found = sources.discover_feeds(httpserver.url_for("/"))
    assert [candidate.url for candidate in found] == [
        httpserver.url_for("/rss.xml"),
        "https://blog.example/atom",
    ]


def test_discovery_of_a_feed_address_returns_it_with_its_title(httpserver, private_allowed):
    httpserver.expect_request("/rss").respond_with_data(RSS, content_type="application/rss+xml")
    [found] = sources.discover_feeds(httpserver.url_for("/rss"))
    assert (found.url, found.title) == (httpserver.url_for("/rss"), "Le Blog")


def test_discovery_explains_fetch_failures(httpserver, private_allowed):
    httpserver.expect_request("/").respond_with_data("no", status=404)
    with pytest.raises(SourceError) as error:
        sources.discover_feeds(httpserver.url_for("/"))
    assert "404" in error.value.message


def test_discovery_refuses_private_addresses_by_default(db):
    with pytest.raises(SourceError) as error:
        sources.discover_feeds("http://127.0.0.1:1/")
    assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in error.value.message


# OPML ----------------------------------------------------------------------------------


OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>Mes flux</title></head><body>
<outline text="Presse">
  <outline text="Le Monde" type="rss" xmlUrl="https://lemonde.example/rss"/>
  <outline text="Intranet" type="rss" xmlUrl="http://10.1.2.3/rss"/>
</outline>
<outline title="Blog" type="rss" xmlUrl="https://blog.example/rss"/>
</body></opml>"""


def test_opml_import_creates_the_valid_feeds_and_reports_the_rest(workspace, user):
    sources.create_source(workspace, kind="feed", url="https://blog.example/rss", name="Mine")
    lines = sources.import_opml(workspace, OPML, actor=user)
    assert [(line.title, line.status) for line in lines] == [
        ("Le Monde", "created"),
        ("Intranet", "invalid"),
        ("Blog", "duplicate"),
    ]
    assert "private" in lines[1].reason
    assert "“Mine”" in lines[2].reason
    assert set(Source.objects.values_list("name", flat=True)) == {"Le Monde", "Mine"}
    event = AuditEvent.objects.filter(action="source.created").latest("pk")
    assert event.data["imported"] == 1


def test_an_unreadable_opml_file_is_refused_whole(workspace):
    with pytest.raises(SourceError) as error:
        sources.import_opml(workspace, b"<html><body>not opml</body></html>")
    assert error.value.field == "file"
    assert not Source.objects.exists()


def test_opml_export_round_trips(workspace, make_workspace):
    sources.create_source(workspace, kind="feed", url="https://b.example/rss", name="Bravo")
    sources.create_source(workspace, kind="feed", url="https://a.example/rss", name="Alpha")
    sources.create_source(workspace, kind="hackernews", config={"mode": "search", "query": "tribu"})
    sources.create_source(make_workspace(), kind="feed", url="https://other.example/rss")
    assert feeds.read_opml(sources.export_opml(workspace)) == [
        ("Alpha", "https://a.example/rss"),
        ("Bravo", "https://b.example/rss"),
    ]


# Health --------------------------------------------------------------------------------


def test_health_in_plain_words(workspace):
    source = sources.create_source(workspace, kind="feed", url="https://blog.example/rss")
    assert sources.health(source).status == "new"
    now = timezone.now()
    source.last_success_at = now
    source.items_seen = 12
    assert (sources.health(source).status, sources.health(source).items_seen) == ("ok", 12)
    source.consecutive_failures = 3
    source.last_error = "blog.example answered HTTP 500."
    health = sources.health(source)
    assert (health.status, health.last_error) == ("failing", "blog.example answered HTTP 500.")
    assert "3" in health.label
    source.enabled = False
    assert sources.health(source).status == "disabled"
    assert sources.health(source).next_poll_at is None


def test_access_tokens_are_encrypted_and_only_given_to_the_connector(workspace):
    from django.db import connection

    source = sources.create_source(
        workspace,
        kind="mastodon",
        config={
            "base_url": "https://mastodon.example",
            "mode": "search",
            "query": "lumière",
            "access_token": "very-secret-token",
        },
    )
    source.refresh_from_db()
    assert "access_token" not in source.config
    with connection.cursor() as cursor:
        cursor.execute("SELECT config, secrets FROM listening_source WHERE id = %s", [source.pk])
        raw_config, raw_secrets = cursor.fetchone()
    assert "very-secret-token" not in str(raw_config)
    assert "very-secret-token" not in raw_secrets
    assert sources.connector_config(source)["access_token"] == "very-secret-token"
    assert sources.connector_config(source)["query"] == "lumière"
