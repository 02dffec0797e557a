"""Every feed of the robustness corpus (../shared/data/feeds: feedparser, feed-rs and
feedjira test files, about 2,200) goes through parse_feed: no exception, bounded time per
file, and every file that yields nothing says why. The whole corpus takes about a second, so
it is run in full, not sampled."""

import time
from pathlib import Path

import pytest

from tribu.listening.fetch.feeds import parse_feed

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "feeds"
SUFFIXES = {".xml", ".json", ".rss", ".atom", ".rdf"}
MAX_SECONDS_PER_FILE = 1.0

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"feed corpus not found at {CORPUS} (../shared/data/feeds)"
)


def corpus_files():
    return sorted(
        path
        for path in CORPUS.rglob("*")
        if path.is_file()
        and path.suffix.lower() in SUFFIXES
        and not path.name.endswith(".serde.json")  # feed-rs's expected results, not feeds
    )


def test_whole_corpus_parses_without_crash_or_hang():
    files = corpus_files()
    assert len(files) > 2000
    slow = []
    unexplained = []
    with_items = 0
    started = time.monotonic()
    for path in files:
        began = time.monotonic()
        result = parse_feed(path.read_bytes(), url=f"http://corpus.test/{path.name}")
        if time.monotonic() - began > MAX_SECONDS_PER_FILE:
            slow.append(path.name)
        if result.items:
            with_items += 1
        elif not result.format and not result.problems:
            unexplained.append(path.name)
    assert slow == []
    assert unexplained == []
    assert time.monotonic() - started < 30
    assert with_items > 1200


def test_real_feeds_yield_titles_links_and_dates():
    real = [path for path in corpus_files() if "feedparser" not in path.parts]
    items = [
        item
        for path in real
        for item in parse_feed(path.read_bytes(), url="http://corpus.test/").items
    ]
    assert len(items) > 400
    assert sum(1 for item in items if item.title) / len(items) > 0.95
    assert sum(1 for item in items if item.url) / len(items) > 0.95
    assert sum(1 for item in items if item.published_at) / len(items) > 0.9
