"""Kill publishing workers with SIGKILL at random moments and check that nothing is lost
and nothing is posted twice.

    .venv/bin/python scripts/publish_faults.py [--deliveries 2000] [--workers 4] [--kills 20]

PostgreSQL comes from DATABASE_URL, else from a throwaway cluster. A Mastodon contract fake
runs in this process (answering in `--latency` seconds); `--workers` real `tribu worker`
processes publish. While they work, one worker chosen at random is killed with SIGKILL
`--kills` times, at random moments, and a fresh one replaces it (as systemd or `tribu
serve` would). Afterwards every delivery must be either published exactly once on the fake,
or in a visible failed / unknown / held state with its reason: none may be lost (still
queued), none duplicated. Exits 1 and prints the offenders otherwise.
"""

import argparse
import json
import random
import signal
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tribu.testing.publish_harness import publishing_run, seed  # noqa: E402

ACTIVE_STATES = ("scheduled", "claimed", "sending", "retrying")
ATTENTION_STATES = ("failed", "unknown", "held")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    chance = random.Random(args.seed)

    with publishing_run(workers=args.workers, threads=args.threads, latency=args.latency,
                        prefix="tribu-faults-") as run:  # fmt: skip
        from django.utils import timezone

        from tribu.publishing.models import Delivery

        fake, workers = run.fake, run.workers
        due_at = timezone.now() + timedelta(seconds=5)
        prefix = f"faults {time.time_ns()}"
        post_ids = seed(fake, args.deliveries, due_at, prefix)
        deliveries = Delivery.objects.filter(post_id__in=post_ids)
        started = time.monotonic()
        time.sleep(5)

        killed = 0
        spawned = args.workers
        while killed < args.kills:
            time.sleep(chance.uniform(0.2, 2.5))
            alive = [worker for worker in workers if worker.poll() is None]
            victim = chance.choice(alive)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed += 1
            run.start_worker(spawned, args.threads)
            spawned += 1
            remaining = deliveries.filter(state__in=ACTIVE_STATES).count()
            print(f"kill {killed}: pid {victim.pid}, {remaining} deliveries still active",
                  flush=True)  # fmt: skip

        deadline = started + args.timeout
        while time.monotonic() < deadline:
            if not deliveries.filter(state__in=ACTIVE_STATES).exists():
                break
            time.sleep(1)
        elapsed = time.monotonic() - started

        posted = Counter(status_text(fake, status) for status in list(fake.statuses))
        states = Counter(deliveries.values_list("state", flat=True))
        problems = []
        for delivery in deliveries.select_related("post"):
            count = posted.get(delivery.post.text, 0)
            if count > 1:
                problems.append(f"duplicate: “{delivery.post.text}” posted {count} times")
            if delivery.state == "published" and count != 1:
                problems.append(f"published but {count} on the network: {delivery.post.text}")
            if delivery.state in ACTIVE_STATES:
                problems.append(f"lost: {delivery.post.text} still {delivery.state}")
            if delivery.state in ATTENTION_STATES and not (
                delivery.error_message or delivery.hold_reason
            ):
                problems.append(f"unexplained {delivery.state}: {delivery.post.text}")
        report = {
            "deliveries": args.deliveries,
            "kills": killed,
            "workers_started": spawned,
            "seconds": round(elapsed, 1),
            "states": dict(states),
            "posted_on_fake": sum(posted.values()),
            "duplicates": sum(1 for count in posted.values() if count > 1),
            "problems": len(problems),
        }
        print(json.dumps(report), flush=True)
        for problem in problems[:50]:
            print(problem)
        return 1 if problems else 0


def status_text(fake, status):
    """The text a status was posted with (the fake keeps it beside the rendered HTML)."""
    return fake.sources.get(status["id"], "")


if __name__ == "__main__":
    sys.exit(main())
