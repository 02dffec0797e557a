"""The stream page as a user gets it: rendered HTML with 1,000,000 stored mentions on SQLite.

Uses the database that bench/search.py builds (pass the same --data-dir; it is built here
the same way when the directory is empty), signs in as the workspace owner with Django's
test client (DEBUG off, templates cached as in production) and times GET requests of the
stream page under several filter combinations, 50 mentions a page. Each page's queries are
counted with CaptureQueriesContext: an N+1 (a query per mention) would show as a count
near the number of items (tests/listening/views/test_stream.py checks it stays constant).
Prints one JSON line per page (median and p95 in ms, queries, ratio to /healthz measured
in the same process) and a summary line.

    .venv/bin/python bench/stream_page.py --data-dir /tmp/bench-1m [--count 1000000]
        [--rounds 60]
"""

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search as search_bench  # noqa: E402  (bench/search.py: database builder)


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
        "p95_ms": round(durations[max(0, int(len(durations) * 0.95) - 1)], 1),
        "max_ms": round(durations[-1], 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--data-dir", help="the directory bench/search.py --data-dir used")
    args = parser.parse_args()

    search_bench.setup_django(args.data_dir)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tribu.accounts.models import User
    from tribu.listening.services.mentions import StreamFilters, page, stream

    settings.ALLOWED_HOSTS = ["*"]
    # Django empties the query log when a request starts: keep it for the count.
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)
    found = search_bench.existing(args.count) if args.data_dir else None
    workspace, sources, topics, _seconds = found or search_bench.build(args.count)
    owner = User.objects.get(email="owner@bench.example")
    client = Client()
    client.force_login(owner)
    base = f"/w/{workspace.slug}/listening/"
    topic, source = topics[0].pk, sources[3].pk
    day = date(2025, 3, 14)

    pages = {
        "all": "",
        "topic": f"topic={topic}",
        "topic_unread": f"topic={topic}&read=0",
        "unread": "read=0",
        "network": "network=mastodon",
        "source": f"source={source}",
        "lang": "lang=en",
        "date_range": f"since={day}&until=2025-03-20",
        "starred": "starred=1",
        "search": "q=livraison",
        "search_prefix": "q=lumina1*",
        "search_in_topic": f"topic={topic}&q=livraison",
        "search_relevance": "q=livraison&order=relevance",
        "topic_network_lang": f"topic={topic}&network=web&lang=fr",
    }
    _items, cursor = page(stream(workspace, StreamFilters(topic=topic)))
    pages["topic_next_page"] = f"topic={topic}&cursor={cursor}"

    # /healthz answers 503 here (no worker heartbeat): still the cheapest request.
    healthz = time_get(Client(), "/healthz", args.rounds, expect=None)
    print(json.dumps({"page": "healthz (baseline)", **healthz}), flush=True)
    worst = 0.0
    for name, query in pages.items():
        path = f"{base}?{query}" if query else base
        time_get(client, path, 3)  # warm caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        items = response.content.count(b"data-mention ")
        result = time_get(client, path, args.rounds)
        worst = max(worst, result["p95_ms"])
        print(json.dumps({
            "page": name, "path": path, **result, "items": items,
            "queries": len(queries),
            "ratio_to_healthz": round(result["median_ms"] / healthz["median_ms"], 1),
        }), flush=True)  # fmt: skip
    print(json.dumps({
        "summary": "stream_page", "database": "sqlite", "mentions": args.count,
        "worst_p95_ms": worst, "target_p95_ms": 150,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
