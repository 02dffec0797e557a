"""`tribu demo`: an idempotent demo account and workspace, with a printed login."""

import stat
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from tribu.accounts.models import User
from tribu.core.models import AuditEvent, Membership, Workspace
from tribu.core.roles import Role
from tribu.core.services import demo


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is not what these tests are about."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data_dir(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    return tmp_path


def run_demo():
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def snapshot():
    return {
        "users": list(User.objects.order_by("email").values_list("email", "password", "name")),
        "workspaces": list(Workspace.objects.values_list("slug", "name", "timezone", "language")),
        "members": sorted(Membership.objects.values_list("workspace__slug", "user__email", "role")),
        "audit": AuditEvent.objects.count(),
    }


def test_demo_creates_the_account_and_workspace_and_prints_the_login(db, data_dir):
    output = run_demo()
    password_file = data_dir / demo.LOGIN_FILE
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600

    user = User.objects.get(email="demo@tribu.local")
    assert user.name == "Démo"
    assert user.check_password(password)
    workspace = Workspace.objects.get(slug="demo")
    assert workspace.name == "Maison Lumière"
    assert (workspace.timezone, workspace.language) == ("Europe/Paris", "fr")
    roles = dict(Membership.objects.filter(workspace=workspace).values_list("user__email", "role"))
    assert roles["demo@tribu.local"] == Role.OWNER
    assert len(roles) == 3
    assert len(set(roles.values())) == 3  # two teammates with two other roles

    assert f"{settings.TRIBU_BASE_URL}/accounts/login/" in output
    assert "demo@tribu.local" in output
    assert password in output
    assert "Workspace:  demo" in output


def test_running_it_twice_changes_nothing_and_prints_the_same_login(db, data_dir):
    first_output = run_demo()
    before = snapshot()
    second_output = run_demo()
    assert snapshot() == before
    password = (data_dir / demo.LOGIN_FILE).read_text().strip()
    assert password in second_output
    assert "ready" in first_output and "ready" not in second_output


def test_a_changed_password_is_not_printed(db, data_dir):
    run_demo()
    old_password = (data_dir / demo.LOGIN_FILE).read_text().strip()
    user = User.objects.get(email="demo@tribu.local")
    user.set_password("a brand new passphrase")
    user.save()
    output = run_demo()
    assert old_password not in output
    assert "changed since it was generated" in output


def test_a_lost_password_file_is_explained(db, data_dir):
    run_demo()
    (data_dir / demo.LOGIN_FILE).unlink()
    output = run_demo()
    assert "unknown" in output and "changepassword" in output


def test_saved_password_is_reused_after_a_database_reset(db, data_dir):
    run_demo()
    password = (data_dir / demo.LOGIN_FILE).read_text().strip()
    Workspace.objects.all().delete()
    User.objects.all().delete()
    output = run_demo()
    assert password in output
    assert User.objects.get(email="demo@tribu.local").check_password(password)


def test_demo_works_on_a_fresh_data_directory(tmp_path):
    """`tribu demo` migrates an empty data directory itself instead of failing."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRIBU_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "tribu.cli", "demo"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "demo@tribu.local" in result.stdout
    assert (tmp_path / "tribu.sqlite3").exists()
