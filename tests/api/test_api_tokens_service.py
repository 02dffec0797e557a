import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.utils.timezone import now

from tribu.api.models import ApiToken
from tribu.api.services import tokens as service
from tribu.core.models import AuditEvent, Membership
from tribu.core.roles import Role
from tribu.core.services import members as members_service


def test_token_is_shown_once_and_stored_as_a_hash(team):
    workspace, editor = team["workspace"], team[Role.EDITOR]
    token, raw = service.create_token(workspace, editor, name=" deploy ", role=Role.VIEWER)

    assert raw.startswith("tribu_") and len(raw) == len("tribu_") + 40
    assert set(raw[6:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    token.refresh_from_db()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.token_hash, token.prefix, token.name}
    assert raw.startswith(token.prefix) and len(token.prefix) == 12
    assert (token.name, token.role, token.user, token.workspace) == (
        "deploy",
        Role.VIEWER,
        editor,
        workspace,
    )
    event = AuditEvent.objects.get(workspace=workspace, action="token.created")
    assert event.actor == editor and event.target_label == "deploy"
    assert event.data["role"] == Role.VIEWER and raw not in str(event.data)


def test_two_tokens_never_collide(team):
    _a, raw_a = service.create_token(team["workspace"], team[Role.OWNER], name="a", role="viewer")
    _b, raw_b = service.create_token(team["workspace"], team[Role.OWNER], name="b", role="viewer")
    assert raw_a != raw_b


@pytest.mark.parametrize(
    ("member_role", "token_role", "allowed"),
    [
        (Role.OWNER, Role.OWNER, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.EDITOR, Role.ADMIN, False),
        (Role.APPROVER, Role.EDITOR, False),
        (Role.CONTRIBUTOR, Role.VIEWER, True),
        (Role.VIEWER, Role.CONTRIBUTOR, False),
    ],
)
def test_token_role_may_not_exceed_the_creators_role(team, member_role, token_role, allowed):
    user = team[member_role]
    if allowed:
        token, _raw = service.create_token(team["workspace"], user, name="x", role=token_role)
        assert token.role == token_role
    else:
        with pytest.raises(service.TokenError, match="more rights than its owner"):
            service.create_token(team["workspace"], user, name="x", role=token_role)
        assert not ApiToken.objects.filter(user=user).exists()


def test_creatable_roles_are_the_members_role_and_weaker(team):
    membership = Membership.objects.get(user=team[Role.EDITOR])
    assert service.creatable_roles(membership) == [
        Role.EDITOR,
        Role.APPROVER,
        Role.CONTRIBUTOR,
        Role.VIEWER,
    ]


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("", Role.VIEWER, "Give the token a name"),
        ("x" * 101, Role.VIEWER, "too long"),
        ("ok", "king", "is not a role"),
    ],
)
def test_invalid_creation_is_explained(team, name, role, message):
    with pytest.raises(service.TokenError, match=message):
        service.create_token(team["workspace"], team[Role.OWNER], name=name, role=role)


def test_non_member_cannot_create_a_token(team, fast_user):
    with pytest.raises(service.TokenError, match="is not a member"):
        service.create_token(team["workspace"], fast_user(), name="x", role=Role.VIEWER)


def test_effective_role_is_the_weaker_of_token_and_current_membership(team):
    workspace, admin = team["workspace"], team[Role.ADMIN]
    _token, raw = service.create_token(workspace, admin, name="x", role=Role.EDITOR)
    assert service.authenticate(raw).role == Role.EDITOR

    Membership.objects.filter(user=admin).update(role=Role.VIEWER)
    access = service.authenticate(raw)
    assert access.role == Role.VIEWER
    assert access.token.role == Role.EDITOR  # promoting the user back restores the token

    Membership.objects.filter(user=admin).update(role=Role.OWNER)
    assert service.authenticate(raw).role == Role.EDITOR


def test_revoked_token_stops_working(team):
    token, raw = service.create_token(team["workspace"], team[Role.EDITOR], name="x", role="editor")
    service.revoke_token(token, actor=team[Role.EDITOR])

    with pytest.raises(service.TokenAuthError, match="revoked"):
        service.authenticate(raw)
    with pytest.raises(service.TokenError, match="already revoked"):
        service.revoke_token(token, actor=team[Role.EDITOR])
    event = AuditEvent.objects.get(action="token.revoked")
    assert event.actor == team[Role.EDITOR] and event.data["owner"] == "editor@example.com"


def test_inactive_user_token_stops_working(team):
    _token, raw = service.create_token(
        team["workspace"], team[Role.EDITOR], name="x", role="viewer"
    )
    team[Role.EDITOR].is_active = False
    team[Role.EDITOR].save()
    with pytest.raises(service.TokenAuthError, match="deactivated"):
        service.authenticate(raw)


def test_removed_member_token_stops_working(team):
    workspace, editor = team["workspace"], team[Role.EDITOR]
    token, raw = service.create_token(workspace, editor, name="x", role=Role.EDITOR)
    owner_membership = Membership.objects.get(user=team[Role.OWNER])
    members_service.remove_member(
        Membership.objects.get(user=editor), actor_membership=owner_membership
    )
    with pytest.raises(service.TokenAuthError):
        service.authenticate(raw)


def test_membership_check_does_not_rely_on_revocation(team):
    """Even a membership deleted behind the services' back disables the token."""
    workspace, editor = team["workspace"], team[Role.EDITOR]
    _token, raw = service.create_token(workspace, editor, name="x", role=Role.EDITOR)
    Membership.objects.filter(user=editor).delete()
    with pytest.raises(service.TokenAuthError, match="no longer a member"):
        service.authenticate(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "not a Tribu API token"),
        ("Bearer abc", "not a Tribu API token"),
        ("tribu_" + "x" * 40, "unknown"),
    ],
)
def test_unknown_tokens_are_refused(db, raw, message):
    with pytest.raises(service.TokenAuthError, match=message):
        service.authenticate(raw)


def test_last_used_at_is_written_at_most_once_a_minute(team):
    token, raw = service.create_token(team["workspace"], team[Role.VIEWER], name="x", role="viewer")
    start = now()
    with time_machine.travel(start, tick=False):
        service.authenticate(raw)
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        service.authenticate(raw)
        token.refresh_from_db()
        assert token.last_used_at == start
    later = start + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        service.authenticate(raw)
        token.refresh_from_db()
        assert token.last_used_at == later


def test_touch_from_a_stale_copy_does_not_write_again(team):
    """Two requests that loaded the token at the same time write last_used_at once."""
    token, _raw = service.create_token(
        team["workspace"], team[Role.VIEWER], name="x", role="viewer"
    )
    first, second = ApiToken.objects.get(pk=token.pk), ApiToken.objects.get(pk=token.pk)
    assert service.touch(first) is True
    assert service.touch(second) is False


def test_visible_tokens_are_own_tokens_unless_managing_members(team):
    workspace = team["workspace"]
    mine, _ = service.create_token(workspace, team[Role.EDITOR], name="mine", role="viewer")
    theirs, _ = service.create_token(workspace, team[Role.VIEWER], name="theirs", role="viewer")

    editor = Membership.objects.get(user=team[Role.EDITOR])
    admin = Membership.objects.get(user=team[Role.ADMIN])
    assert list(service.visible_tokens(editor)) == [mine]
    assert set(service.visible_tokens(admin)) == {mine, theirs}


def test_only_admins_and_owners_revoke_other_members_tokens(team):
    token, _raw = service.create_token(
        team["workspace"], team[Role.VIEWER], name="x", role="viewer"
    )
    with pytest.raises(service.TokenError, match="Only admins and owners"):
        service.revoke_token(token, actor=team[Role.EDITOR])
    service.revoke_token(token, actor=team[Role.ADMIN])
    token.refresh_from_db()
    assert token.revoked_at is not None
