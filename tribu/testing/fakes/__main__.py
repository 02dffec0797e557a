"""Serve one contract fake until killed, for benchmarks and fault scripts that run the
publisher in another process:

    python -m tribu.testing.fakes mastodon --port 8765 --latency 0.05

prints the fake's base URL on the first line of stdout. `GET <base>/_fake/stats` returns its
counts (for Mastodon: {"statuses": n, "duplicates": [...]}).
"""

import argparse
import signal
import sys
import threading

from .bluesky import BlueskyPdsFake
from .linkedin import LinkedInFake
from .mastodon import MastodonPublishFake
from .meta import MetaGraphFake
from .threads import ThreadsFake
from .x import XFake

# name -> class; each network's write-side fake adds itself here.
FAKES = {
    "bluesky": BlueskyPdsFake,
    "linkedin": LinkedInFake,
    "mastodon": MastodonPublishFake,
    "meta": MetaGraphFake,
    "threads": ThreadsFake,
    "x": XFake,
}
# Fakes that count text with tribu.publishing.text, which needs Django's settings.
NEEDS_DJANGO = {"x"}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tribu.testing.fakes")
    parser.add_argument("network", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    args = parser.parse_args(argv)
    if args.network in NEEDS_DJANGO:
        import os

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
        django.setup()
    fake = FAKES[args.network]()
    fake.latency = args.latency
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stopped.set())
    fake.start(port=args.port)
    print(fake.base_url, flush=True)
    try:
        stopped.wait()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
