"""`tribu check`: every misconfiguration and operational problem, in one readable report.

Each check returns a list of Findings (OK, WARNING or ERROR, with what to do), so tests call
the checks one by one and the command only prints them.
"""

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core import checks as django_checks
from django.core.mail import get_connection
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu import config
from tribu.core.fields import encrypted_fields
from tribu.core.models import WorkerHeartbeat
from tribu.core.services.keys import raw_values

OK, WARNING, ERROR = "OK", "WARNING", "ERROR"
MIB = 1024 * 1024


@dataclass
class Finding:
    level: str
    topic: str
    message: str
    fix: str = ""


def check_configuration(environ=None):
    """Re-read the environment without creating files, listing every problem."""
    try:
        loaded = config.load(environ, create_files=False)
    except config.ConfigurationError as error:
        return [
            Finding(ERROR, problem.variable, problem.message, problem.fix)
            for problem in error.problems
            # File permissions are reported by check_secret_files, with the same fix.
            if problem.kind != config.FILE_MODE
        ] or [Finding(OK, _("configuration"), _("Every variable is valid."))]
    findings = [Finding(OK, _("configuration"), _("Every variable is valid."))]
    if loaded.debug:
        findings.append(
            Finding(
                WARNING,
                "TRIBU_DEBUG",
                _("debug mode is on: error pages show internals to visitors."),
                _("Unset TRIBU_DEBUG (or set it to 0) in production."),
            )
        )
    if not loaded.is_https and loaded.base_url.split("://")[1].split(":")[0] not in {
        "127.0.0.1",
        "localhost",
        "[::1]",
    }:
        findings.append(
            Finding(
                WARNING,
                "TRIBU_BASE_URL",
                _("the site is served over plain HTTP, so passwords and cookies travel in clear."),
                _("Serve Tribu behind an HTTPS reverse proxy and set TRIBU_BASE_URL=https://…"),
            )
        )
    return findings


def check_data_dir(data_dir=None, warn_below=1024 * MIB, error_below=200 * MIB):
    data_dir = Path(data_dir or settings.DATA_DIR)
    topic = "TRIBU_DATA_DIR"
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".tribu-check-"):
            pass
    except OSError as error:
        return [
            Finding(
                ERROR,
                topic,
                _("%(dir)s is not writable: %(error)s.") % {"dir": data_dir, "error": error},
                _("Give the Tribu user write access: chown -R $(whoami) %(dir)s")
                % {"dir": data_dir},
            )
        ]
    free = shutil.disk_usage(data_dir).free
    details = {"dir": data_dir, "free": free // MIB}
    if free < error_below:
        return [
            Finding(
                ERROR,
                topic,
                _("only %(free)d MiB free in %(dir)s: writes will soon fail.") % details,
                _("Free disk space or move the data directory to a larger disk."),
            )
        ]
    if free < warn_below:
        return [
            Finding(
                WARNING,
                topic,
                _("only %(free)d MiB free in %(dir)s.") % details,
                _("Free disk space before the database and backups fill it."),
            )
        ]
    return [Finding(OK, topic, _("%(dir)s is writable, %(free)d MiB free.") % details)]


def check_database():
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return [
            Finding(
                ERROR,
                _("database"),
                _("the database does not answer: %(error)s") % {"error": error},
                _("Check DATABASE_URL, that the server runs and that it accepts this user."),
            )
        ]
    return [Finding(OK, _("database"), _("%(vendor)s answers.") % {"vendor": connection.vendor})]


def check_migrations():
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        return [
            Finding(
                ERROR,
                _("migrations"),
                ngettext(
                    "%(count)d migration not applied (%(names)s).",
                    "%(count)d migrations not applied (%(names)s).",
                    len(plan),
                )
                % {"count": len(plan), "names": names},
                _("Run: tribu manage migrate (tribu serve does it when it starts)."),
            )
        ]
    return [Finding(OK, _("migrations"), _("The database schema is up to date."))]


# HSTS preloading is a one-way commitment for a whole domain: Tribu leaves it to the operator.
IGNORED_DJANGO_CHECKS = {"security.W021"}


def check_django(deploy=None):
    deploy = settings.TRIBU_BASE_URL.startswith("https://") if deploy is None else deploy
    findings = []
    for message in django_checks.run_checks(include_deployment_checks=deploy):
        if (
            message.is_silenced()
            or message.level < django_checks.WARNING
            or message.id in IGNORED_DJANGO_CHECKS
        ):
            continue
        level = ERROR if message.is_serious() else WARNING
        findings.append(
            Finding(level, message.id or "django", str(message.msg), str(message.hint or ""))
        )
    return findings or [Finding(OK, "django", _("Django's system checks pass."))]


def check_secret_files(data_dir=None, environ=None):
    environ = os.environ if environ is None else environ
    data_dir = Path(data_dir or settings.DATA_DIR)
    findings = []
    for name, variable in (
        (config.SECRET_KEY_FILE, "TRIBU_SECRET_KEY"),
        (config.ENCRYPTION_KEYS_FILE, "TRIBU_ENCRYPTION_KEYS"),
    ):
        path = data_dir / name
        if variable in environ:
            findings.append(Finding(OK, variable, _("set in the environment.")))
            continue
        if not path.exists():
            findings.append(
                Finding(
                    WARNING,
                    variable,
                    _("%(file)s does not exist yet.") % {"file": path},
                    _("Start Tribu once (tribu serve) to generate it."),
                )
            )
            continue
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            findings.append(
                Finding(
                    ERROR,
                    variable,
                    _("%(file)s is readable by other users (mode %(mode)s).")
                    % {"file": path, "mode": oct(mode)},
                    _("Run: chmod 600 %(file)s") % {"file": path},
                )
            )
        else:
            findings.append(
                Finding(OK, variable, _("%(file)s is private (mode 600).") % {"file": path})
            )
    return findings


def check_encryption(sample=50, keys=None):
    """Try to decrypt a sample of each encrypted field with the configured keys."""
    keys = list(keys or settings.TRIBU_ENCRYPTION_KEYS)
    topic = "TRIBU_ENCRYPTION_KEYS"
    if not keys:
        return [
            Finding(
                ERROR,
                topic,
                _("no encryption key is configured."),
                _("Unset TRIBU_ENCRYPTION_KEYS to let Tribu generate one, or give one."),
            )
        ]
    newest = Fernet(keys[0])
    every = [Fernet(key) for key in keys]
    findings = []
    for model, model_field in encrypted_fields():
        label = f"{model._meta.label}.{model_field.name}"
        unreadable = old_key = 0
        tokens = [token for _pk, token in raw_values(model, model_field, 0, sample)]
        for token in tokens:
            try:
                newest.decrypt(token.encode())
                continue
            except InvalidToken:
                pass
            if any(_decrypts(fernet, token) for fernet in every[1:]):
                old_key += 1
            else:
                unreadable += 1
        details = {"field": label, "bad": unreadable, "old": old_key, "count": len(tokens)}
        if unreadable:
            findings.append(
                Finding(
                    ERROR,
                    topic,
                    _("%(bad)d of %(count)d sampled values of %(field)s cannot be decrypted.")
                    % details,
                    _(
                        "A key that encrypted them is missing: add it back at the end of "
                        "TRIBU_ENCRYPTION_KEYS (or the encryption_keys file) and restart."
                    ),
                )
            )
        elif old_key:
            findings.append(
                Finding(
                    WARNING,
                    topic,
                    _("%(old)d of %(count)d sampled values of %(field)s use an older key.")
                    % details,
                    _("Run: tribu rotate-keys, then remove the old keys."),
                )
            )
    return findings or [Finding(OK, topic, _("Sampled secrets decrypt with the first key."))]


def _decrypts(fernet, token):
    try:
        fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def check_email(connect=False):
    backend = settings.EMAIL_BACKEND
    topic = "TRIBU_EMAIL_URL"
    if backend.endswith("console.EmailBackend"):
        return [
            Finding(
                WARNING,
                topic,
                _(
                    "emails are printed to the console, not sent: invitations and password "
                    "resets will not reach anyone."
                ),
                _("Set TRIBU_EMAIL_URL=smtp://USER:PASSWORD@HOST:587?tls=1"),
            )
        ]
    if not backend.endswith("smtp.EmailBackend"):
        return [Finding(OK, topic, _("emails go to %(backend)s.") % {"backend": backend})]
    server = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if not connect:
        return [
            Finding(
                OK,
                topic,
                _("SMTP server %(server)s configured (not contacted; use --email to test it).")
                % {"server": server},
            )
        ]
    try:
        mail = get_connection(fail_silently=False)
        mail.open()
        mail.close()
    except Exception as error:  # noqa: BLE001 (any SMTP or socket failure is the finding)
        return [
            Finding(
                ERROR,
                topic,
                _("cannot sign in to the SMTP server %(server)s: %(error)s")
                % {"server": server, "error": error},
                _("Check the host, port, user, password and TLS settings of TRIBU_EMAIL_URL."),
            )
        ]
    return [Finding(OK, topic, _("SMTP server %(server)s accepts the login.") % {"server": server})]


def check_worker():
    latest = (
        WorkerHeartbeat.objects.order_by("-last_seen_at")
        .values_list("last_seen_at", flat=True)
        .first()
    )
    topic = _("worker")
    if latest is None:
        return [
            Finding(
                WARNING,
                topic,
                _("no worker has ever reported, so background jobs do not run."),
                _("Start `tribu serve` (web and worker) or `tribu worker`."),
            )
        ]
    age = int((timezone.now() - latest).total_seconds())
    if age > settings.TRIBU_WORKER_STALE_SECONDS:
        return [
            Finding(
                ERROR,
                topic,
                _("the last worker heartbeat is %(age)d s old: background jobs are stopped.")
                % {"age": age},
                _("Start or restart `tribu worker` (or `tribu serve`) and read its log."),
            )
        ]
    return [Finding(OK, topic, _("a worker reported %(age)d s ago.") % {"age": age})]


def run_all(connect_email=False):
    findings = []
    findings += check_configuration()
    findings += check_data_dir()
    findings += check_secret_files()
    database = check_database()
    findings += database
    if database[0].level == OK:
        findings += check_migrations()
        migrated = findings[-1].level == OK
        if migrated:
            findings += check_encryption()
            findings += check_worker()
        else:
            findings.append(
                Finding(
                    WARNING,
                    _("database"),
                    _("stored secrets and the worker were not checked: migrate first."),
                )
            )
    findings += check_django()
    findings += check_email(connect=connect_email)
    return findings
