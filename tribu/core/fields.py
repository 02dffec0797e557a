"""A text field encrypted at rest with MultiFernet and TRIBU_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so keys can be rotated without downtime:
prepend a new key, run `tribu rotate-keys`, then drop the old one.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def fernet_for(keys):
    return MultiFernet([Fernet(key) for key in keys])


def current_fernet():
    return fernet_for(tuple(settings.TRIBU_ENCRYPTION_KEYS))


def encrypt(plaintext):
    return current_fernet().encrypt(plaintext.encode()).decode()


def decrypt(token):
    try:
        return current_fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with TRIBU_ENCRYPTION_KEYS. Was a key removed "
            "before `tribu rotate-keys` ran? Put the old key back at the end of the list."
        ) from error


def rotate(token):
    """Re-encrypt a stored token with the first (newest) key."""
    return current_fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def encrypted_fields():
    """Every (model, field) pair that stores an EncryptedTextField."""
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]
