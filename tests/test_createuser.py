"""`tribu createuser`: validated email and password, generated password when none is given."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tribu.accounts.models import User


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is not what these tests are about."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def createuser(*args):
    out = StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


def test_creates_a_user_with_the_given_password(db):
    output = createuser(
        "--email", "Claire@Example.com", "--password", "a long passphrase here", "--name", "Claire"
    )
    user = User.objects.get(email="claire@example.com")
    assert user.name == "Claire"
    assert user.check_password("a long passphrase here")
    assert not user.is_staff
    assert "claire@example.com" in output
    assert "a long passphrase here" not in output


def test_generates_and_prints_a_password_when_none_is_given(db):
    output = createuser("--email", "gen@example.com")
    line = next(line for line in output.splitlines() if line.startswith("Password: "))
    password = line.removeprefix("Password: ")
    assert len(password) >= 16
    assert User.objects.get(email="gen@example.com").check_password(password)


def test_operator_can_use_the_admin_site(db):
    createuser("--email", "op@example.com", "--operator")
    user = User.objects.get(email="op@example.com")
    assert user.is_staff and user.is_superuser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email"], "not a valid email address"),
        (["--email", "weak@example.com", "--password", "123"], "This password is refused"),
        (["--email", "weak@example.com", "--password", "password123"], "too common"),
    ],
)
def test_invalid_input_is_explained(db, args, message):
    with pytest.raises(CommandError, match=message):
        createuser(*args)
    assert not User.objects.exists()


def test_duplicate_email_is_refused(db, make_user):
    make_user("taken@example.com")
    with pytest.raises(CommandError, match="already exists"):
        createuser("--email", "TAKEN@example.com")
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_the_command_line_exits_non_zero_with_the_message(tmp_path):
    env = {
        **os.environ,
        "TRIBU_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tribu.settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "createuser", "--email", "bad"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "not a valid email address" in result.stderr
