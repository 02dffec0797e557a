"""The robustness corpus (../shared/data/feeds) through the whole ingester, not only the
parser: every item of every feed is stored, indexed and matched on both databases (NUL
characters, odd dates, huge or empty fields must not break an INSERT), and one bad feed
never stops the next."""

import pytest

from tribu.listening.fetch.feeds import parse_feed
from tribu.listening.models import Mention, Source
from tribu.listening.services import ingest, topics
from tribu.listening.services.mentions import StreamFilters, stream

from .fetch.test_corpus import CORPUS, corpus_files

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"feed corpus not found at {CORPUS} (../shared/data/feeds)"
)


def test_every_corpus_feed_is_ingested_stored_and_searchable(workspace, user):
    topic = topics.create_topic(workspace, name="Any feed", query="feed OR the OR le")
    source = Source.objects.create(
        workspace=workspace, kind="feed", name="corpus", url="http://corpus.test/", enabled=False
    )
    parsed_items = 0
    for path in corpus_files():
        result = parse_feed(path.read_bytes(), url=f"http://corpus.test/{path.name}")
        parsed_items += len(result.items)
        ingest.ingest(source, result.items)
    assert parsed_items > 1500
    stored = Mention.objects.filter(workspace=workspace)
    # Exact duplicates across the corpus are stored once, but most items are distinct.
    assert stored.count() > parsed_items // 3
    assert not any("\x00" in text for text in stored.values_list("text", flat=True))
    assert stream(workspace, StreamFilters(topic=topic.pk)).exists()
    assert stream(workspace, StreamFilters(q="feed")).exists()


def test_nul_and_control_characters_never_reach_the_database(workspace):
    """PostgreSQL refuses NUL in text: a JSON Feed may carry "\\u0000" anyway."""
    feed = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "t\\u0000", "items": ['
        b'{"id": "1", "url": "https://example.com/a\\u0000", "title": "A\\u0000b",'
        b' "content_text": "nul \\u0000 and bell \\u0007 here", "authors": [{"name": "x\\u0000"}]},'
        b'{"id": "2", "url": "https://example.com/b", "content_text": "fine"}]}'
    )
    source = Source.objects.create(
        workspace=workspace, kind="feed", name="json", url="http://json.test/", enabled=False
    )
    result = parse_feed(feed, url="http://json.test/feed.json")
    report = ingest.ingest(source, result.items)
    assert report.created == 2
    for mention in Mention.objects.filter(workspace=workspace):
        for value in (mention.title, mention.text, mention.url, mention.author_name):
            assert "\x00" not in value
