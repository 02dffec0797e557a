"""Real `tribu worker` processes for tests that race workers on PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.db import connection


def child_database_url():
    """A DATABASE_URL for pytest-django's test database, for the child processes."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{credentials}@{host}{port}/{db['NAME']}"


def wait_for(condition, timeout, message, workers):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in workers:
            assert worker.poll() is None, f"a worker exited early:\n{worker.err.read_text()}"
        time.sleep(0.2)
    pytest.fail(message + "\n" + "\n".join(worker.err.read_text()[-3000:] for worker in workers))


@contextmanager
def running_workers(tmp_path, *, count=2, threads=2, tick_seconds=0.2, **environ):
    """Start `count` workers on the test database (extra environment in `environ`), wait
    for their heartbeats, and stop them with SIGTERM on exit. Each has `.out` and `.err`
    paths holding its output."""
    from tribu.core.models import WorkerHeartbeat

    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "TRIBU_EMAIL_URL": "console://",
        **environ,
    }
    workers = []
    try:
        for number in range(1, count + 1):
            out, err = tmp_path / f"worker{number}.out", tmp_path / f"worker{number}.err"
            worker = subprocess.Popen(
                [sys.executable, "-m", "tribu.cli", "worker", "--threads", str(threads)]
                + ["--tick-seconds", str(tick_seconds)],
                env=env,
                stdout=out.open("w"),
                stderr=err.open("w"),
            )
            worker.out, worker.err = out, err
            workers.append(worker)
        wait_for(
            lambda: WorkerHeartbeat.objects.count() == count, 60, "workers did not start", workers
        )
        yield workers
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
