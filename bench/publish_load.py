"""Publishing under load: many deliveries due in the same minute, several `tribu worker`
processes on PostgreSQL, a Mastodon contract fake answering every request in 50 ms.

    .venv/bin/python bench/publish_load.py [--deliveries 10000] [--workers 4] [--threads 8]
                                           [--latency 0.05] [--burst 100]

PostgreSQL comes from DATABASE_URL (a database this run may fill), else from a throwaway
cluster (scripts/run_tests.py; fsync off, like the test suite). Two scenarios run one after
the other on the same workers:

1. `--deliveries` due at the same instant: time until the last one is published, and the
   delay of each after its due time (median, p95, max);
2. `--burst` deliveries due together on idle workers: the same delays (the issue's target is
   p95 ≤ 5 s for 100).

The fake counts what it received: a text posted twice is a duplicate. Prints one JSON
object per scenario.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


from tribu.testing.publish_harness import fake_stats, publishing_run, seed  # noqa: E402


def run_scenario(name, fake, count, lead_seconds, timeout):
    from django.db.models import Count
    from django.utils import timezone

    from tribu.publishing.models import Delivery

    due_at = timezone.now() + timedelta(seconds=lead_seconds)
    ids = seed(fake, count, due_at, prefix=f"{name} {time.time_ns()}")
    deliveries = Delivery.objects.filter(post_id__in=ids)
    started = time.monotonic()
    deadline = started + lead_seconds + timeout
    while time.monotonic() < deadline:
        done = deliveries.exclude(state__in=("scheduled", "claimed", "sending", "retrying"))
        if done.count() == count:
            break
        time.sleep(0.5)
    states = dict(deliveries.values_list("state").annotate(n=Count("id")))
    published = list(deliveries.filter(state="published").values_list("published_at", "due_at"))
    delays = [(at - due).total_seconds() for at, due in published]
    last = max((at for at, _due in published), default=None)
    stats = json.loads(fake_stats(fake))
    from tribu.publishing.models import DeliveryLog

    events = dict(
        DeliveryLog.objects.filter(delivery__post_id__in=ids)
        .values_list("event")
        .annotate(n=Count("id"))
    )
    errors = list(
        DeliveryLog.objects.filter(delivery__post_id__in=ids)
        .exclude(event__in=("scheduled", "claimed", "sending", "request", "published"))
        .values_list("message", flat=True)[:3]
    )
    return {
        "scenario": name,
        "deliveries": count,
        "states": states,
        "all_published_within_s": round((last - due_at).total_seconds(), 2) if last else None,
        "delay_median_s": round(statistics.median(delays), 3) if delays else None,
        "delay_p95_s": round(percentile(delays, 0.95), 3) if delays else None,
        "delay_max_s": round(max(delays), 3) if delays else None,
        "fake_statuses_total": stats["statuses"],
        "fake_duplicates": len(stats["duplicates"]),
        "log_events": events,
        "first_errors": errors,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="sending threads per worker")
    parser.add_argument("--latency", type=float, default=0.05, help="fake's answer time (s)")
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)

    with publishing_run(workers=args.workers, threads=args.threads, latency=args.latency,
                        prefix="tribu-bench-pub-") as run:  # fmt: skip
        setup = {"workers": args.workers, "threads": args.threads, "latency_s": args.latency,
                 "cpus": os.cpu_count()}  # fmt: skip
        print(json.dumps(setup), flush=True)
        same_minute = run_scenario("same_minute", run.fake, args.deliveries, 10, args.timeout)
        print(json.dumps(same_minute), flush=True)
        print(json.dumps(run_scenario("burst", run.fake, args.burst, 5, 60)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
