"""Listening dashboards with 1,000,000 mentions over 90 days on SQLite.

Builds (once; cached in --data-dir, default /tmp/tribu-bench-dashboard) a workspace with
COUNT mentions spread over the 90 days before the build, French and English text drawn from
bench/search.py's Zipf vocabulary plus hashtags, @handles, links and a long tail of rare
words, 60,000 authors (a few very active, followers log-normal), 10 sources, 6 networks,
sentiments 20 % negative / 45 % neutral / 20 % positive / 15 % unknown, a brand topic
linked to 35 % of the mentions and two competitor topics to 15 % and 10 %. Mentions, authors
and links go in with executemany; the aggregates are then built as ingestion builds them,
by `aggregates.rebuild_workspace` (the same add_mentions code), and single-use terms of busy
days are pruned as housekeeping does (`aggregates.prune_terms`).

The worker pre-computes every panel into the shared cache every five minutes, and at once
when a workspace's local day begins (services/warm.py); a request only computes a panel when
that has not happened (a fresh install, the warm-up's own seconds after local midnight). So
each page is timed once cold (cache cleared: what a request costs without the worker), then
the worker's warm-up of the whole workspace is timed, then each page ROUNDS times as viewers
get it.

Then signs in as the owner with Django's test client (DEBUG off) and, with the clock set
to the end of the generated data (time-machine), renders each page ROUNDS times: the
dashboard for 7/30/90 days, a topic dashboard, trends, authors by reach, an author page, the
watch list and a chart CSV. Prints one JSON line per page (cold, median and p95 in ms,
ratio to /healthz measured in the same process) and a summary line.

    .venv/bin/python bench/dashboard.py [--count 1000000] [--rounds 30] [--data-dir DIR]
"""

import argparse
import json
import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search as search_bench  # noqa: E402  (vocabulary and Django set-up)

DEFAULT_DIR = "/tmp/tribu-bench-dashboard"  # noqa: S108 (a cache of generated data)
NETWORKS = ["web", "web", "mastodon", "bluesky", "reddit", "hackernews", "youtube"]
SENTIMENTS = ["negative"] * 20 + ["neutral"] * 45 + ["positive"] * 20 + ["unknown"] * 15
HASHTAGS = [f"#tag{n}" for n in range(400)]
HANDLES = [f"@compte{n}" for n in range(800)]
LINKS = [f"https://site{n % 60}.example/article-{n}" for n in range(1500)]
AUTHORS = 60_000
DAYS = 90


def build(count, seed=7):
    from django.db import connection

    from tribu.accounts.models import User
    from tribu.core.services.workspaces import create_workspace
    from tribu.insights.services import aggregates
    from tribu.listening.models import Source, Topic
    from tribu.listening.services.dedupe import base_sort_key, hash64

    rng = random.Random(seed)
    owner = User.objects.create_user("owner@bench.example", "bench-password-123")
    workspace = create_workspace(slug="bench", name="Bench", owner=owner)
    sources = [
        Source.objects.create(
            workspace=workspace, url=f"https://feed{n}.example/rss", name=f"Feed {n}"
        )
        for n in range(10)
    ]
    topics = Topic.objects.bulk_create(
        [
            Topic(workspace=workspace, name="Marque", query="marque", kind="brand"),
            Topic(workspace=workspace, name="Rival A", query="rivala", kind="competitor",
                  colour="#b91c1c"),
            Topic(workspace=workspace, name="Rival B", query="rivalb", kind="competitor",
                  colour="#15803d"),
        ]
    )  # fmt: skip
    shares = [0.35, 0.15, 0.10]
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-400000")
        cursor.execute("PRAGMA temp_store=MEMORY")
        stamp = start.strftime("%Y-%m-%d %H:%M:%S.%f")
        cursor.executemany(
            "INSERT INTO listening_author (workspace_id, network, key, name, handle, url, "
            "followers, mentions_count, first_seen_at, last_seen_at, watched, note) VALUES "
            "(%s, %s, %s, %s, %s, '', %s, 0, %s, %s, %s, '')",
            [
                (workspace.pk, NETWORKS[n % len(NETWORKS)], f"author{n}", f"Author {n}",
                 f"@author{n}", int(math.exp(rng.gauss(5, 2))), stamp, stamp, n < 20)
                for n in range(AUTHORS)
            ],
        )  # fmt: skip
        cursor.execute(
            "SELECT MIN(id) FROM listening_author WHERE workspace_id = %s", [workspace.pk]
        )
        first_author = cursor.fetchone()[0]
    author_weights = [1 / (rank + 1) ** 0.8 for rank in range(AUTHORS)]
    author_ids = rng.choices(range(first_author, first_author + AUTHORS), author_weights, k=count)
    mention_sql = (
        "INSERT INTO listening_mention (workspace_id, source_id, network, url, canonical_url, "
        "guid, title, text, html, author_name, author_handle, author_url, published_at, "
        "fetched_at, lang, sentiment, sentiment_tier, author_id, engagement, raw, read, "
        "starred, hidden, also_seen, sort_key, url_key) VALUES "
        "(%s, %s, %s, %s, %s, '', '', %s, '', '', '', '', %s, %s, %s, %s, 'fast', %s, %s, "
        "'{}', 0, 0, 0, 0, %s, %s)"
    )
    link_sql = (
        "INSERT INTO listening_mentiontopic (mention_id, topic_id, workspace_id, published_at, "
        "sort_key) VALUES (%s, %s, %s, %s, %s)"
    )
    span = (end - start).total_seconds()
    stamps = sorted(rng.random() * span for _ in range(count))
    started = time.perf_counter()
    chunk = 20_000
    last_key = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM listening_mention")
        next_id = cursor.fetchone()[0] + 1
    for offset in range(0, count, chunk):
        mentions, links = [], []
        for index in range(offset, min(offset + chunk, count)):
            french = rng.random() < 0.6
            words = search_bench.zipf_words(rng, search_bench.FR if french else search_bench.EN, 14)
            if rng.random() < 0.5:
                words.append(rng.choice(HASHTAGS[: rng.randrange(1, len(HASHTAGS))]))
            if rng.random() < 0.2:
                words.append(rng.choice(HANDLES))
            if rng.random() < 0.25:
                words.append(rng.choice(LINKS[: rng.randrange(1, len(LINKS))]))
            for _ in range(2):  # the long tail: rare words, mostly used once a day
                words.append(f"rare{rng.randrange(400_000)}")
            published = start + timedelta(seconds=stamps[index])
            sort_key = last_key = max(base_sort_key(published), last_key + 1)
            url = f"https://site{index % 500}.example/m/{index}"
            stamp = published.strftime("%Y-%m-%d %H:%M:%S.%f")
            engagement = json.dumps(
                {"likes": int(rng.expovariate(0.2)), "reposts": rng.randrange(3)}
            )
            mentions.append(
                (workspace.pk, rng.choice(sources).pk, rng.choice(NETWORKS), url, url,
                 " ".join(words), stamp, stamp, "fr" if french else "en", rng.choice(SENTIMENTS),
                 author_ids[index], engagement, sort_key, hash64(url))
            )  # fmt: skip
            for topic, share in zip(topics, shares, strict=True):
                if rng.random() < share:
                    links.append((next_id, topic.pk, workspace.pk, stamp, sort_key))
            next_id += 1
        with connection.cursor() as cursor:
            cursor.executemany(mention_sql, mentions)
            cursor.executemany(link_sql, links)
        print(json.dumps({"inserted": min(offset + chunk, count),
                          "seconds": round(time.perf_counter() - started, 1)}),
              file=sys.stderr, flush=True)  # fmt: skip
    aggregates.rebuild_workspace(workspace.pk)
    print(json.dumps({"aggregates_built_s": round(time.perf_counter() - started, 1)}),
          file=sys.stderr, flush=True)  # fmt: skip
    day = start
    while day <= end + timedelta(days=2):
        aggregates.prune_terms(now=day)
        day += timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE listening_author SET mentions_count = (SELECT COUNT(*) FROM "
            "listening_mention WHERE author_id = listening_author.id)"
        )
        cursor.execute("PRAGMA optimize")
        cursor.execute("ANALYZE")
        cursor.execute("PRAGMA synchronous=NORMAL")
    (Path(connection.settings_dict["NAME"]).parent / "bench-end.txt").write_text(end.isoformat())
    print(json.dumps({"built_s": round(time.perf_counter() - started, 1)}), file=sys.stderr)
    return workspace, topics, end


def existing(count):
    from django.db import connection

    from tribu.core.models import Workspace
    from tribu.listening.models import Mention, Topic

    workspace = Workspace.objects.filter(slug="bench").first()
    marker = Path(connection.settings_dict["NAME"]).parent / "bench-end.txt"
    if workspace is None or not marker.exists():
        return None
    if Mention.objects.count() != count:
        raise SystemExit(f"The data directory holds another count than {count}: remove it.")
    topics = list(Topic.objects.filter(workspace=workspace).order_by("id"))
    return workspace, topics, datetime.fromisoformat(marker.read_text())


def time_get(client, path, rounds, expect=200):
    durations = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        durations.append((time.perf_counter() - started) * 1000)
        if expect is not None and response.status_code != expect:
            raise SystemExit(f"{path} answered {response.status_code}")
    durations.sort()
    return {
        "median_ms": round(statistics.median(durations), 1),
        "p95_ms": round(durations[max(0, math.ceil(len(durations) * 0.95) - 1)], 1),
        "max_ms": round(durations[-1], 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--data-dir", default=DEFAULT_DIR)
    args = parser.parse_args()

    search_bench.setup_django(args.data_dir)
    import time_machine
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from tribu.accounts.models import User
    from tribu.insights.models import AuthorDay, TermDay, VolumeBucket
    from tribu.insights.services import warm
    from tribu.listening.models import Author

    settings.ALLOWED_HOSTS = ["*"]
    workspace, topics, end = existing(args.count) or build(args.count)
    sizes = {
        model.__name__: model.objects.filter(workspace=workspace).count()
        for model in (VolumeBucket, AuthorDay, TermDay)
    }
    print(json.dumps({"aggregate_rows": sizes}), flush=True)
    owner = User.objects.get(email="owner@bench.example")
    author = Author.objects.filter(workspace=workspace).order_by("-mentions_count").first()
    base = f"/w/{workspace.slug}/insights/"
    pages = {
        "dashboard_7d": f"{base}?days=7",
        "dashboard_30d": f"{base}?days=30",
        "dashboard_90d": f"{base}?days=90",
        "topic_dashboard_90d": f"{base}topics/{topics[0].pk}/?days=90",
        "competitor_dashboard_30d": f"{base}topics/{topics[2].pk}/?days=30",
        "trends_30d": f"{base}trends/?days=30",
        "trends_topic_90d": f"{base}trends/?days=90&topic={topics[0].pk}",
        "authors_activity_90d": f"{base}authors/?days=90",
        "authors_reach_90d": f"{base}authors/?days=90&sort=reach",
        "author_page_90d": f"{base}authors/{author.pk}/?days=90",
        "watch_list": f"{base}watch-list/",
        "csv_terms_90d": f"{base}?days=90&format=csv&chart=terms",
    }
    with time_machine.travel(end + timedelta(minutes=5), tick=True):
        client = Client()
        client.force_login(owner)
        healthz = time_get(Client(), "/healthz", args.rounds, expect=None)
        print(json.dumps({"page": "healthz (baseline)", **healthz}), flush=True)
        worst = worst_cold = 0.0
        colds = {}
        for name, path in pages.items():
            cache.clear()
            colds[name] = time_get(client, path, 1)["max_ms"]
            worst_cold = max(worst_cold, colds[name])
        cache.clear()
        started = time.perf_counter()
        scopes = warm.warm_workspace(workspace.pk)
        warm_s = round(time.perf_counter() - started, 2)
        print(json.dumps({"worker_warm_up_s": warm_s, "scopes": scopes}), flush=True)
        for name, path in pages.items():
            time_get(client, path, 2)
            result = time_get(client, path, args.rounds)
            worst = max(worst, result["p95_ms"])
            print(json.dumps({
                "page": name, "path": path, "cold_ms": colds[name], **result,
                "ratio_to_healthz": round(result["median_ms"] / max(healthz["median_ms"], 0.01), 1),
            }), flush=True)  # fmt: skip
    print(json.dumps({
        "summary": "dashboard", "database": "sqlite", "mentions": args.count,
        "worst_p95_ms": worst, "worst_cold_ms": worst_cold, "target_p95_ms": 300,
        "worker_warm_up_s": warm_s,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
