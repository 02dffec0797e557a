"""Two real `tribu worker` processes on PostgreSQL never run the same claimed row twice.

Both workers tick every 0.2 s over the same due workspaces; each claim is a conditional
UPDATE, so each digest must be claimed once and emailed once, whichever worker wins.
"""

import os
import re
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tribu.core.models import AuditDigest, WorkerHeartbeat, Workspace

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL: SQLite serves one machine, where a single worker runs",
    ),
]

WORKSPACES = 40


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


@pytest.mark.django_db(transaction=True)
def test_two_workers_claim_and_send_each_digest_exactly_once(make_workspace, make_user, tmp_path):
    workspaces = [
        make_workspace(
            slug=f"ws-{index}",
            # No password: hashing 40 of them would take most of the test's time.
            owner=make_user(f"owner-{index}@example.com", password=None, language="en"),
        )
        for index in range(WORKSPACES)
    ]
    Workspace.objects.update(audit_digest="daily")
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "TRIBU_EMAIL_URL": "console://",
    }
    workers = []
    try:
        for number in (1, 2):
            out, err = tmp_path / f"worker{number}.out", tmp_path / f"worker{number}.err"
            worker = subprocess.Popen(
                [sys.executable, "-m", "tribu.cli", "worker", "--threads", "2"]
                + ["--tick-seconds", "0.2"],
                env=env,
                stdout=out.open("w"),
                stderr=err.open("w"),
            )
            worker.out, worker.err = out, err
            workers.append(worker)
        wait_for(lambda: WorkerHeartbeat.objects.count() == 2, 60, "workers did not start", workers)

        # Make every digest due at once, so both workers race for the same rows.
        Workspace.objects.filter(pk__in=[ws.pk for ws in workspaces]).update(
            next_audit_digest_at=timezone.now()
        )
        sent = AuditDigest.objects.filter(sent_at__isnull=False)
        wait_for(lambda: sent.count() >= WORKSPACES, 60, "digests were not all sent", workers)
        time.sleep(1)  # a few more ticks: any double claim would show now
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    assert [worker.returncode for worker in workers] == [0, 0]
    assert AuditDigest.objects.count() == WORKSPACES
    assert sent.count() == WORKSPACES

    # Claims, as logged by each worker's ticker: they add up to one per workspace.
    claims = [
        sum(map(int, re.findall(r"'claim_audit_digests': (\d+)", worker.err.read_text())))
        for worker in workers
    ]
    assert sum(claims) == WORKSPACES, f"claims per worker: {claims}"

    # Emails, as printed by each worker's console backend: exactly one per owner.
    output = "".join(worker.out.read_text() for worker in workers)
    for index in range(WORKSPACES):
        assert len(re.findall(rf"^To: owner-{index}@example\.com$", output, re.M)) == 1
    print(f"claims per worker: {claims}")
