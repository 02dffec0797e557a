"""`tribu rotate-keys`: re-encrypt every secret with the newest key, optionally adding one."""

import stat
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection

from tribu import config
from tribu.accounts.models import User

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def raw_totp(user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def rotate(*args):
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_rotation_reencrypts_with_the_first_key(db, settings, make_user):
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    user = make_user(password=None, totp_secret="JBSWY3DPEHPK3PXP")
    untouched = make_user(password=None)  # empty secret: nothing to encrypt
    stored = raw_totp(user)
    assert Fernet(KEY_A).decrypt(stored.encode()) == b"JBSWY3DPEHPK3PXP"

    settings.TRIBU_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    output = rotate()

    rotated = raw_totp(user)
    assert rotated != stored
    assert Fernet(KEY_B).decrypt(rotated.encode()) == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidToken):
        Fernet(KEY_A).decrypt(rotated.encode())
    assert raw_totp(untouched) == ""
    assert "accounts.User.totp_secret: 1 value re-encrypted." in output
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_B]
    assert User.objects.get(pk=user.pk).totp_secret == "JBSWY3DPEHPK3PXP"


def test_rotation_goes_through_every_batch(db, settings, make_user):
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    users = [make_user(password=None, totp_secret=f"SECRET{n}") for n in range(5)]
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert "5 values" in rotate("--batch-size", "2")
    for n, user in enumerate(users):
        assert Fernet(KEY_B).decrypt(raw_totp(user).encode()) == f"SECRET{n}".encode()


def test_unreadable_values_are_reported_and_kept(db, settings, make_user):
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    user = make_user(password=None, totp_secret="LOST")
    stored = raw_totp(user)
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(CommandError, match="put back the key"):
        rotate()
    assert raw_totp(user) == stored


def test_generate_prepends_a_key_to_the_file_then_rotates(
    db, settings, make_user, tmp_path, monkeypatch
):
    monkeypatch.delenv("TRIBU_ENCRYPTION_KEYS", raising=False)
    settings.DATA_DIR = tmp_path
    key_file = tmp_path / config.ENCRYPTION_KEYS_FILE
    key_file.write_text(KEY_A + "\n")
    key_file.chmod(0o600)
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    user = make_user(password=None, totp_secret="JBSWY3DPEHPK3PXP")

    output = rotate("--generate")

    keys = key_file.read_text().split()
    assert len(keys) == 2 and keys[1] == KEY_A
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Fernet(keys[0]).decrypt(raw_totp(user).encode()) == b"JBSWY3DPEHPK3PXP"
    assert "Restart every Tribu process" in output
    # What the next start-up reads is what this process now uses.
    reloaded = config.load({"TRIBU_DATA_DIR": str(tmp_path)}, create_files=False)
    assert reloaded.encryption_keys == keys == settings.TRIBU_ENCRYPTION_KEYS


def test_generate_refuses_keys_from_the_environment(db, settings, monkeypatch):
    monkeypatch.setenv("TRIBU_ENCRYPTION_KEYS", KEY_A)
    settings.TRIBU_ENCRYPTION_KEYS = [KEY_A]
    with pytest.raises(CommandError, match="put it FIRST in TRIBU_ENCRYPTION_KEYS"):
        rotate("--generate")
    assert settings.TRIBU_ENCRYPTION_KEYS == [KEY_A]
