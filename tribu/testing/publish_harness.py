"""Shared by bench/publish_load.py and scripts/publish_faults.py: a PostgreSQL database,
real `tribu worker` processes, a Mastodon contract fake in this process, and scheduled
deliveries written in bulk."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


@dataclass
class Run:
    fake: object  # the Mastodon contract fake, serving in this process
    workers: list  # the worker processes (Popen); add replacements here
    database_url: str
    data_dir: str

    def start_worker(self, number, threads):
        worker = start_workers(1, threads, self.database_url, self.data_dir, self.data_dir,
                               first=number)[0]  # fmt: skip
        self.workers.append(worker)
        return worker


@contextmanager
def publishing_run(*, workers, threads, latency, prefix):
    """PostgreSQL (DATABASE_URL, else a throwaway cluster from scripts/run_tests.py), Django
    set up on it, the fake answering in `latency` seconds, and `workers` real workers whose
    heartbeats are in. Everything is stopped and removed on exit."""
    with ExitStack() as stack:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
            from run_tests import postgres_bin_dir, throwaway_cluster

            bin_dir = postgres_bin_dir()
            if bin_dir is None:
                raise SystemExit("PostgreSQL is not installed and DATABASE_URL is not set.")
            database_url = stack.enter_context(throwaway_cluster(bin_dir))
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))
        setup_django(database_url, data_dir)
        from tribu.testing.fakes.mastodon import MastodonPublishFake

        fake = MastodonPublishFake()
        fake.latency = latency
        fake.start()
        stack.callback(fake.stop)
        started = start_workers(workers, threads, database_url, data_dir, data_dir)
        stack.callback(stop_workers, started)
        wait_for_heartbeats(workers)
        yield Run(fake, started, database_url, data_dir)


def setup_django(database_url, data_dir):
    os.environ["DATABASE_URL"] = database_url
    os.environ["TRIBU_DATA_DIR"] = data_dir
    os.environ["TRIBU_ALLOW_PRIVATE_ADDRESSES"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(fake, count, due_at, prefix):
    """`count` scheduled posts with one delivery each, on one Mastodon channel."""
    from tribu.channels.models import Channel
    from tribu.core.models import Workspace
    from tribu.publishing.models import Delivery, Post, PostStatus, PostVariant

    workspace, _created = Workspace.objects.get_or_create(
        slug="bench-publish", defaults={"name": "Bench publishing"}
    )
    channel, _created = Channel.objects.get_or_create(
        workspace=workspace,
        network="mastodon",
        base_url=fake.base_url,
        account_id=fake.account["id"],
        defaults={"name": "Bench", "handle": "@tribu@mastodon.example"},
    )
    channel.set_secrets({"access_token": fake_token()})
    channel.save()
    posts = Post.objects.bulk_create(
        Post(workspace=workspace, text=f"{prefix} {number}", status=PostStatus.SCHEDULED,
             publish_at=due_at)
        for number in range(count)
    )  # fmt: skip
    PostVariant.objects.bulk_create(PostVariant(post=post, channel=channel) for post in posts)
    Delivery.objects.bulk_create(
        Delivery(workspace=workspace, post=post, channel=channel, due_at=due_at,
                 next_attempt_at=due_at)
        for post in posts
    )  # fmt: skip
    return [post.pk for post in posts]


def fake_token():
    from tribu.testing.fakes.mastodon import TOKEN

    return TOKEN


def start_workers(count, threads, database_url, data_dir, log_dir, first=0):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TRIBU_DATA_DIR": data_dir,
        "TRIBU_PUBLISH_THREADS": str(threads),
        "TRIBU_ALLOW_PRIVATE_ADDRESSES": "1",
        "TRIBU_EMAIL_URL": "console://",
    }
    workers = []
    for number in range(first, first + count):
        err = open(Path(log_dir) / f"worker{number}.log", "w")  # noqa: SIM115
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tribu.cli",
                    "worker",
                    "--threads",
                    "1",
                    "--tick-seconds",
                    "1",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )  # fmt: skip
        )
    return workers


def wait_for_heartbeats(count, timeout=90):
    from django.utils import timezone

    from tribu.core.models import WorkerHeartbeat

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = WorkerHeartbeat.objects.filter(
            last_seen_at__gte=timezone.now() - timedelta(seconds=10)
        ).count()
        if fresh >= count:
            return
        time.sleep(0.5)
    raise SystemExit("the workers did not start: see their logs")


def fake_stats(fake):
    import urllib.request

    with urllib.request.urlopen(fake.url("/_fake/stats"), timeout=30) as response:  # noqa: S310
        return response.read().decode()


def stop_workers(workers):
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
