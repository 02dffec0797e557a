import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tribu.accounts.models import User
from tribu.core import fields


def raw_secret(user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_secrets_are_encrypted_at_rest_and_read_back(make_user):
    user = make_user(totp_secret="JBSWY3DPEHPK3PXP")
    stored = raw_secret(user)
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert User.objects.get(pk=user.pk).totp_secret == "JBSWY3DPEHPK3PXP"


def test_empty_values_stay_empty(make_user):
    user = make_user()
    assert raw_secret(user) == ""


def test_older_keys_still_decrypt_and_rotate_moves_to_the_newest(make_user, settings):
    old_key = settings.TRIBU_ENCRYPTION_KEYS[0]
    user = make_user(totp_secret="secret-value")
    new_key = Fernet.generate_key().decode()
    settings.TRIBU_ENCRYPTION_KEYS = [new_key, old_key]
    assert User.objects.get(pk=user.pk).totp_secret == "secret-value"
    rotated = fields.rotate(raw_secret(user))
    assert Fernet(new_key).decrypt(rotated.encode()) == b"secret-value"


def test_a_missing_key_gives_an_explained_error(make_user, settings):
    user = make_user(totp_secret="secret-value")
    settings.TRIBU_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="TRIBU_ENCRYPTION_KEYS"):
        User.objects.get(pk=user.pk)


def test_encrypted_fields_lists_the_user_secret():
    assert (User, User._meta.get_field("totp_secret")) in fields.encrypted_fields()
