"""`tribu workspace create|list`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tribu.core.models import AuditEvent, Membership, Workspace
from tribu.core.roles import Role


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is not what these tests are about."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def workspace_command(*args):
    out = StringIO()
    call_command("workspace", *args, stdout=out)
    return out.getvalue()


def test_create_makes_the_owner_a_member(db, make_user):
    owner = make_user("owner@example.com")
    output = workspace_command(
        "create",
        "--slug",
        "maison",
        "--name",
        "Maison",
        "--owner",
        "OWNER@example.com",
        "--timezone",
        "America/Montreal",
        "--language",
        "en",
    )
    workspace = Workspace.objects.get(slug="maison")
    assert (workspace.name, workspace.timezone, workspace.language) == (
        "Maison",
        "America/Montreal",
        "en",
    )
    assert Membership.objects.get(workspace=workspace).user == owner
    assert Membership.objects.get(workspace=workspace).role == Role.OWNER
    assert AuditEvent.objects.filter(workspace=workspace, action="workspace.created").exists()
    assert "maison" in output


def test_defaults_are_paris_and_french(db, make_user):
    make_user("owner@example.com")
    workspace_command("create", "--slug", "b", "--name", "B", "--owner", "owner@example.com")
    workspace = Workspace.objects.get(slug="b")
    assert (workspace.timezone, workspace.language) == ("Europe/Paris", "fr")


@pytest.mark.parametrize(
    ("slug", "timezone", "owner", "message"),
    [
        ("admin", "Europe/Paris", "owner@example.com", "reserved"),
        ("acme", "Europe/Paris", "owner@example.com", "already taken"),
        ("bad slug!", "Europe/Paris", "owner@example.com", "not a valid address"),
        ("fresh", "Mars/Olympus", "owner@example.com", "Unknown time zone"),
        ("fresh", "Europe/Paris", "nobody@example.com", "tribu createuser"),
    ],
)
def test_errors_are_explained(db, make_user, workspace, slug, timezone, owner, message):
    make_user("owner@example.com")
    before = Workspace.objects.count()
    with pytest.raises(CommandError, match=message):
        workspace_command(
            "create", "--slug", slug, "--name", "X", "--owner", owner, "--timezone", timezone
        )
    assert Workspace.objects.count() == before


def test_list_shows_workspaces_and_owners(db, workspace):
    output = workspace_command("list")
    assert (
        "acme" in output
        and "alice@example.com" in output
        and "1 member, owner: alice@example.com" in output
    )


def test_list_when_empty(db):
    assert "No workspace yet" in workspace_command("list")
