"""`tribu backup` then `tribu restore` into an empty data dir finds every row again.

The backup runs in this process while the database is live; the restore and the checks of
its result run in fresh processes with another TRIBU_DATA_DIR (and, on PostgreSQL, another
database), exactly as an operator would run them.
"""

import io
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from tribu.accounts.models import User
from tribu.api.models import ApiToken
from tribu.core.models import AuditEvent, Membership
from tribu.core.roles import Role
from tribu.core.services import audit, backup
from tribu.core.services.workspaces import create_workspace

LOGO = b"\x89PNG\r\n\x1a\n fake logo bytes"
VERIFY = """
import json
from pathlib import Path
from django.apps import apps
from django.conf import settings
from tribu.accounts.models import User
from tribu.core.models import Workspace
workspace = Workspace.objects.get(slug="maison")
print("RESULT:" + json.dumps({
    "counts": {m._meta.label: m._base_manager.count() for m in apps.get_models()},
    "totp": User.objects.get(email="alice@example.com").totp_secret,
    "workspace": [workspace.name, workspace.timezone, workspace.logo.name],
    "logo": (Path(settings.MEDIA_ROOT) / workspace.logo.name).read_bytes().hex(),
}))
"""


def counts():
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


@pytest.fixture
def populated(transactional_db):
    """Committed rows (a backup made from another connection must see them) and a media file."""
    alice = User.objects.create_user(
        "alice@example.com", None, name="Alice", totp_secret="JBSWY3DPEHPK3PXP"
    )
    bob = User.objects.create_user("bob@example.com", None, name="Bob")
    workspace = create_workspace(slug="maison", name="Maison Lumière", owner=alice)
    Membership.objects.create(workspace=workspace, user=bob, role=Role.EDITOR)
    audit.record(workspace, "member.added", actor=alice, target=bob.email, role="editor")
    ApiToken.objects.create(
        workspace=workspace,
        user=alice,
        name="script",
        role=Role.VIEWER,
        prefix="trb_abcd",
        token_hash=secrets.token_hex(32),
    )
    workspace.logo.save("maison.png", ContentFile(LOGO))
    yield workspace
    workspace.logo.delete(save=False)


def subprocess_env(data_dir, database_url=None):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "TRIBU_SECRET_KEY", "TRIBU_ENCRYPTION_KEYS"}
    }
    env.update(TRIBU_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="tribu.settings")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def restored_state(env):
    result = manage(env, "shell", "-c", VERIFY)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT:"))
    return json.loads(line.removeprefix("RESULT:"))


def assert_round_trip(populated, tmp_path, database_url=None):
    expected = counts()
    assert expected["accounts.User"] == 2 and expected["core.AuditEvent"] == 2
    archive = tmp_path / "tribu.tar.gz"
    out = io.StringIO()
    call_command("backup", str(archive), stdout=out)
    assert "Backup written" in out.getvalue()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    with tarfile.open(archive) as opened:
        names = set(opened.getnames())
        manifest = json.load(opened.extractfile("manifest.json"))
    assert manifest["format_version"] == backup.FORMAT_VERSION
    assert manifest["engine"] == connection.vendor.replace("sqlite", "sqlite")
    assert manifest["counts"]["database"]["accounts_user"] == 2
    assert manifest["counts"]["database"]["api_apitoken"] == 1
    assert manifest["media_files"] >= 1
    assert f"media/{populated.logo.name}" in names
    assert "secrets/encryption_keys" in names  # the test keys live in the data dir

    empty = tmp_path / "restored"
    env = subprocess_env(empty, database_url)
    result = manage(env, "restore", str(archive))
    assert result.returncode == 0, result.stderr
    assert "Restored the backup" in result.stdout

    state = restored_state(env)
    assert state["counts"] == expected
    assert state["totp"] == "JBSWY3DPEHPK3PXP"  # the restored keys decrypt the restored rows
    assert state["workspace"] == ["Maison Lumière", "Europe/Paris", populated.logo.name]
    assert bytes.fromhex(state["logo"]) == LOGO

    # The restored place now has data: a second restore must be forced.
    refused = manage(env, "restore", str(archive))
    assert refused.returncode == 1
    assert "Restore refused" in refused.stderr and "--force" in refused.stderr
    return archive, env, expected


def test_sqlite_backup_and_restore_into_an_empty_data_dir(populated, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite leg only")
    archive, env, expected = assert_round_trip(populated, tmp_path)
    with tarfile.open(archive) as opened:
        assert {"database/tribu.sqlite3", "database/jobs.sqlite3"} <= set(opened.getnames())

    forced = manage(env, "restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    assert restored_state(env)["counts"] == expected
    restored_db = tmp_path / "restored" / "tribu.sqlite3"
    assert stat.S_IMODE(restored_db.stat().st_mode) == 0o600


@pytest.fixture
def second_database():
    """An empty PostgreSQL database next to the test database, dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL leg only")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed (apt-get install postgresql-client)")
    name = f"tribu_restore_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(os.environ["DATABASE_URL"])
    yield urlunsplit(url._replace(path=f"/{name}"))
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_backup_and_restore_into_an_empty_database(populated, tmp_path, second_database):
    archive, _env, _expected = assert_round_trip(populated, tmp_path, second_database)
    with tarfile.open(archive) as opened:
        manifest = json.load(opened.extractfile("manifest.json"))
        assert "database/tribu.dump" in opened.getnames()
    # The job store (huey_* tables) is in the same database, hence in the same dump.
    assert any(table.startswith("huey") for table in manifest["counts"]["database"])


# Archives that must be refused before anything is touched -------------------------------


def make_archive(path, members, manifest=None):
    manifest = manifest or {
        "format_version": backup.FORMAT_VERSION,
        "tribu_version": settings.VERSION,
        "engine": backup.engine(),
        "counts": {},
    }
    with tarfile.open(path, "w:gz") as archive:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        for member, content in members:
            if content is not None:
                member.size = len(content)
                archive.addfile(member, io.BytesIO(content))
            else:
                archive.addfile(member)
    return path


def restore_fails(path, message, **options):
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(path), stdout=io.StringIO(), **options)


def test_path_traversal_is_refused(db, tmp_path):
    evil = tarfile.TarInfo("media/../../evil.txt")
    archive = make_archive(tmp_path / "evil.tar.gz", [(evil, b"owned")])
    restore_fails(archive, "media/../../evil.txt")
    assert not (Path(settings.DATA_DIR).parent / "evil.txt").exists()


def test_absolute_paths_and_links_are_refused(db, tmp_path):
    absolute = make_archive(tmp_path / "a.tar", [(tarfile.TarInfo("/etc/tribu"), b"x")])
    restore_fails(absolute, "/etc/tribu")
    link = tarfile.TarInfo("media/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    restore_fails(make_archive(tmp_path / "l.tar", [(link, None)]), "media/link")


def test_other_engine_and_newer_versions_are_refused(db, tmp_path):
    other = "postgresql" if backup.engine() == "sqlite" else "sqlite"
    manifest = {"format_version": 1, "tribu_version": settings.VERSION, "engine": other}
    restore_fails(make_archive(tmp_path / "e.tar", [], manifest), "DATABASE_URL")
    manifest = {"format_version": 1, "tribu_version": "999.0", "engine": backup.engine()}
    restore_fails(make_archive(tmp_path / "v.tar", [], manifest), "upgrade Tribu first")
    manifest = {"format_version": 99, "tribu_version": "0.1", "engine": backup.engine()}
    restore_fails(make_archive(tmp_path / "f.tar", [], manifest), "format version 99")


def test_not_an_archive(db, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file")
    restore_fails(junk, "cannot be read")
    restore_fails(tmp_path / "missing.tar.gz", "does not exist")


def test_missing_pg_dump_names_the_package(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(backup.BackupError, match="postgresql-client"):
        backup.postgres_tool("pg_dump")


def test_restore_refuses_existing_data_without_force_in_this_process(populated, tmp_path):
    """The live test database has users: the refusal comes before anything is replaced."""
    archive = tmp_path / "b.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    restore_fails(archive, "Restore refused")
    assert AuditEvent.objects.count() == 2
