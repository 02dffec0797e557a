"""Listening sources in a real browser: add a feed by its address and poll it, find a site's
feeds, pause and resume, import and export OPML, follow a Mastodon hashtag, delete a
source; then read a mention's page, and the query-language help. Feeds are served on
loopback by pytest-httpserver."""

import re

import pytest
from playwright.sync_api import expect

from tribu.core.services.workspaces import create_workspace
from tribu.listening.models import Source
from tribu.listening.services.topics import create_topic
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHARED = "La nouvelle lampe Aube de Maison Lumière est enfin arrivée dans notre boutique du centre"
RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Le Blog Lumineux</title><link>https://blog.example/</link>
<item><title>Lampe Aube en vitrine</title><link>https://blog.example/aube</link><guid>1</guid>
<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate><description>{SHARED}.</description></item>
<item><title>Lampe Aube, le retour</title><link>https://relais.example/aube-repris</link>
<guid>2</guid><pubDate>Mon, 01 Jan 2024 11:00:00 GMT</pubDate>
<description>{SHARED} !</description></item>
<item><title>Un fauteuil en rotin</title><link>https://blog.example/rotin</link><guid>3</guid>
<pubDate>Mon, 01 Jan 2024 12:00:00 GMT</pubDate><description>Le rotin revient.</description>
</item></channel></rss>""".encode()

SITE = b"""<!doctype html><html><head><title>Site</title>
<link rel="alternate" type="application/rss+xml" title="Articles" href="/articles.xml">
<link rel="alternate" type="application/atom+xml" title="Commentaires" href="/comments.xml">
</head><body>Hello</body></html>"""

OPML = b"""<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head><title>Mes flux</title></head><body>
<outline text="Journal Un" type="rss" xmlUrl="https://journal-un.example/feed.xml"/>
<outline text="Deja suivi" type="rss" xmlUrl="https://deja.example/feed.xml"/>
<outline text="Lien casse" type="rss" xmlUrl="https://moi:secret@casse.example/feed.xml"/>
</body></opml>"""


@pytest.fixture(autouse=True)
def private_allowed(settings):
    # The feeds are served on 127.0.0.1; live_server runs in this process, so it sees this.
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def lumiere(make_user):
    owner = make_user("alice@example.com", name="Alice")
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    create_topic(workspace, name="Lampes", query="lampe*", colour="#15803d")
    return workspace


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def source_row(page, name):
    return page.locator("table.sources tbody tr").filter(
        has=page.locator("strong", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def test_a_feed_is_added_polled_and_its_mentions_read(page, live_server, lumiere, httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/lumiere/")
    page.get_by_role("link", name="Sources").click()
    page.wait_for_url(re.compile(r"/w/lumiere/listening/sources/$"))
    expect(page.get_by_text("No source yet.")).to_be_visible()

    add = page.get_by_role("region", name="Feed or website")
    add.get_by_label("Feed or website address").fill(httpserver.url_for("/feed.xml"))
    add.get_by_label("Name (optional)").fill("Blog Lumière")
    add.get_by_role("button", name="Add").click()
    expect(page.get_by_text("“Blog Lumière” added.")).to_be_visible()
    row = source_row(page, "Blog Lumière")
    expect(row.locator(".status")).to_have_text("New")
    expect(row).to_contain_text(httpserver.url_for("/feed.xml"))

    # Poll now: the task runs inline in tests, so the page shows the outcome at once.
    row.get_by_role("button", name="Poll now").click()
    expect(page.get_by_text("“Blog Lumière” is being polled")).to_be_visible()
    row = source_row(page, "Blog Lumière")
    expect(row.locator(".status")).to_have_text("Working")
    expect(row.locator("td").nth(3)).to_have_text("3")
    expect(row.locator("td").nth(2).locator("time")).to_have_count(1)

    # The mentions are in the stream, the copy grouped under the first one.
    page.get_by_role("link", name="Listening").click()
    page.wait_for_url(re.compile(r"/w/lumiere/listening/$"))
    titles = page.locator(".mention-title a")
    expect(titles).to_have_text(["Un fauteuil en rotin", "Lampe Aube en vitrine"])
    first = page.locator("[data-mention]").filter(has_text="Lampe Aube en vitrine")
    expect(first).to_contain_text("also seen in 1 place")

    # The mention's page: its title, its topic, where else it was seen.
    first.get_by_role("link", name="Lampe Aube en vitrine").click()
    page.wait_for_url(re.compile(r"/w/lumiere/listening/mentions/\d+/$"))
    expect(page.locator("h1")).to_have_text("Lampe Aube en vitrine")
    expect(page.locator(".mention-topics .chip")).to_have_text(["Lampes"])
    content = page.get_by_role("region", name="Content")
    expect(content).to_contain_text("La nouvelle lampe Aube de Maison Lumière")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Blog Lumière")
    expect(details.get_by_role("link", name="https://blog.example/aube")).to_be_visible()
    also = page.get_by_role("region", name="Also seen in")
    expect(also.get_by_role("link", name="https://relais.example/aube-repris")).to_be_visible()
    page.get_by_role("link", name="Back to the stream").click()
    page.wait_for_url(re.compile(r"/w/lumiere/listening/"))


def test_managing_sources(page, live_server, lumiere, httpserver):
    httpserver.expect_request("/").respond_with_data(SITE, content_type="text/html")
    Source.objects.create(workspace=lumiere, name="Déjà suivi", url="https://deja.example/feed.xml")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/lumiere/listening/sources/")

    # A site's address: its feeds are offered, and the chosen one is followed.
    add = page.get_by_role("region", name="Feed or website")
    add.get_by_label("Feed or website address").fill(httpserver.url_for("/"))
    add.get_by_role("button", name="Add").click()
    offered = page.get_by_role("group", name="This site offers several feeds.")
    expect(offered.get_by_role("radio")).to_have_count(2)
    # Offered by the titles of the page's <link> tags, with their addresses beside them.
    expect(offered.get_by_label("Articles")).to_be_checked()
    expect(offered).to_contain_text(httpserver.url_for("/comments.xml"))
    offered.get_by_label("Commentaires").check()
    page.get_by_role("button", name="Follow this feed").click()
    expect(page.get_by_text("added. Its first poll happens within a few minutes.")).to_be_visible()
    assert Source.objects.filter(url=httpserver.url_for("/comments.xml")).exists()
    expect(page.locator("table.sources")).to_contain_text(httpserver.url_for("/comments.xml"))

    # Pause, then resume.
    row = source_row(page, "Déjà suivi")
    row.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("“Déjà suivi” is paused.")).to_be_visible()
    row = source_row(page, "Déjà suivi")
    expect(row.locator(".status")).to_have_text("Paused")
    expect(row.get_by_role("button", name="Poll now")).to_have_count(0)
    row.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("“Déjà suivi” is resumed and will be polled shortly.")).to_be_visible()
    expect(source_row(page, "Déjà suivi").locator(".status")).not_to_have_text("Paused")

    # OPML import: each line of the file is reported.
    page.get_by_role("link", name="Import OPML").click()
    page.wait_for_url(re.compile(r"/sources/import/$"))
    page.get_by_label("OPML file").set_input_files(
        {"name": "flux.opml", "mimeType": "text/x-opml", "buffer": OPML}
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("1 feed imported.")).to_be_visible()
    report = page.get_by_role("region", name="Report")
    rows = report.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Journal Un")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("Imported")
    expect(rows.nth(1).locator("td").nth(1)).to_contain_text("Already followed")
    expect(rows.nth(2).locator("td").nth(1)).to_contain_text(
        re.compile(r"^Not imported: .*contains a user name or password")
    )

    # The export link downloads every feed as OPML.
    page.get_by_role("link", name="Sources").first.click()
    page.wait_for_url(re.compile(r"/sources/$"))
    href = page.get_by_role("link", name="Export feeds as OPML").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok
    assert 'filename="lumiere-feeds.opml"' in response.headers["content-disposition"]
    exported = response.text()
    for url in ("https://journal-un.example/feed.xml", "https://deja.example/feed.xml",
                httpserver.url_for("/comments.xml")):  # fmt: skip
        assert url in exported

    # A Mastodon hashtag.
    mastodon = page.get_by_role("region", name="Mastodon", exact=True)
    mastodon.get_by_label("Follow").select_option("hashtag")
    mastodon.get_by_label("Hashtag, search terms or account").fill("#maisonlumiere")
    mastodon.get_by_label("Instance address").fill("https://mastodon.example")
    mastodon.get_by_label("Name (optional)").fill("Hashtag Lumière")
    mastodon.get_by_role("button", name="Add").click()
    expect(page.get_by_text("“Hashtag Lumière” added.")).to_be_visible()
    expect(source_row(page, "Hashtag Lumière")).to_contain_text("Mastodon")
    source = Source.objects.get(name="Hashtag Lumière")
    assert source.config == {
        "base_url": "https://mastodon.example",
        "mode": "hashtag",
        "query": "maisonlumiere",
    }

    # Deleting goes through a confirmation page.
    source_row(page, "Journal Un").get_by_role("link", name="Delete").click()
    page.wait_for_url(re.compile(r"/sources/\d+/delete/$"))
    expect(page.locator("h1")).to_have_text("Delete “Journal Un”?")
    page.get_by_role("button", name="Delete the source").click()
    expect(
        page.get_by_text("“Journal Un” is deleted. The mentions it found stay in the stream.")
    ).to_be_visible()
    expect(source_row(page, "Journal Un")).to_have_count(0)
    assert not Source.objects.filter(name="Journal Un").exists()


def test_query_language_help_from_the_topics_page(page, live_server, lumiere):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/lumiere/")
    page.get_by_role("link", name="Topics").click()
    page.wait_for_url(re.compile(r"/listening/topics/$"))
    page.get_by_role("link", name="How to write a query").click()
    page.wait_for_url(re.compile(r"/listening/query-language/$"))
    expect(page.locator("h1")).to_have_text("Writing a topic query")
    # The table of contents leads to the sections.
    page.get_by_role("navigation", name="On this page").get_by_role(
        "link", name="Words close to each other"
    ).click()
    page.wait_for_url(re.compile(r"#near$"))
    near = page.get_by_role("region", name="Words close to each other")
    expect(near.get_by_role("heading", level=2)).to_have_text("Words close to each other")
    expect(near.locator("code", has_text="livraison NEAR/3 retard")).to_be_visible()
