"""The sources page: health, adding feeds (with discovery) and network searches, pause,
resume, poll now, delete, OPML import and export. Feeds are served on loopback."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tribu.core.roles import Role
from tribu.listening.models import Mention, Source

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Le Blog Lumineux</title><link>https://blog.example/</link>
<item><title>Bonjour</title><link>https://blog.example/bonjour</link><guid>1</guid>
<description>Une lampe</description></item>
</channel></rss>"""

SITE = b"""<!doctype html><html><head><title>Site</title>
<link rel="alternate" type="application/rss+xml" title="Articles" href="/articles.xml">
<link rel="alternate" type="application/atom+xml" title="Commentaires" href="/comments.xml">
</head><body>Hello</body></html>"""


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


def url(workspace, name, *args):
    return reverse(f"listening:{name}", args=[workspace.slug, *args])


def test_the_list_shows_each_sources_health(owner_client, workspace):
    Source.objects.create(
        workspace=workspace,
        name="Cassé",
        url="https://broken.example/feed",
        consecutive_failures=3,
        last_error="The server answered 500: try again later.",
        last_error_at=timezone.now(),
        items_seen=42,
    )
    body = owner_client.get(url(workspace, "sources")).content.decode()
    assert "status-failing" in body
    assert "The server answered 500: try again later." in body
    assert ">42<" in body


def test_adding_a_feed_by_its_address(owner_client, workspace, httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    response = owner_client.post(
        url(workspace, "source_add_feed"), {"feed-url": httpserver.url_for("/feed.xml")}
    )
    assert response.status_code == 302
    source = Source.objects.get(workspace=workspace)
    assert source.kind == "feed" and source.url.endswith("/feed.xml")


def test_a_site_with_several_feeds_offers_them_then_follows_the_chosen_one(
    owner_client, workspace, httpserver
):
    httpserver.expect_request("/").respond_with_data(SITE, content_type="text/html")
    response = owner_client.post(
        url(workspace, "source_add_feed"), {"feed-url": httpserver.url_for("/")}
    )
    assert response.status_code == 200
    found = [feed.url for feed in response.context["discovered"]]
    assert found == [httpserver.url_for("/articles.xml"), httpserver.url_for("/comments.xml")]
    assert "Follow this feed" in response.content.decode()
    assert not Source.objects.exists()

    response = owner_client.post(
        url(workspace, "source_add_feed"),
        {"chosen": "1", "feed-url": found[1], "feed-name": "Commentaires"},
    )
    assert response.status_code == 302
    assert Source.objects.get().name == "Commentaires"


def test_a_page_without_feeds_gets_a_plain_explanation(owner_client, workspace, httpserver):
    httpserver.expect_request("/").respond_with_data("<p>rien</p>", content_type="text/html")
    response = owner_client.post(
        url(workspace, "source_add_feed"), {"feed-url": httpserver.url_for("/")}
    )
    assert response.status_code == 400
    assert "No feed was found at this address" in response.content.decode()


def test_a_refused_address_is_shown_on_the_field(owner_client, workspace, settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    response = owner_client.post(
        url(workspace, "source_add_feed"), {"feed-url": "http://127.0.0.1/feed"}
    )
    assert response.status_code == 400
    assert response.context["feed_form"].errors["url"]
    assert not Source.objects.exists()


def test_adding_a_mastodon_hashtag(owner_client, workspace):
    response = owner_client.post(
        url(workspace, "source_add_network"),
        {"kind": "mastodon", "mastodon-mode": "hashtag", "mastodon-query": "#tribu",
         "mastodon-base_url": "https://mastodon.example"},
    )  # fmt: skip
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.config == {
        "base_url": "https://mastodon.example",
        "mode": "hashtag",
        "query": "tribu",
    }


def test_an_invalid_network_source_shows_the_error_on_its_form(owner_client, workspace):
    response = owner_client.post(
        url(workspace, "source_add_network"),
        {"kind": "reddit", "reddit-mode": "subreddit", "reddit-query": "not a name!",
         "reddit-base_url": "https://reddit.example"},
    )  # fmt: skip
    assert response.status_code == 400
    [reddit] = [form for form in response.context["network_forms"] if form.kind == "reddit"]
    assert reddit.errors["query"]


def test_pause_resume_and_delete(owner_client, workspace):
    source = Source.objects.create(workspace=workspace, name="Blog", url="https://b.example/f")
    owner_client.post(url(workspace, "source_pause", source.id))
    source.refresh_from_db()
    assert source.paused_at is not None
    owner_client.post(url(workspace, "source_resume", source.id))
    source.refresh_from_db()
    assert source.paused_at is None and source.next_poll_at is not None
    confirm = owner_client.get(url(workspace, "source_delete", source.id))
    assert "Delete the source" in confirm.content.decode()
    owner_client.post(url(workspace, "source_delete", source.id))
    assert not Source.objects.exists()


def test_poll_now_polls_the_feed(owner_client, workspace, httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    source = Source.objects.create(
        workspace=workspace, name="Blog", url=httpserver.url_for("/feed.xml")
    )
    response = owner_client.post(url(workspace, "source_poll", source.id), follow=True)
    assert response.status_code == 200
    source.refresh_from_db()
    assert source.last_success_at is not None
    assert Mention.objects.filter(source=source, title="Bonjour").exists()


def test_poll_now_refuses_a_paused_source(owner_client, workspace):
    source = Source.objects.create(
        workspace=workspace, name="Blog", url="https://b.example/f", paused_at=timezone.now()
    )
    response = owner_client.post(url(workspace, "source_poll", source.id), follow=True)
    assert "resume it to poll it again" in response.content.decode()


def test_opml_import_reports_each_line_and_export_lists_feeds(owner_client, workspace):
    Source.objects.create(workspace=workspace, name="Déjà", url="https://deja.example/feed")
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
    <outline text="Nouveau" type="rss" xmlUrl="https://nouveau.example/feed"/>
    <outline text="Deja" type="rss" xmlUrl="https://deja.example/feed"/>
    </body></opml>"""
    upload = SimpleUploadedFile("feeds.opml", opml, content_type="text/xml")
    response = owner_client.post(url(workspace, "source_import"), {"file": upload})
    assert response.status_code == 200
    assert [line.status for line in response.context["lines"]] == ["created", "duplicate"]
    assert "Already followed" in response.content.decode()

    exported = owner_client.get(url(workspace, "source_export"))
    assert exported["Content-Disposition"].startswith("attachment")
    assert b"https://nouveau.example/feed" in exported.content
    assert b"https://deja.example/feed" in exported.content


def test_an_unreadable_opml_file_is_explained(owner_client, workspace):
    upload = SimpleUploadedFile("feeds.opml", b"not xml at all", content_type="text/xml")
    response = owner_client.post(url(workspace, "source_import"), {"file": upload})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_readers_see_health_but_no_management(client_for, make_member, workspace):
    Source.objects.create(workspace=workspace, name="Blog", url="https://b.example/f")
    viewer = client_for(make_member(workspace, Role.VIEWER))
    body = viewer.get(url(workspace, "sources")).content.decode()
    assert "Blog" in body and "Add a source" not in body and "Poll now" not in body
    assert viewer.post(url(workspace, "source_add_feed"), {}).status_code == 403
