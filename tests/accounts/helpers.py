"""Small helpers shared by the accounts tests."""

from datetime import UTC, datetime

import pyotp

from tribu.testing import PASSWORD

__all__ = ["NOON", "PASSWORD", "current_code", "sign_in"]

# A fixed instant in the middle of a 30-second TOTP step, so that a test that freezes the
# clock here never sees the code change under it.
NOON = datetime(2026, 11, 20, 12, 0, 10, tzinfo=UTC)


def current_code(user):
    return pyotp.TOTP(user.totp_secret).now()


def sign_in(client, email, password, **extra):
    return client.post("/accounts/login/", {"email": email, "password": password}, **extra)
