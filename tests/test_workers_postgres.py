"""Two real `tribu worker` processes on PostgreSQL never run the same claimed row twice.

Both workers tick every 0.2 s over the same due workspaces; each claim is a conditional
UPDATE, so each digest must be claimed once and emailed once, whichever worker wins.
"""

import re
import time

import pytest
from django.conf import settings
from django.utils import timezone

from tribu.core.models import AuditDigest, Workspace
from tribu.testing.workers import running_workers, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL: SQLite serves one machine, where a single worker runs",
    ),
]

WORKSPACES = 40


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
    with running_workers(tmp_path) as workers:
        # Make every digest due at once, so both workers race for the same rows.
        Workspace.objects.filter(pk__in=[ws.pk for ws in workspaces]).update(
            next_audit_digest_at=timezone.now()
        )
        sent = AuditDigest.objects.filter(sent_at__isnull=False)
        wait_for(lambda: sent.count() >= WORKSPACES, 60, "digests were not all sent", workers)
        time.sleep(1)  # a few more ticks: any double claim would show now

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
