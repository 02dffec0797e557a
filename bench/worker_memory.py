"""Worker memory with 10,000 topics: peak RSS of a process that does what `tribu worker`
does when it polls, on SQLite.

The parent builds a fresh database (temporary data directory) with TOPICS topics spread
over 100 workspaces (the shapes of bench/pipeline.py: brands, phrases, NEAR, wildcards,
fields, hashtags), then starts a child Python process that sets Django up, builds the
process-wide Matcher (services.topics.current_matcher, as the poll task does) and ingests
BATCHES synthetic RSS feeds of 200 items through parse_feed + services.ingest.ingest. The
child reports its peak resident set (VmHWM in /proc/self/status, psutil is not installed)
after each stage. Target: ≤ 500 MB.

    .venv/bin/python bench/worker_memory.py [--topics 10000] [--batches 10]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def peak_rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def setup_django(data_dir, migrate):
    os.environ["TRIBU_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def build(count):
    import pipeline  # bench/pipeline.py: vocabulary and query shapes

    from tribu.accounts.models import User
    from tribu.core.services.workspaces import create_workspace
    from tribu.listening.models import Source, Topic

    rng = random.Random(5)
    owner = User.objects.create_user("owner@bench.example", "bench-password-123")
    workspaces = [
        create_workspace(slug=f"mem-{n}", name=f"Mem {n}", owner=owner) for n in range(100)
    ]
    pipeline.BRANDS[:] = [f"Marque{n}" for n in range(count)]
    Topic.objects.bulk_create(
        [
            Topic(
                workspace=workspaces[n % 100],
                name=f"Topic {n}",
                query=pipeline.topic_query(rng, n),
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    Source.objects.create(workspace=workspaces[0], url="https://news.example/feed")


def child(batches):
    import pipeline

    from tribu.listening.fetch.feeds import parse_feed
    from tribu.listening.models import Source, Topic
    from tribu.listening.services import ingest, topics

    report = {"after_setup_mb": round(peak_rss_mb(), 1)}
    started = time.perf_counter()
    compiled = topics.current_matcher()
    report["topics"] = Topic.objects.count()
    report["matcher_build_seconds"] = round(time.perf_counter() - started, 2)
    report["after_matcher_mb"] = round(peak_rss_mb(), 1)
    assert not compiled.empty
    source = Source.objects.get()
    rng = random.Random(9)
    pipeline.BRANDS[:] = [f"Marque{n}" for n in range(report["topics"])]
    start = datetime(2025, 6, 1, tzinfo=UTC)
    created = linked = 0
    for batch in range(batches):
        body = pipeline.feed_bytes(rng, batch, 0, 200, start - timedelta(days=batch))
        result = ingest.ingest(source, parse_feed(body, url=source.url).items)
        created, linked = created + result.created, linked + result.matched
    report.update(created=created, topic_links=linked)
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(report))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the data directory
    args = parser.parse_args()
    if args.child:
        setup_django(args.child, migrate=False)
        child(args.batches)
        return
    data_dir = tempfile.mkdtemp(prefix="tribu-bench-memory-")
    setup_django(data_dir, migrate=True)
    build(args.topics)
    output = (
        subprocess.run(
            [sys.executable, __file__, "--child", data_dir, "--batches", str(args.batches)],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    result = json.loads(output)
    print(json.dumps({"summary": "worker_memory", **result, "target_peak_rss_mb": 500}))


if __name__ == "__main__":
    main()
