import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.exceptions import TaskException

from tribu.core import tasks
from tribu.core.models import AuditDigest, AuditEvent
from tribu.core.services import audit


@pytest.fixture
def due_period(workspace):
    """The workspace has one event in a period that ends now."""
    AuditEvent.objects.filter(workspace=workspace).delete()
    audit.record(workspace, "member.invited", target="bob@example.com")
    mail.outbox.clear()
    return timezone.now() + timedelta(seconds=1)


def test_digest_task_runs_through_huey_and_sends_once(workspace, due_period):
    first = tasks.send_audit_digest(workspace.pk, due_period)
    again = tasks.send_audit_digest(workspace.pk, due_period)

    digest = AuditDigest.objects.get(workspace=workspace)
    assert first.get() == digest.pk
    assert again.get() is None  # idempotent: the period was already handled
    assert len(mail.outbox) == 1


def test_digest_task_is_registered_with_retries():
    # The consumer finds tasks by this name: renaming the module would orphan queued jobs.
    assert "tribu.core.tasks.send_audit_digest" in HUEY._registry._registry
    assert tasks.send_audit_digest.task_class.default_retries == 3
    assert tasks.send_audit_digest.task_class.default_retry_delay == 60


def test_a_failed_send_is_scheduled_for_a_retry(workspace, due_period, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port
    settings.EMAIL_TIMEOUT = 2
    HUEY.flush()

    result = tasks.send_audit_digest(workspace.pk, due_period)

    with pytest.raises(TaskException, match="DigestSendError"):
        result.get()
    [retry] = HUEY.scheduled()
    assert retry.retries == 2
    assert not AuditDigest.objects.exists()
    HUEY.flush()
