"""Online backups and restores: database, job store, uploaded media and generated secrets in one
archive with a manifest.

SQLite files are copied with SQLite's online backup API, so the app may keep running. On
PostgreSQL, one REPEATABLE READ transaction exports a snapshot that both `pg_dump` and the row
counts of the manifest read, so the counts describe exactly what was dumped.

An archive holds the encryption keys when they live in the data directory (encrypted fields
are unreadable without them): treat every backup as sensitive.
"""

import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from tribu import __version__, config

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MAIN = "database/tribu.sqlite3"
SQLITE_JOBS = "database/jobs.sqlite3"
POSTGRES_DUMP = "database/tribu.dump"
MEDIA_PREFIX = "media/"
SECRETS_PREFIX = "secrets/"
SECRET_FILES = (config.SECRET_KEY_FILE, config.ENCRYPTION_KEYS_FILE)
DEMO_LOGIN_FILE = "demo-login.txt"  # tribu.core.services.demo.LOGIN_FILE


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def engine():
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def job_store_path():
    """The SqliteHuey file; read from the storage arguments because immediate mode (tests)
    swaps the storage itself for an in-memory one."""
    filename = getattr(settings.HUEY, "storage_kwargs", {}).get("filename")
    return Path(filename) if filename else None


def sqlite_connect(name, **kwargs):
    name = str(name)
    # Django's SQLite test database is a shared in-memory URI ("file:memorydb_...").
    return sqlite3.connect(name, uri=name.startswith("file:"), timeout=20, **kwargs)


def sqlite_counts(path):
    with closing(sqlite_connect(path)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }


def sqlite_online_copy(source, destination):
    """Copy a live SQLite database page by page, consistent even while others write."""
    with closing(sqlite_connect(source)) as src, closing(sqlite3.connect(destination)) as dst:
        src.backup(dst)


def postgres_tool(name):
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            _(
                "%(tool)s is not installed, so the PostgreSQL database cannot be saved or "
                "restored. Install the PostgreSQL client tools (Debian: apt-get install "
                "postgresql-client), with a version at least that of the server."
            )
            % {"tool": name}
        )
    return found


def postgres_env(settings_dict):
    """libpq environment for pg_dump/pg_restore: keeps the password off the command line."""
    env = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def postgres_connect(settings_dict):
    import psycopg

    return psycopg.connect(
        dbname=settings_dict["NAME"],
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        **settings_dict.get("OPTIONS", {}),
    )


def postgres_tables(cursor):
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [row[0] for row in cursor.fetchall()]


def postgres_counts(cursor):
    from psycopg import sql

    counts = {}
    for table in postgres_tables(cursor):
        cursor.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def dump_postgres(destination):
    """pg_dump from an exported snapshot, and the row counts from that same snapshot."""
    pg_dump = postgres_tool("pg_dump")
    settings_dict = connection.settings_dict
    with closing(postgres_connect(settings_dict)) as db, db.cursor() as cursor:
        db.autocommit = True  # the transaction below is opened by hand, with its isolation
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        result = subprocess.run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={destination}"],
            env=postgres_env(settings_dict),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(
                _("pg_dump failed: %(error)s") % {"error": result.stderr.strip()[-2000:]}
            )
        counts = postgres_counts(cursor)
        cursor.execute("COMMIT")
    return counts


def add_bytes(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def media_files(root):
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def secret_files_in_data_dir():
    """Generated secret files that the running configuration actually uses."""
    found = []
    for name, variable in zip(
        SECRET_FILES, ("TRIBU_SECRET_KEY", "TRIBU_ENCRYPTION_KEYS"), strict=True
    ):
        path = Path(settings.DATA_DIR) / name
        if variable not in os.environ and path.is_file():
            found.append(path)
    demo_login = Path(settings.DATA_DIR) / DEMO_LOGIN_FILE
    if demo_login.is_file():
        found.append(demo_login)
    return found


def archive_mode(path):
    name = str(path)
    return "w" if name.endswith(".tar") else "w:gz"


def create_backup(destination):
    """Write the archive to `destination` (atomically, 0600) and return its manifest."""
    destination = Path(destination).expanduser().resolve()
    if not destination.parent.is_dir():
        raise BackupError(
            _("The folder %(folder)s does not exist: create it or choose another file.")
            % {"folder": destination.parent}
        )
    manifest = {
        "format_version": FORMAT_VERSION,
        "tribu_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
        "engine": engine(),
        "counts": {},
        "media_files": 0,
        "secrets": [],
    }
    with tempfile.TemporaryDirectory(prefix="tribu-backup-") as work:
        work = Path(work)
        members = []  # (archive name, file path)
        if manifest["engine"] == "sqlite":
            source = sqlite_file()
            if source is not None and not source.exists():
                raise BackupError(
                    _("There is no database at %(file)s yet: nothing to back up.")
                    % {"file": source}
                )
            main_copy = work / "tribu.sqlite3"
            sqlite_online_copy(connection.settings_dict["NAME"], main_copy)
            manifest["counts"]["database"] = sqlite_counts(main_copy)
            members.append((SQLITE_MAIN, main_copy))
            jobs = job_store_path()
            if jobs is not None and jobs.exists():
                jobs_copy = work / "jobs.sqlite3"
                sqlite_online_copy(jobs, jobs_copy)
                manifest["counts"]["jobs"] = sqlite_counts(jobs_copy)
                members.append((SQLITE_JOBS, jobs_copy))
        else:
            dump = work / "tribu.dump"
            # The job store (huey_* tables) lives in the same database, so it is in the dump.
            manifest["counts"]["database"] = dump_postgres(dump)
            members.append((POSTGRES_DUMP, dump))

        media_root = Path(settings.MEDIA_ROOT)
        for path in media_files(media_root):
            members.append((MEDIA_PREFIX + path.relative_to(media_root).as_posix(), path))
            manifest["media_files"] += 1
        for path in secret_files_in_data_dir():
            members.append((SECRETS_PREFIX + path.name, path))
            manifest["secrets"].append(path.name)

        temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with (
                os.fdopen(descriptor, "wb") as raw,
                tarfile.open(fileobj=raw, mode=archive_mode(destination)) as archive,
            ):
                add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
                for name, path in members:
                    archive.add(path, arcname=name, recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(temporary, destination)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return manifest


# Restore ---------------------------------------------------------------------------------


def check_member(member):
    """Refuse anything but plain files and folders under the known top-level names."""
    path = PurePosixPath(member.name)
    bad_name = (
        path.is_absolute()
        or ".." in path.parts
        or "\\" in member.name
        or not (
            member.name == MANIFEST
            or member.name.startswith(("database/", MEDIA_PREFIX, SECRETS_PREFIX))
        )
    )
    if bad_name or not (member.isfile() or member.isdir()):
        raise BackupError(
            _(
                "The archive contains “%(name)s”, which no Tribu backup contains (a link, a "
                "special file or a path outside its folders). It was altered or is not a Tribu "
                "backup: nothing was restored."
            )
            % {"name": member.name}
        )


def version_tuple(version):
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def read_archive(source, work):
    """Validate the archive, then extract it into `work`; return the manifest."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise BackupError(_("%(file)s does not exist.") % {"file": source})
    try:
        with tarfile.open(source, "r:*") as archive:
            members = archive.getmembers()
            for member in members:
                check_member(member)
            names = {member.name for member in members}
            if MANIFEST not in names:
                raise BackupError(
                    _("%(file)s has no manifest.json: it is not a Tribu backup.") % {"file": source}
                )
            # The "data" filter is a second guard against links, devices and odd modes.
            archive.extractall(work, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(
            _("%(file)s cannot be read as a backup archive: %(error)s")
            % {"file": source, "error": error}
        ) from None
    try:
        manifest = json.loads((Path(work) / MANIFEST).read_text())
    except ValueError:
        raise BackupError(_("The manifest of the archive is not valid JSON.")) from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            _("This archive has format version %(found)s; this Tribu reads version %(ours)s.")
            % {"found": manifest.get("format_version"), "ours": FORMAT_VERSION}
        )
    made_by = str(manifest.get("tribu_version", "0"))
    if version_tuple(made_by) > version_tuple(__version__):
        raise BackupError(
            _(
                "This archive was made by Tribu %(theirs)s, newer than this Tribu %(ours)s: "
                "upgrade Tribu first, then restore."
            )
            % {"theirs": made_by, "ours": __version__}
        )
    if manifest.get("engine") != engine():
        raise BackupError(
            _(
                "This archive holds a %(theirs)s database but Tribu is configured for "
                "%(ours)s: set DATABASE_URL to match the backup, then restore."
            )
            % {"theirs": manifest.get("engine"), "ours": engine()}
        )
    expected = SQLITE_MAIN if engine() == "sqlite" else POSTGRES_DUMP
    if not (Path(work) / expected).is_file():
        raise BackupError(_("The archive has no database file (%(name)s).") % {"name": expected})
    return manifest


def sqlite_file():
    """The SQLite database file, or None for an in-memory database (Django's tests)."""
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def existing_data_refusal():
    """The message refusing to overwrite the current database without --force, or None.

    One whole sentence per case, so that translators never assemble fragments."""
    if engine() == "sqlite":
        path = sqlite_file()
        if path is not None and not path.exists():
            return None
        # Read-only URI: looking must not create or change anything.
        target = f"file:{path}?mode=ro" if path else connection.settings_dict["NAME"]
        with closing(sqlite_connect(target)) as db:
            tables = db.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
        if tables:
            return _(
                "Restore refused: the database %(file)s already has tables, which the restore "
                "would overwrite. Run it again with --force to replace them, or point "
                "TRIBU_DATA_DIR / DATABASE_URL to an empty place."
            ) % {"file": path or target}
        return None
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for table in ("accounts_user", "core_workspace"):
            if table in tables:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608
                if cursor.fetchone()[0]:
                    return _(
                        "Restore refused: the database already has users or workspaces, which "
                        "the restore would overwrite. Run it again with --force to replace "
                        "them, or point TRIBU_DATA_DIR / DATABASE_URL to an empty place."
                    )
    return None


def replace_sqlite_file(source, target):
    """Move a restored SQLite file into place atomically; drop the old WAL files first, since
    SQLite would otherwise replay the old database's log onto the restored one."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.restore")
    shutil.copyfile(source, temporary)
    os.chmod(temporary, 0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(temporary, target)


def write_secret(path, content):
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
    os.replace(temporary, path)


def restore_secrets(work, manifest):
    """Put the archive's secret files in the data dir. Current encryption keys that the archive
    lacks are kept after its keys, so nothing already readable becomes unreadable."""
    data_dir = Path(settings.DATA_DIR)
    restored = []
    for name in manifest.get("secrets", []):
        if name not in (*SECRET_FILES, DEMO_LOGIN_FILE):
            continue
        source = Path(work) / SECRETS_PREFIX / name
        if not source.is_file():
            continue
        content = source.read_text().strip()
        target = data_dir / name
        if name == config.ENCRYPTION_KEYS_FILE and target.is_file():
            theirs = [key for key in content.split() if key]
            ours = [key for key in target.read_text().split() if key and key not in theirs]
            content = "\n".join(theirs + ours)
        write_secret(target, content + "\n")
        restored.append(name)
    return restored


def restore_media(work):
    source = Path(work) / MEDIA_PREFIX
    media_root = Path(settings.MEDIA_ROOT)
    count = 0
    for path in media_files(source):
        target = media_root / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        count += 1
    return count


def restore_postgres(dump):
    pg_restore = postgres_tool("pg_restore")
    settings_dict = connection.settings_dict
    connections.close_all()
    result = subprocess.run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={settings_dict['NAME']}",
            str(dump),
        ],
        env=postgres_env(settings_dict),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(
            _("pg_restore failed, the database was left as it was: %(error)s")
            % {"error": result.stderr.strip()[-2000:]}
        )


def restore_backup(source, force=False):
    """Restore an archive made by create_backup; return its manifest.

    Stop Tribu (web and workers) first: the database is replaced underneath it.
    """
    with tempfile.TemporaryDirectory(prefix="tribu-restore-", dir=settings.DATA_DIR) as work:
        manifest = read_archive(source, work)
        refusal = existing_data_refusal()
        if refusal and not force:
            raise BackupError(refusal)
        work = Path(work)
        if manifest["engine"] == "sqlite":
            restored_counts = sqlite_counts(work / SQLITE_MAIN)
            if restored_counts != manifest["counts"].get("database"):
                raise BackupError(
                    _("The database in the archive does not match its manifest: it is damaged.")
                )
            target = sqlite_file()
            if target is None:
                raise BackupError(_("Tribu cannot restore into an in-memory database."))
            connections.close_all()
            replace_sqlite_file(work / SQLITE_MAIN, target)
            jobs = job_store_path()
            if jobs is not None and (work / SQLITE_JOBS).is_file():
                replace_sqlite_file(work / SQLITE_JOBS, jobs)
        else:
            restore_postgres(work / POSTGRES_DUMP)
        manifest["restored_media_files"] = restore_media(work)
        manifest["restored_secrets"] = restore_secrets(work, manifest)
    return manifest
