"""tribu.listening.fetch.feeds: formats, encodings, dates, sanitizing, hostile inputs,
discovery and OPML."""

import time
from datetime import UTC, datetime

import pytest

from tribu.listening.fetch.feeds import (
    MAX_ITEMS,
    canonical_url,
    discover,
    parse_date,
    parse_feed,
    read_opml,
    write_opml,
)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Le blog d'Acme</title>
  <link>https://acme.example/</link>
  <ttl>30</ttl>
  <item>
    <title>Caf&#233; &amp; cr&#232;me</title>
    <link>https://Acme.example/post/1?utm_source=rss&amp;id=3#comments</link>
    <guid isPermaLink="false">post-1</guid>
    <description>Short summary</description>
    <content:encoded><![CDATA[<p>Hello <b>world</b></p><p>Second&nbsp;paragraph</p>
      <a href="/about">about</a>]]></content:encoded>
    <dc:creator>Jeanne Martin</dc:creator>
    <pubDate>Tue, 10 Jun 2003 04:00:00 CEST</pubDate>
    <category>launch</category>
    <enclosure url="https://acme.example/a.mp3" type="audio/mpeg" length="1234"/>
  </item>
  <item>
    <title>Second</title>
    <guid>https://acme.example/post/2</guid>
    <author>jeanne@acme.example (Jeanne M.)</author>
  </item>
</channel>
</rss>"""


def test_rss_2():
    result = parse_feed(RSS, url="https://acme.example/feed")
    assert result.format == "rss"
    assert result.title == "Le blog d'Acme"
    assert result.link == "https://acme.example/"
    assert result.ttl == 30 * 60
    assert result.problems == []
    first, second = result.items
    assert first.title == "Café & crème"
    assert first.url == "https://acme.example/post/1?id=3"
    assert first.guid == "post-1"
    assert first.text == "Hello world Second\xa0paragraph about".replace("\xa0", " ")
    assert '<a href="https://acme.example/about" rel="noopener noreferrer nofollow ugc">' in (
        first.html
    )
    assert first.author_name == "Jeanne Martin"
    assert first.published_at == datetime(2003, 6, 10, 2, 0, tzinfo=UTC)
    assert first.raw["tags"] == ["launch"]
    assert first.raw["enclosures"] == [
        {"url": "https://acme.example/a.mp3", "type": "audio/mpeg", "length": 1234}
    ]
    assert first.raw["summary"] == "Short summary"
    # A permalink guid stands in for a missing <link>.
    assert second.url == "https://acme.example/post/2"
    assert second.author_name == "Jeanne M."
    assert second.published_at is None


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/base/">
  <title type="html">News &amp;lt;3</title>
  <link rel="self" href="https://blog.example/feed.atom"/>
  <link rel="alternate" type="text/html" href="/"/>
  <author><name>Feed Author</name><uri>https://blog.example/me</uri></author>
  <entry xml:base="posts/">
    <title>Atom entry</title>
    <id>tag:blog.example,2024:1</id>
    <link rel="alternate" href="one.html"/>
    <link rel="enclosure" href="pic.jpg" type="image/jpeg"/>
    <published>2024-03-01T10:00:00+01:00</published>
    <updated>2024-03-02T10:00:00Z</updated>
    <summary>Plain &lt;summary&gt;</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>Rich <em>content</em> &lt;tag&gt;</p></div></content>
  </entry>
</feed>"""


def test_atom_1_with_xml_base_and_inherited_author():
    result = parse_feed(ATOM, url="https://blog.example/feed.atom")
    assert result.format == "atom"
    assert result.title == "News <3"
    assert result.link == "https://blog.example/"
    (entry,) = result.items
    assert entry.url == "https://blog.example/base/posts/one.html"
    assert entry.guid == "tag:blog.example,2024:1"
    assert entry.published_at == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert entry.text == "Rich content <tag>"
    assert "<em>content</em>" in entry.html
    assert entry.author_name == "Feed Author"
    assert entry.author_url == "https://blog.example/me"
    assert entry.raw["enclosures"][0]["url"] == "https://blog.example/base/posts/pic.jpg"


def test_rss_1_rdf():
    body = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://r.example/"><title>RDF feed</title><link>https://r.example/</link></channel>
      <item rdf:about="https://r.example/1"><title>One</title><link>https://r.example/1</link>
        <dc:date>2004-02-28T18:14:55-08:00</dc:date><dc:creator>Ann</dc:creator></item>
    </rdf:RDF>"""
    result = parse_feed(body, url="https://r.example/rss")
    assert result.format == "rdf"
    assert result.title == "RDF feed"
    (item,) = result.items
    assert (item.url, item.guid, item.author_name) == (
        "https://r.example/1",
        "https://r.example/1",
        "Ann",
    )
    assert item.published_at == datetime(2004, 2, 29, 2, 14, 55, tzinfo=UTC)


def test_json_feed():
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "JSON blog",
      "home_page_url": "https://j.example/", "authors": [{"name": "Jo"}],
      "items": [{"id": "1", "url": "/p/1", "title": "Hi",
                 "content_html": "<p>x<script>bad()</script></p>",
                 "date_published": "2024-05-01T08:00:00Z", "tags": ["a"]},
                "not an object",
                {"id": 2, "content_text": "plain <text>"}]}"""
    result = parse_feed(
        body, url="https://j.example/feed.json", content_type="application/feed+json"
    )
    assert result.format == "json"
    assert result.title == "JSON blog"
    assert len(result.items) == 2  # the broken entry is skipped, the others kept
    assert len(result.problems) == 1 and "Item 2" in result.problems[0]
    first, third = result.items
    assert first.url == "https://j.example/p/1"
    assert first.html == "<p>x</p>"
    assert first.author_name == "Jo"
    assert first.published_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert third.guid == "2"
    assert third.text == "plain <text>"


def test_script_and_javascript_links_are_removed():
    body = b"""<rss version="2.0"><channel><title>x</title><item>
      <title>t</title><link>javascript:alert(1)</link>
      <description>&lt;p onclick="steal()"&gt;Hi&lt;script&gt;alert(1)&lt;/script&gt;
      &lt;a href="javascript:alert(2)"&gt;click&lt;/a&gt;
      &lt;a href="data:text/html,x"&gt;d&lt;/a&gt;
      &lt;iframe src="https://evil.example"&gt;&lt;/iframe&gt;&lt;style&gt;p{}&lt;/style&gt;&lt;/p&gt;</description>
    </item></channel></rss>"""
    (item,) = parse_feed(body, url="https://x.example/").items
    assert item.url == ""
    for bad in ("script", "alert", "javascript", "onclick", "iframe", "style", "data:"):
        assert bad not in item.html
    assert item.text.startswith("Hi click")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>kept &lol9;</title><description>&lol9;</description></item></channel></rss>"""


def test_billion_laughs_is_not_expanded():
    started = time.monotonic()
    result = parse_feed(BILLION_LAUGHS, url="https://x.example/")
    assert time.monotonic() - started < 1
    assert len(result.title) < 100
    (item,) = result.items
    assert item.title.startswith("kept")
    assert "lollol" not in item.title + item.text


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    for system in (f"file://{secret}", "file:///etc/passwd"):
        body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{system}">]>
<rss version="2.0"><channel><title>t &xxe;</title>
<item><title>i &xxe;</title><description>d &xxe;</description></item></channel></rss>""".encode()
        result = parse_feed(body, url="https://x.example/")
        everything = result.title + "".join(i.title + i.text + i.html for i in result.items)
        assert "TOP-SECRET-VALUE" not in everything
        assert "root:" not in everything
        assert len(result.items) == 1


def test_invalid_utf8_is_replaced_not_fatal():
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>ok</title>'
        b"<item><title>caf\xe9 \xff\xfe bad</title></item><item><title>two</title></item>"
        b"</channel></rss>"
    )
    result = parse_feed(body, url="https://x.example/")
    assert [item.title for item in result.items][1] == "two"
    assert result.items[0].title.startswith("caf")
    assert result.problems


def rss_titled(title, declaration=""):
    return f"{declaration}<rss><channel><title>{title}</title></channel></rss>"


LATIN1 = '<?xml version="1.0" encoding="iso-8859-1"?>'
UTF16 = '<?xml version="1.0" encoding="utf-16"?>'
CP1252 = '<?xml version="1.0" encoding="windows-1252"?>'


@pytest.mark.parametrize(
    "body, content_type, title",
    [
        (rss_titled("Élan", LATIN1).encode("latin-1"), None, "Élan"),
        (rss_titled("Élan").encode("latin-1"), "application/rss+xml; charset=ISO-8859-1", "Élan"),
        (rss_titled("Élan", UTF16).encode("utf-16"), None, "Élan"),
        (b"\xef\xbb\xbf" + rss_titled("Élan").encode(), None, "Élan"),
        (rss_titled("don’t", CP1252).encode("cp1252"), None, "don’t"),
    ],
)
def test_encodings(body, content_type, title):
    assert parse_feed(body, url="https://x.example/", content_type=content_type).title == title


def test_broken_xml_still_yields_items():
    body = b"""<rss version="2.0"><channel><title>Broken &eacute; feed</title>
      <item><title>One & two</title><link>http://x.example/get?a=1&b=2</link></item>
      <item><title>Three</title>"""
    result = parse_feed(body, url="https://x.example/")
    assert result.title == "Broken é feed"
    titles = [item.title for item in result.items]
    assert titles[0] == "One & two"
    assert "Three" in titles
    assert result.items[0].url == "http://x.example/get?a=1&b=2"
    assert result.problems


def test_not_a_feed_is_explained():
    for body in (b"", b"<html><body><p>hello</p></body></html>", b'{"a": 1}', b"\x00\x01\x02"):
        result = parse_feed(body, url="https://x.example/")
        assert result.items == []
        assert result.problems


def test_items_are_capped_and_large_feeds_stay_bounded():
    item = (
        b"<item><title>t%d</title><link>https://x.example/%d</link><description>"
        + b"word " * 2000
        + b"</description></item>"
    )
    body = (
        b"<rss><channel><title>big</title>"
        + b"".join(item % (n, n) for n in range(800))
        + b"</channel></rss>"
    )
    assert len(body) > 8_000_000
    started = time.monotonic()
    result = parse_feed(body, url="https://x.example/")
    assert time.monotonic() - started < 5
    assert len(result.items) == MAX_ITEMS
    assert any(str(MAX_ITEMS) in problem for problem in result.problems)


def test_ttl_from_syndication_module():
    body = b"""<rss xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
      <sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency></channel></rss>"""
    assert parse_feed(body, url="https://x.example/").ttl == 6 * 3600


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Sun, 08 Oct 2006 12:00:00 GMT", datetime(2006, 10, 8, 12, tzinfo=UTC)),
        ("08 Oct 2006 12:00:00 -0500", datetime(2006, 10, 8, 17, tzinfo=UTC)),
        ("Sun, 08 Oct 2006 12:00:00 PDT", datetime(2006, 10, 8, 19, tzinfo=UTC)),
        ("Sun, 08 Oct 2006 12:00:00 CET", datetime(2006, 10, 8, 11, tzinfo=UTC)),
        ("Sun, 8 Oct 06 12:00 +0200", datetime(2006, 10, 8, 10, tzinfo=UTC)),
        ("2006-10-08T12:00:00Z", datetime(2006, 10, 8, 12, tzinfo=UTC)),
        ("2006-10-08T12:00:00.123+02:00", datetime(2006, 10, 8, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2006-10-08", datetime(2006, 10, 8, tzinfo=UTC)),
        ("2006-10", datetime(2006, 10, 1, tzinfo=UTC)),
        ("20061008T120000Z", datetime(2006, 10, 8, 12, tzinfo=UTC)),
        ("", None),
        ("yesterday", None),
        ("2006-13-45", None),
        ("Sun, 32 Foo 2006", None),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "HTTPS://WWW.Example.COM:443/Path?utm_source=x&utm_medium=y&id=1#frag",
            "https://www.example.com/Path?id=1",
        ),
        ("http://example.com/a?fbclid=abc&gclid=d", "http://example.com/a"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"),
        ("javascript:alert(1)", ""),
        ("mailto:a@b.example", ""),
        ("/relative", ""),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_discover_finds_announced_feeds():
    page = b"""<html><head><base href="https://site.example/blog/">
      <link rel="alternate" type="application/rss+xml" href="feed.xml" title="RSS">
      <link rel="alternate" type="application/atom+xml" href="https://site.example/atom">
      <link rel="alternate" type="application/feed+json" href="/feed.json">
      <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
      <link rel="stylesheet" href="x.css">
      <link rel="alternate" type="application/rss+xml" href="feed.xml">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
      </head><body></body></html>"""
    assert discover(page, "https://site.example/") == [
        "https://site.example/blog/feed.xml",
        "https://site.example/atom",
        "https://site.example/feed.json",
    ]
    assert discover(page, "https://site.example/", with_titles=True)[:2] == [
        ("https://site.example/blog/feed.xml", "RSS"),
        ("https://site.example/atom", ""),
    ]
    assert discover(b"", "https://site.example/") == []
    assert discover(b"not html at all \x00", "https://site.example/") == []


def test_opml_round_trip_and_nested_folders():
    feeds = [("Acme & co", "https://acme.example/feed"), ("Blog", "https://blog.example/rss")]
    assert read_opml(write_opml(feeds)) == feeds
    nested = b"""<?xml version="1.0"?><opml version="1.0"><body>
      <outline text="News"><outline text="A" xmlUrl="https://a.example/rss"/>
        <outline title="B" xmlurl="https://b.example/rss"/></outline>
      <outline text="dup" xmlUrl="https://a.example/rss"/>
      <outline text="bad" xmlUrl="file:///etc/passwd"/></body></opml>"""
    assert read_opml(nested) == [("A", "https://a.example/rss"), ("B", "https://b.example/rss")]


def test_read_opml_refuses_other_documents():
    with pytest.raises(ValueError, match="not OPML"):
        read_opml(b"<rss></rss>")
    with pytest.raises(ValueError, match="empty"):
        read_opml(b"")
