"""`tribu check`: each check finds its problem, and the command sums them up."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.utils import timezone

from tribu import config
from tribu.core.models import WorkerHeartbeat
from tribu.core.services import checks

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def levels(findings):
    return [finding.level for finding in findings]


def test_configuration_problems_are_listed(tmp_path, monkeypatch):
    environ = {"TRIBU_DATA_DIR": str(tmp_path), "TRIBU_DEBUG": "maybe", "TRIBU_BASE_URL": "x"}
    findings = checks.check_configuration(environ)
    assert {finding.topic for finding in findings} == {"TRIBU_DEBUG", "TRIBU_BASE_URL"}
    assert set(levels(findings)) == {checks.ERROR}
    assert all(finding.fix for finding in findings)
    # The check never creates the secret files.
    assert not (tmp_path / config.SECRET_KEY_FILE).exists()


def test_debug_and_plain_http_on_a_public_host_are_warnings(tmp_path):
    environ = {
        "TRIBU_DATA_DIR": str(tmp_path),
        "TRIBU_DEBUG": "1",
        "TRIBU_BASE_URL": "http://tribu.example.com",
    }
    findings = checks.check_configuration(environ)
    assert levels(findings) == [checks.OK, checks.WARNING, checks.WARNING]
    assert [finding.topic for finding in findings[1:]] == ["TRIBU_DEBUG", "TRIBU_BASE_URL"]


def test_data_dir_free_space(tmp_path):
    assert levels(checks.check_data_dir(tmp_path)) == [checks.OK]
    huge = 1 << 60
    assert levels(checks.check_data_dir(tmp_path, warn_below=huge, error_below=0)) == [
        checks.WARNING
    ]
    assert levels(checks.check_data_dir(tmp_path, warn_below=huge, error_below=huge)) == [
        checks.ERROR
    ]


def test_missing_data_dir_is_an_error(tmp_path):
    [finding] = checks.check_data_dir(tmp_path / "missing")
    assert finding.level == checks.ERROR and "not writable" in finding.message


def test_secret_files_permissions(tmp_path):
    config.load({"TRIBU_DATA_DIR": str(tmp_path)})
    assert levels(checks.check_secret_files(tmp_path, environ={})) == [checks.OK, checks.OK]
    (tmp_path / config.ENCRYPTION_KEYS_FILE).chmod(0o640)
    findings = checks.check_secret_files(tmp_path, environ={})
    assert levels(findings) == [checks.OK, checks.ERROR]
    assert "chmod 600" in findings[1].fix
    # The configuration check leaves that finding to this one instead of repeating it.
    assert levels(checks.check_configuration({"TRIBU_DATA_DIR": str(tmp_path)})) == [checks.OK]


def test_secret_from_environment_is_fine(tmp_path):
    findings = checks.check_secret_files(tmp_path, environ={"TRIBU_SECRET_KEY": "x" * 40})
    assert levels(findings) == [checks.OK, checks.WARNING]  # no key file generated yet


def test_database_and_migrations(db):
    assert levels(checks.check_database()) == [checks.OK]
    assert levels(checks.check_migrations()) == [checks.OK]


def test_encryption_keys_against_stored_secrets(db, settings, make_user):
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    make_user(password=None, totp_secret="JBSWY3DPEHPK3PXP")
    assert levels(checks.check_encryption()) == [checks.OK]

    settings.TRIBU_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    [finding] = checks.check_encryption()
    assert finding.level == checks.WARNING and "rotate-keys" in finding.fix

    settings.TRIBU_ENCRYPTION_KEYS = [KEY_B]
    [finding] = checks.check_encryption()
    assert finding.level == checks.ERROR
    assert "1 of 1 sampled values of accounts.User.totp_secret" in finding.message


def test_worker_heartbeat(db, settings):
    assert levels(checks.check_worker()) == [checks.WARNING]
    beat = WorkerHeartbeat.objects.create(name="w1", version="0")
    assert levels(checks.check_worker()) == [checks.OK]
    beat.last_seen_at = timezone.now() - timedelta(seconds=settings.TRIBU_WORKER_STALE_SECONDS + 5)
    beat.save()
    assert levels(checks.check_worker()) == [checks.ERROR]


def test_email_settings(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert levels(checks.check_email()) == [checks.WARNING]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    assert "not contacted" in checks.check_email()[0].message
    assert levels(checks.check_email(connect=True)) == [checks.OK]
    settings.EMAIL_PORT = closed_port()
    [finding] = checks.check_email(connect=True)
    assert finding.level == checks.ERROR and "127.0.0.1" in finding.message


def test_django_deploy_checks_run_under_https(settings):
    settings.SECURE_HSTS_SECONDS = 0
    assert levels(checks.check_django(deploy=False)) == [checks.OK]
    ids = {finding.topic for finding in checks.check_django(deploy=True)}
    assert "security.W004" in ids  # HSTS missing


def test_command_prints_every_finding_and_exit_status(db, settings, make_user):
    WorkerHeartbeat.objects.create(name="w1", version="0")
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    make_user(password=None, totp_secret="JBSWY3DPEHPK3PXP")
    out = StringIO()
    call_command("tribu_check", stdout=out)
    report = out.getvalue()
    for line in report.splitlines()[:-1]:
        assert line.startswith(("OK", "WARNING", "ERROR", "        Fix:"))
    assert "0 errors, 0 warnings." in report

    settings.TRIBU_ENCRYPTION_KEYS = [KEY_B]
    out = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("tribu_check", stdout=out)
    assert "ERROR   TRIBU_ENCRYPTION_KEYS" in out.getvalue()


def test_command_line_exit_code_is_one_on_error(tmp_path):
    env = {
        **os.environ,
        "TRIBU_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tribu.settings",
    }
    env.pop("DATABASE_URL", None)  # an empty SQLite database: migrations are pending
    result = subprocess.run(
        [sys.executable, "-m", "django", "tribu_check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "ERROR   migrations" in result.stdout
    assert "tribu manage migrate" in result.stdout


# A tiny SMTP server on loopback: enough for smtplib to connect, greet and quit.


def closed_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    import socketserver
    import threading

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 test ESMTP\r\n")
            for line in self.rfile:
                command = line.strip().upper()
                if command.startswith((b"EHLO", b"HELO")):
                    self.wfile.write(b"250 test\r\n")
                elif command.startswith(b"QUIT"):
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_command_speaks_the_operators_language(db, settings, monkeypatch):
    WorkerHeartbeat.objects.create(name="w1", version="0")
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")
    out = StringIO()
    call_command("tribu_check", stdout=out)
    report = out.getvalue()
    assert "Toutes les variables sont valides." in report
    assert report.rstrip().endswith("0 erreur, 0 avertissement.")
