"""Search and stream latency with 1,000,000 stored mentions on SQLite.

Builds a fresh SQLite database (temporary data directory) holding COUNT mentions generated
offline (French and English, ~45 words each drawn from a Zipf-distributed vocabulary plus
brand and place names), 90 % in the benchmarked workspace and the rest in four others, each
indexed in FTS5 with its stems (then the index's vocabulary, for prefix searches), and 30
topics linked to ~3 % of the mentions each. Rows go in with executemany under bench-only
PRAGMAs (synchronous=OFF, a large cache); the app's own search and stream code then runs
unchanged.

Measures, through services.mentions.stream + page (the ORM query, fetched; no rendering):
- newest-first full-text search, first page of 50, over realistic terms: common and rare
  words, two-word searches, phrases, prefixes, accented and stemmed forms (target p95 ≤ 20 ms);
- filtered stream pages: topic, topic + unread, network, source, language, date range,
  starred, and a keyset "next page".
Prints one JSON line per query kind (median and p95 in ms) and a summary line.

    .venv/bin/python bench/search.py [--count 1000000] [--rounds 400] [--data-dir DIR]
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FR = [
    "le",
    "la",
    "les",
    "de",
    "des",
    "du",
    "un",
    "une",
    "et",
    "à",
    "en",
    "pour",
    "sur",
    "dans",
    "par",
    "avec",
    "est",
    "sont",
    "pas",
    "plus",
    "très",
    "marque",
    "produit",
    "service",
    "client",
    "clients",
    "livraison",
    "prix",
    "boutique",
    "magasin",
    "équipe",
    "nouveau",
    "nouvelle",
    "lancement",
    "commande",
    "retour",
    "qualité",
    "avis",
    "merci",
    "problème",
    "réponse",
    "rapide",
    "lente",
    "chevaux",
    "cheval",
    "vélo",
    "vélos",
    "électrique",
    "batterie",
    "essai",
    "essais",
    "journée",
    "semaine",
    "samedi",
    "Lyon",
    "Paris",
    "Marseille",
    "Bordeaux",
    "Lille",
    "Nantes",
    "lumière",
    "lampe",
    "lampes",
    "design",
    "maison",
    "acheter",
    "acheté",
    "achète",
    "recommande",
    "recommandé",
    "déçu",
    "déçue",
    "satisfait",
    "satisfaite",
    "concours",
    "gagner",
    "cadeau",
    "offre",
    "promotion",
    "soldes",
    "événement",
    "salon",
    "rencontre",
    "atelier",
    "école",
    "écoles",
    "élèves",
    "formation",
    "emploi",
    "recrutement",
    "presse",
    "article",
    "journal",
    "interview",
]  # noqa: E501
EN = [
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "is",
    "are",
    "not",
    "more",
    "very",
    "and",
    "or",
    "but",
    "it",
    "this",
    "that",
    "brand",
    "product",
    "service",
    "customer",
    "customers",
    "delivery",
    "price",
    "shop",
    "store",
    "team",
    "new",
    "launch",
    "order",
    "return",
    "quality",
    "review",
    "thanks",
    "issue",
    "answer",
    "fast",
    "slow",
    "horses",
    "horse",
    "bike",
    "bikes",
    "electric",
    "battery",
    "test",
    "tests",
    "day",
    "week",
    "saturday",
    "London",
    "Manchester",
    "Leeds",
    "light",
    "lamp",
    "lamps",
    "design",
    "home",
    "buy",
    "bought",
    "buying",
    "recommend",
    "recommended",
    "disappointed",
    "happy",
    "contest",
    "win",
    "gift",
    "offer",
    "promotion",
    "sale",
    "event",
    "fair",
    "meetup",
    "workshop",
    "school",
    "schools",
    "students",
    "training",
    "job",
    "hiring",
    "press",
    "article",
    "newspaper",
    "interview",
    "running",
    "run",
    "runs",
]  # noqa: E501
RARE = [f"{stem}{n}" for stem in ("Lumina", "Velix", "Maisonor", "Acmé") for n in range(250)]
NETWORKS = ["web", "web", "web", "mastodon", "bluesky", "reddit", "hackernews"]

SEARCHES = {
    "common_word": ["livraison", "delivery", "service", "prix", "price", "design"],
    "rare_word": ["Lumina7", "Velix42", "Maisonor199", "Acmé3", "Velix250x"],
    "two_words": ["livraison rapide", "electric bike", "prix élevé", "happy customers",
                  "concours cadeau", "lampe design"],
    "phrase": ['"livraison rapide"', '"electric bike"', '"la marque"', '"new product"'],
    "prefix": ["livrai*", "recomm*", "Lumina1*", "élect*"],
    "accent_stem": ["ecole", "eleves", "cheval", "evenement", "running", "recommande"],
}  # fmt: skip


def setup_django(data_dir=None):
    if data_dir:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
    os.environ["TRIBU_DATA_DIR"] = data_dir or tempfile.mkdtemp(prefix="tribu-bench-search-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def zipf_words(rng, words, count):
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(words))]
    return rng.choices(words, weights=weights, k=count)


def build(count, seed=11):
    from django.db import connection

    from tribu.accounts.models import User
    from tribu.core.services.workspaces import create_workspace
    from tribu.listening import search
    from tribu.listening.models import Source, Topic
    from tribu.listening.services.dedupe import base_sort_key, hash64

    rng = random.Random(seed)
    owner = User.objects.create_user("owner@bench.example", "bench-password-123")
    workspaces = [create_workspace(slug=f"ws{n}", name=f"WS {n}", owner=owner) for n in range(5)]
    sources = {
        ws.pk: [
            Source.objects.create(workspace=ws, url=f"https://feed{n}.example/rss", name=f"F{n}")
            for n in range(10)
        ]
        for ws in workspaces
    }
    topics = Topic.objects.bulk_create(
        [Topic(workspace=workspaces[0], name=f"Topic {n}", query=f"t{n}") for n in range(30)]
    )
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-400000")
        cursor.execute("PRAGMA temp_store=MEMORY")

    end = datetime(2025, 6, 1, tzinfo=UTC)
    span = timedelta(days=365).total_seconds()
    mention_sql = (
        "INSERT INTO listening_mention (workspace_id, source_id, network, url, canonical_url, "
        "guid, title, text, html, author_name, author_handle, author_url, published_at, "
        "fetched_at, lang, engagement, raw, read, starred, hidden, also_seen, sort_key, "
        "url_key, guid_key, content_hash, near_key) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, '', %s, '', '', %s, %s, %s, '{}', '{}', %s, %s, "
        "%s, 0, %s, %s, NULL, NULL, NULL)"
    )
    fts_sql = (
        f"INSERT INTO {search.FTS_TABLE}(rowid, ws, title, body, stems) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    )
    link_sql = (
        "INSERT INTO listening_mentiontopic (mention_id, topic_id, workspace_id, published_at, "
        "sort_key) VALUES (%s, %s, %s, %s, %s)"
    )
    # Publication times, newest last, so each chunk appends to the indexes.
    stamps = sorted(rng.random() * span for _ in range(count))
    started = time.perf_counter()
    chunk = 20_000
    next_id = 1
    last_key = 0
    for offset in range(0, count, chunk):
        mentions, fts, links = [], [], []
        for index in range(offset, min(offset + chunk, count)):
            ws = workspaces[0] if rng.random() < 0.9 else workspaces[rng.randrange(1, 5)]
            french = rng.random() < 0.6
            vocabulary = FR if french else EN
            lang = rng.choice(("fr", "fr", "")) if french else rng.choice(("en", "en", ""))
            body = zipf_words(rng, vocabulary, 42)
            if rng.random() < 0.3:
                body.insert(rng.randrange(len(body)), rng.choice(RARE))
            text = " ".join(body) + "."
            title = " ".join(zipf_words(rng, vocabulary, 7)).capitalize()
            published = end - timedelta(seconds=span - stamps[index])
            # Increasing publication times: the next free key keeps them unique.
            sort_key = last_key = max(base_sort_key(published), last_key + 1)
            url = f"https://site{index % 500}.example/{index}"
            stamp = published.strftime("%Y-%m-%d %H:%M:%S.%f")
            mentions.append(
                (ws.pk, rng.choice(sources[ws.pk]).pk, rng.choice(NETWORKS), url, url,
                 str(index), title, text, f"Author {index % 5000}", stamp, stamp, lang,
                 rng.random() < 0.7, rng.random() < 0.02, rng.random() < 0.01,
                 sort_key, hash64(url))
            )  # fmt: skip
            fts.append((sort_key, f"w{ws.pk}", title, text, search.stems_for(title, text, lang)))
            if ws.pk == workspaces[0].pk:
                for topic in topics:
                    if rng.random() < 0.03:
                        links.append((next_id, topic.pk, ws.pk, stamp, sort_key))
            next_id += 1
        with connection.cursor() as cursor:
            cursor.executemany(mention_sql, mentions)
            cursor.executemany(fts_sql, fts)
            cursor.executemany(link_sql, links)
        print(json.dumps({"built": min(offset + chunk, count),
                          "seconds": round(time.perf_counter() - started, 1)}),
              file=sys.stderr, flush=True)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA optimize")
        cursor.execute(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}) VALUES ('optimize')")  # noqa: S608
        cursor.execute("PRAGMA synchronous=NORMAL")
    # The rows above bypassed search.index_mentions: fill the prefix vocabulary from the index.
    search.rebuild_words()
    return workspaces[0], sources[workspaces[0].pk], topics, time.perf_counter() - started


def existing(count):
    """The database built by an earlier run with --data-dir, if it holds `count` mentions."""
    from tribu.core.models import Workspace
    from tribu.listening.models import Mention, Source, Topic

    workspace = Workspace.objects.filter(slug="ws0").first()
    if workspace is None:
        return None
    if Mention.objects.count() != count:
        raise SystemExit(f"The data directory holds another count than {count}: remove it.")
    sources = list(Source.objects.filter(workspace=workspace).order_by("id"))
    topics = list(Topic.objects.filter(workspace=workspace).order_by("id"))
    return workspace, sources, topics, 0.0


def measure(function, rounds):
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "max_ms": round(timings[-1], 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument(
        "--data-dir",
        help="keep the database in this directory and reuse it on the next run "
        "(bench/stream_page.py reads it too); migrations still apply",
    )
    args = parser.parse_args()

    setup_django(args.data_dir)
    from tribu.listening.services.mentions import StreamFilters, page, stream

    found = existing(args.count) if args.data_dir else None
    workspace, sources, topics, build_seconds = found or build(args.count)
    print(json.dumps({"built": args.count, "build_seconds": round(build_seconds, 1)}))
    rng = random.Random(3)

    def first_page(filters):
        return lambda: page(stream(workspace, filters), None, 50)

    results = {}
    all_searches = []
    for kind, terms in SEARCHES.items():
        timings = []
        hits = []
        for _ in range(max(1, args.rounds // len(SEARCHES))):
            q = rng.choice(terms)
            started = time.perf_counter()
            items, _cursor = page(stream(workspace, StreamFilters(q=q)), None, 50)
            timings.append((time.perf_counter() - started) * 1000)
            hits.append(len(items))
        timings.sort()
        all_searches += timings
        results[kind] = {
            "median_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            "max_ms": round(timings[-1], 2),
            "median_hits_on_page": statistics.median(hits),
        }
        print(json.dumps({"query": f"search:{kind}", **results[kind]}))
    all_searches.sort()
    search_p95 = all_searches[int(len(all_searches) * 0.95) - 1]

    topic = topics[0]
    _items, cursor = page(stream(workspace, StreamFilters(topic=topic.pk)), None, 50)
    day = datetime(2025, 3, 14).date()
    streams = {
        "all": StreamFilters(),
        "topic": StreamFilters(topic=topic.pk),
        "topic_unread": StreamFilters(topic=topic.pk, read=False),
        "network": StreamFilters(network="mastodon"),
        "source": StreamFilters(source=sources[3].pk),
        "lang": StreamFilters(lang="en"),
        "date_range": StreamFilters(since=day, until=day + timedelta(days=6)),
        "starred": StreamFilters(starred=True),
        "search_in_topic": StreamFilters(topic=topic.pk, q="livraison"),
    }
    stream_p95 = []
    for name, filters in streams.items():
        result = measure(first_page(filters), max(20, args.rounds // 10))
        stream_p95.append(result["p95_ms"])
        print(json.dumps({"query": f"stream:{name}", **result}))
    result = measure(
        lambda: page(stream(workspace, StreamFilters(topic=topic.pk)), cursor, 50),
        max(20, args.rounds // 10),
    )
    stream_p95.append(result["p95_ms"])
    print(json.dumps({"query": "stream:topic_next_page", **result}))
    print(json.dumps({
        "summary": "search", "database": "sqlite", "mentions": args.count,
        "search_p95_ms": round(search_p95, 2), "search_target_p95_ms": 20,
        "worst_stream_page_p95_ms": max(stream_p95),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
