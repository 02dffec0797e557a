import pytest
import time_machine

from accounts.helpers import NOON, current_code
from tribu.accounts.services import two_factor


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """These tests check hundreds of passwords; the real hasher's cost is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen():
    """The clock, frozen at NOON; move it with frozen.shift(seconds) or frozen.move_to()."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def two_factor_user(user, frozen):
    """alice@example.com with two-factor on; .recovery_codes_clear holds her codes in clear.
    The confirmation code is spent at NOON - 30 s, so the NOON code is still usable."""
    two_factor.begin_setup(user)
    frozen.shift(-30)
    user.recovery_codes_clear = two_factor.enable(user, current_code(user))
    frozen.shift(30)
    user.refresh_from_db()
    return user
