import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tribu.api.models import ApiToken
from tribu.api.services.tokens import authenticate
from tribu.core.roles import Role


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_only_the_token(team):
    out, err = run("create", "--user", "Editor@Example.com", "--workspace", "acme")
    raw = out.strip()
    assert out.count("\n") == 1 and raw.startswith("tribu_")
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.role == Role.EDITOR  # the user's own role by default
    assert "not shown again" in err and raw not in err
    assert authenticate(raw).user == team[Role.EDITOR]


def test_create_with_role_and_name(team):
    out, _err = run(
        "create", "--user", "admin@example.com", "--workspace", "acme", "--role", "viewer",
        "--name", "backup",
    )  # fmt: skip
    token = ApiToken.objects.get()
    assert (token.role, token.name) == (Role.VIEWER, "backup")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody@example.com", "--workspace", "acme"], "No account uses"),
        (["--user", "editor@example.com", "--workspace", "nowhere"], "No workspace"),
        (["--user", "editor@example.com", "--workspace", "acme", "--role", "owner"], "more rights"),
        (["--user", "outsider@example.com", "--workspace", "acme"], "not an active member"),
    ],
)
def test_create_refusals_are_explained(team, fast_user, args, message):
    fast_user("outsider@example.com")
    with pytest.raises(CommandError, match=message):
        run("create", *args)
    assert not ApiToken.objects.exists()


def test_list_and_revoke(team):
    raw, _err = run("create", "--user", "viewer@example.com", "--workspace", "acme")
    token = ApiToken.objects.get()
    out, _err = run("list", "--workspace", "acme")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "PREFIX", "ROLE", "USER"]
    assert lines[1].split()[:4] == [str(token.pk), token.prefix, "viewer", "viewer@example.com"]
    assert raw.strip() not in out

    out, _err = run("revoke", str(token.pk))
    assert "revoked" in out
    assert run("list", "--workspace", "acme")[0].splitlines()[1:] == []
    assert "revoked" in run("list", "--workspace", "acme", "--all")[0].splitlines()[1]
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke", str(token.pk))
    with pytest.raises(CommandError, match="No token has the id"):
        run("revoke", "999999")
