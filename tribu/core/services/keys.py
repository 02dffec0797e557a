"""Encryption key rotation: re-encrypt every EncryptedTextField value with the newest key.

Values are read and written as raw database text (never through the field, which would
decrypt or encrypt again), one batch per transaction, and each UPDATE only applies when the
stored value is still the one that was read, so a concurrent write is never overwritten.
"""

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from tribu import config
from tribu.core.fields import encrypted_fields, fernet_for

ENVIRONMENT_VARIABLE = "TRIBU_ENCRYPTION_KEYS"


class KeyRotationError(Exception):
    """Rotation cannot go on; the message says why and what to do."""


@dataclass
class FieldReport:
    label: str
    rotated: int = 0
    unreadable: int = 0
    unreadable_ids: list = field(default_factory=list)


def keys_from_environment(environ=None):
    environ = os.environ if environ is None else environ
    return ENVIRONMENT_VARIABLE in environ


def keys_file(data_dir=None):
    return Path(data_dir or settings.DATA_DIR) / config.ENCRYPTION_KEYS_FILE


def raw_values(model, model_field, after_pk, batch_size):
    """A batch of (pk, stored token) pairs, read without decrypting."""
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(model_field.column)
    pk = quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {column} FROM {table} "  # noqa: S608 (quoted identifiers)
            f"WHERE {pk} > %s AND {column} IS NOT NULL AND {column} <> '' "
            f"ORDER BY {pk} LIMIT %s",
            [after_pk, batch_size],
        )
        return cursor.fetchall()


def write_raw_value(model, model_field, pk_value, old_token, new_token):
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(model_field.column)
    pk = quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s "  # noqa: S608 (quoted identifiers)
            f"WHERE {pk} = %s AND {column} = %s",
            [new_token, pk_value, old_token],
        )
        return cursor.rowcount


def rotate_all(batch_size=500, keys=None):
    """Re-encrypt every stored secret with the first key; return one FieldReport per field."""
    fernet = fernet_for(tuple(keys or settings.TRIBU_ENCRYPTION_KEYS))
    reports = []
    for model, model_field in encrypted_fields():
        report = FieldReport(f"{model._meta.label}.{model_field.name}")
        after_pk = 0 if model._meta.pk.get_internal_type() != "CharField" else ""
        while True:
            batch = raw_values(model, model_field, after_pk, batch_size)
            if not batch:
                break
            with transaction.atomic():
                for pk_value, token in batch:
                    try:
                        new_token = fernet.rotate(token.encode()).decode()
                    except InvalidToken:
                        report.unreadable += 1
                        report.unreadable_ids.append(pk_value)
                        continue
                    report.rotated += write_raw_value(
                        model, model_field, pk_value, token, new_token
                    )
            after_pk = batch[-1][0]
        reports.append(report)
    return reports


def prepend_new_key(data_dir=None):
    """Generate a Fernet key and put it first in the data-dir key file, atomically (0600).
    Returns the new list of keys."""
    path = keys_file(data_dir)
    current = path.read_text().split() if path.exists() else []
    new_key = Fernet.generate_key().decode()
    keys = [new_key, *current]
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(keys) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return keys


def generate_and_install_key(data_dir=None):
    """Prepend a new key to the key file and make this process encrypt with it."""
    if keys_from_environment():
        raise KeyRotationError(
            _(
                "The encryption keys come from %(variable)s, so Tribu cannot add one itself. "
                'Generate a key (python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"), put it FIRST in %(variable)s '
                "(comma-separated), restart every Tribu process, run `tribu rotate-keys`, "
                "then remove the old key from %(variable)s and restart again."
            )
            % {"variable": ENVIRONMENT_VARIABLE}
        )
    keys = prepend_new_key(data_dir)
    # The settings were read at start-up: use the new list in this process from now on.
    settings.TRIBU_ENCRYPTION_KEYS = keys
    return keys
