"""Huey tasks of the core app. Each task is idempotent: the tick may enqueue it once per
claimed row, and huey may run it again on retry."""

from huey.contrib.djhuey import db_task

from tribu.core.services import digests


@db_task(retries=3, retry_delay=60)
def send_audit_digest(workspace_id, period_end):
    """Email the audit digest ending at `period_end` (claimed by the tick) to the owners."""
    digest = digests.send_audit_digest(workspace_id, period_end)
    return digest.pk if digest else None
