"""Feed parsing speed: entries/s of Tribu's parse_feed, and of feedparser when it is
installed (it is not a Tribu dependency: `pip install feedparser` to compare).

Workloads: the real feeds of the corpus (../shared/data/feeds/feed-rs and feedjira, about
110 files from BBC, Cloudflare, YouTube, FeedBurner…) and synthetic big RSS 2.0 and Atom
feeds (500 entries each, ~1 KB of HTML per entry). Each figure is the median of several
runs. Output: one JSON object per line.

Usage: python bench/feeds.py [--runs 5]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "feeds"

PARAGRAPH = (
    "<p>La marque <b>Acme</b> lance son nouveau vélo électrique à Lyon ; les premiers "
    'essais sont <a href="/essais?utm_source=rss">très positifs</a> &amp; la presse '
    "en parle. The launch event drew a crowd of cyclists, journalists and curious "
    "neighbours who tried the bikes on the quays.</p>"
)


def synthetic_rss(count=500):
    items = "".join(
        f"<item><title>Acme news number {n} &amp; more</title>"
        f"<link>https://news.example/articles/{n}?utm_source=rss&amp;ref=home</link>"
        f'<guid isPermaLink="false">article-{n}</guid>'
        f"<pubDate>Tue, 10 Jun 2025 04:{n % 60:02d}:00 +0200</pubDate>"
        f"<dc:creator>Author {n % 17}</dc:creator><category>bikes</category>"
        f"<description><![CDATA[{PARAGRAPH * 3}]]></description></item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>News</title>'
        f"<link>https://news.example/</link>{items}</channel></rss>"
    ).encode()


def synthetic_atom(count=500):
    escaped = PARAGRAPH.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    entries = "".join(
        f"<entry><title>Acme story {n}</title><id>tag:news.example,2025:{n}</id>"
        f'<link rel="alternate" href="/stories/{n}"/>'
        f"<published>2025-06-10T04:{n % 60:02d}:00+02:00</published>"
        f"<updated>2025-06-10T05:00:00Z</updated><author><name>Author {n % 17}</name></author>"
        f'<content type="html">{escaped * 3}</content></entry>'
        for n in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        f'xml:base="https://news.example/"><title>News</title>{entries}</feed>'
    ).encode()


def real_feeds():
    files = []
    for folder in ("feed-rs", "feedjira"):
        for path in sorted((CORPUS / folder).rglob("*")):
            if path.suffix in (".xml", ".json") and not path.name.endswith(".serde.json"):
                files.append(path.read_bytes())
    return files


def tribu_parser():
    from tribu.listening.fetch.feeds import parse_feed

    return lambda body: len(parse_feed(body, url="https://news.example/feed").items)


def feedparser_parser():
    try:
        import feedparser
    except ImportError:
        return None
    return lambda body: len(feedparser.parse(body).entries)


def measure(parse, bodies, runs):
    timings = []
    entries = 0
    for _run in range(runs):
        started = time.perf_counter()
        entries = sum(parse(body) for body in bodies)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    return entries, median


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    if "TRIBU_DATA_DIR" not in os.environ:
        os.environ["TRIBU_DATA_DIR"] = tempfile.mkdtemp(prefix="tribu-bench-feeds-")
    import django

    django.setup()

    workloads = {
        "synthetic-rss": [synthetic_rss()],
        "synthetic-atom": [synthetic_atom()],
    }
    if CORPUS.is_dir():
        workloads["real"] = real_feeds()
    else:
        print(json.dumps({"bench": "feeds", "skipped": f"corpus not found at {CORPUS}"}))
    parsers = {"tribu": tribu_parser(), "feedparser": feedparser_parser()}
    if parsers["feedparser"] is None:
        print(json.dumps({"bench": "feeds", "note": "feedparser not installed: no baseline"}))
    for workload, bodies in workloads.items():
        rates = {}
        for name, parse in parsers.items():
            if parse is None:
                continue
            parse(bodies[0])  # warm up (imports, caches)
            entries, seconds = measure(parse, bodies, args.runs)
            rates[name] = entries / seconds if seconds else 0.0
            print(
                json.dumps(
                    {
                        "bench": "feeds",
                        "workload": workload,
                        "parser": name,
                        "files": len(bodies),
                        "bytes": sum(len(body) for body in bodies),
                        "entries": entries,
                        "runs": args.runs,
                        "median_seconds": round(seconds, 4),
                        "entries_per_second": round(rates[name]),
                    }
                ),
                flush=True,
            )
        if "feedparser" in rates and rates["feedparser"]:
            print(
                json.dumps(
                    {
                        "bench": "feeds",
                        "workload": workload,
                        "speedup_vs_feedparser": round(rates["tribu"] / rates["feedparser"], 1),
                    }
                )
            )


if __name__ == "__main__":
    main()
