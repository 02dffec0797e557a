"""Pipeline throughput: raw feed bytes to stored, indexed and matched mentions, on SQLite.

A fresh database (temporary data directory) holds 1,000 topics spread over 20 workspaces
(50 in the benchmarked one: the process-wide matcher holds all 1,000). Each run parses
synthetic RSS feeds of new items (French and English, ~70 words each, some syndicated
copies) with Tribu's parse_feed, then ingests them through services.ingest.ingest (dedupe,
near-duplicate grouping, matching, bulk insert, FTS5 index) one feed at a time, as the
poller does. Prints one JSON line per run and a summary line: mentions/s (median of runs,
one core) and the share of each stage.

    .venv/bin/python bench/pipeline.py [--runs 5] [--feeds 20] [--items 200]
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FR = [
    "la",
    "marque",
    "lance",
    "son",
    "nouveau",
    "produit",
    "à",
    "Lyon",
    "et",
    "les",
    "clients",
    "sont",
    "très",
    "contents",
    "du",
    "service",
    "livraison",
    "rapide",
    "mais",
    "le",
    "prix",
    "reste",
    "élevé",
    "pour",
    "une",
    "boutique",
    "de",
    "quartier",
    "où",
    "l'équipe",
    "accueille",
    "chaque",
    "samedi",
    "des",
    "curieux",
    "qui",
    "testent",
    "les",
    "vélos",
    "électriques",
    "sur",
    "les",
    "quais",
    "avec",
    "une",
    "batterie",
    "qui",
    "tient",
    "toute",
    "la",
    "journée",
    "selon",
    "les",
    "premiers",
    "essais",
    "publiés",
    "hier",
]
EN = [
    "the",
    "brand",
    "launched",
    "its",
    "new",
    "product",
    "in",
    "London",
    "and",
    "customers",
    "seem",
    "happy",
    "with",
    "the",
    "fast",
    "delivery",
    "although",
    "the",
    "price",
    "is",
    "still",
    "high",
    "for",
    "a",
    "small",
    "shop",
    "where",
    "the",
    "team",
    "welcomes",
    "curious",
    "visitors",
    "every",
    "saturday",
    "who",
    "try",
    "electric",
    "bikes",
    "along",
    "the",
    "river",
    "with",
    "a",
    "battery",
    "that",
    "lasts",
    "all",
    "day",
    "according",
    "to",
    "the",
    "first",
    "reviews",
    "published",
    "yesterday",
]
BRANDS = [f"Marque{n}" for n in range(1000)]


def setup_django():
    os.environ["TRIBU_DATA_DIR"] = tempfile.mkdtemp(prefix="tribu-bench-pipeline-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


OPERATORS = {"and", "or", "not", "near", "onear"}


def topic_query(rng, n):
    words = [word for word in FR + EN if word not in OPERATORS and "'" not in word]
    brand = BRANDS[n]
    a, b, c = rng.sample(words, 3)
    shapes = [
        f'"{brand}" OR {brand.lower()}*',
        f"{brand} AND ({a} OR {b}) NOT {c}",
        f'"{a} {b}" AND {brand}',
        f"{brand} NEAR/5 {a}",
        f"({brand} OR {a}{n}) AND lang:fr",
        f"title:{brand} OR (#{brand.lower()} AND {b})",
    ]
    return shapes[n % len(shapes)]


def build_topics(rng):
    from tribu.accounts.models import User
    from tribu.core.services.workspaces import create_workspace
    from tribu.listening.models import Source, Topic

    owner = User.objects.create_user("owner@bench.example", "bench-password-123")
    workspaces = [
        create_workspace(slug=f"bench-{n}", name=f"Bench {n}", owner=owner) for n in range(20)
    ]
    Topic.objects.bulk_create(
        [
            Topic(workspace=workspaces[n % 20], name=f"Topic {n}", query=topic_query(rng, n))
            for n in range(1000)
        ]
    )
    workspace = workspaces[0]
    source = Source.objects.create(workspace=workspace, url="https://news.example/feed")
    return workspace, source


def sentence(rng, words, length):
    return " ".join(rng.choice(words) for _ in range(length))


def feed_bytes(rng, run, feed, count, start):
    items = []
    previous = ""
    for n in range(count):
        words = FR if (n + feed) % 2 else EN
        brand = BRANDS[rng.randrange(0, 1000, 20)]  # brands of the benchmarked workspace
        text = f"{sentence(rng, words, 30)} {brand} {sentence(rng, words, 40)}"
        if n % 10 == 9:  # a syndicated copy of the previous item, at another address
            text = previous + " Lire la suite sur https://mirror.example/"
            link = f"https://mirror.example/r{run}/f{feed}/{n}"
        else:
            link = f"https://news.example/r{run}/f{feed}/{n}?utm_source=rss"
        previous = text
        published = format_datetime(start - timedelta(minutes=n + feed * count))
        items.append(
            f"<item><title>{escape(sentence(rng, words, 8))}</title><link>{escape(link)}</link>"
            f"<guid isPermaLink='false'>r{run}-f{feed}-{n}</guid><pubDate>{published}</pubDate>"
            f"<dc:creator>Auteur {n % 37}</dc:creator>"
            f"<description><![CDATA[<p>{escape(text)}</p>]]></description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>News</title>'
        f"<link>https://news.example/</link>{''.join(items)}</channel></rss>"
    ).encode()


class Stopwatch:
    """Wraps module functions to add up the time spent in each stage."""

    def __init__(self):
        self.totals = defaultdict(float)

    def wrap(self, module, name, stage):
        function = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.totals[stage] += time.perf_counter() - started

        setattr(module, name, timed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args()

    setup_django()
    from tribu.insights.services import aggregates
    from tribu.listening import search
    from tribu.listening.fetch.feeds import parse_feed
    from tribu.listening.services import authors, topics
    from tribu.listening.services import ingest as ingest_module

    rng = random.Random(7)
    workspace, source = build_topics(rng)
    started = time.perf_counter()
    topics.current_matcher()
    print(json.dumps({"stage": "matcher_build", "topics": 1000,
                      "seconds": round(time.perf_counter() - started, 3)}))  # fmt: skip

    watch = Stopwatch()
    watch.wrap(ingest_module, "_prepare", "keys")
    watch.wrap(ingest_module, "_existing", "dedupe_lookup")
    watch.wrap(ingest_module, "_insert_mentions", "insert")
    # Called inside _insert_mentions: subtracted from "insert" below.
    watch.wrap(ingest_module, "analyse_mentions", "language_sentiment")
    watch.wrap(authors, "attach_authors", "authors")
    watch.wrap(aggregates, "add_mentions", "aggregates")
    watch.wrap(ingest_module, "link_topics", "match_and_link")
    watch.wrap(search, "index_mentions", "fts_index")
    watch.wrap(ingest_module, "_record_copies", "copies")

    start = datetime(2025, 6, 1, tzinfo=UTC)
    rates, cpu_rates, shares_runs, nlp_us = [], [], [], []
    for run in range(args.runs):
        feeds = [
            feed_bytes(rng, run, feed, args.items, start - timedelta(days=run))
            for feed in range(args.feeds)
        ]
        watch.totals.clear()
        parse_seconds = ingest_seconds = 0.0
        created = grouped = matched = total = 0
        cpu_started = time.process_time()
        for body in feeds:
            t0 = time.perf_counter()
            result = parse_feed(body, url="https://news.example/feed")
            t1 = time.perf_counter()
            report = ingest_module.ingest(source, result.items)
            t2 = time.perf_counter()
            parse_seconds += t1 - t0
            ingest_seconds += t2 - t1
            total += len(result.items)
            created, grouped = created + report.created, grouped + report.grouped
            matched += report.matched
        elapsed = parse_seconds + ingest_seconds
        cpu_rates.append(total / (time.process_time() - cpu_started))
        stages = {"parse": parse_seconds, **watch.totals}
        stages["insert"] -= stages["language_sentiment"] + stages["authors"]
        nlp_us.append(stages["language_sentiment"] / max(created, 1) * 1e6)
        stages["other"] = elapsed - sum(stages.values())
        shares = {name: round(value / elapsed, 3) for name, value in stages.items()}
        shares_runs.append(shares)
        rates.append(total / elapsed)
        print(json.dumps({
            "run": run, "items": total, "created": created, "grouped": grouped,
            "topic_links": matched, "seconds": round(elapsed, 3),
            "mentions_per_s": round(total / elapsed),
            "mentions_per_cpu_s": round(cpu_rates[-1]), "shares": shares,
        }))  # fmt: skip
    median_shares = {
        name: round(statistics.median(run[name] for run in shares_runs), 3)
        for name in shares_runs[0]
    }
    print(json.dumps({
        "summary": "pipeline", "database": "sqlite", "topics": 1000, "runs": args.runs,
        "items_per_run": args.feeds * args.items,
        "median_mentions_per_s": round(statistics.median(rates)),
        "min_mentions_per_s": round(min(rates)),
        "median_mentions_per_cpu_s": round(statistics.median(cpu_rates)),
        "target_mentions_per_s": 2000,
        # Language detection + fast sentiment per NEW mention (duplicates are not analysed).
        "median_language_sentiment_us_per_mention": round(statistics.median(nlp_us)),
        "target_language_sentiment_us_per_mention": 1000,
        "median_shares": median_shares,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
