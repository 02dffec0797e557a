"""tribu.core.services.members: invitations and role changes, with the matrix enforced."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils.timezone import now

from tribu.api.models import ApiToken
from tribu.core.models import AuditEvent, Invitation, Membership
from tribu.core.roles import Role
from tribu.core.services import members
from tribu.core.services.members import MemberError


def membership(workspace, user):
    return Membership.objects.get(workspace=workspace, user=user)


def test_invite_stores_a_hash_sends_the_link_and_records_it(workspace, user, settings):
    settings.TRIBU_BASE_URL = "https://tribu.example"
    invitation, raw = members.invite(
        workspace, email=" Bob@Example.com ", role=Role.EDITOR, invited_by=user
    )
    assert invitation.email == "bob@example.com"
    assert invitation.token_hash == members.hash_token(raw) != raw
    assert timedelta(days=6, hours=23) < invitation.expires_at - now() <= timedelta(days=7)
    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    assert f"https://tribu.example/invitations/{raw}/" in message.body
    assert AuditEvent.objects.filter(workspace=workspace, action="member.invited").exists()


@time_machine.travel("2026-01-10 12:00:00+00:00", tick=False)
def test_invitation_email_speaks_the_workspace_language(make_workspace, user):
    # Django ships French month names, so the expiry date shows which language was active.
    french = make_workspace(owner=user, language="fr")
    english = make_workspace(owner=user, language="en")
    members.invite(french, email="bob@example.com", role=Role.VIEWER, invited_by=user)
    members.invite(english, email="bob@example.com", role=Role.VIEWER, invited_by=user)
    assert "janvier 2026" in mail.outbox[0].body
    assert "Jan. 17, 2026" in mail.outbox[1].body


def test_invite_refuses_existing_members_and_duplicate_invitations(workspace, user, make_member):
    member = make_member(workspace)
    with pytest.raises(MemberError, match="already a member"):
        members.invite(workspace, email=member.email, role=Role.VIEWER, invited_by=user)
    members.invite(workspace, email="bob@example.com", role=Role.VIEWER, invited_by=user)
    with pytest.raises(MemberError, match="pending invitation"):
        members.invite(workspace, email="BOB@example.com", role=Role.VIEWER, invited_by=user)


def test_admin_cannot_invite_an_owner_and_editor_cannot_invite(workspace, make_member):
    admin = make_member(workspace, Role.ADMIN)
    with pytest.raises(MemberError, match="Only an owner"):
        members.invite(workspace, email="x@example.com", role=Role.OWNER, invited_by=admin)
    members.invite(workspace, email="x@example.com", role=Role.ADMIN, invited_by=admin)
    editor = make_member(workspace, Role.EDITOR)
    with pytest.raises(MemberError, match="does not allow inviting"):
        members.invite(workspace, email="y@example.com", role=Role.VIEWER, invited_by=editor)


def test_outsider_cannot_invite(workspace, make_user):
    with pytest.raises(MemberError):
        members.invite(workspace, email="x@example.com", role=Role.VIEWER, invited_by=make_user())


def test_accept_is_single_use(workspace, user, make_user):
    _invitation, raw = members.invite(
        workspace, email="bob@example.com", role=Role.APPROVER, invited_by=user
    )
    bob = make_user("bob@example.com")
    joined = members.accept_invitation(raw, bob)
    assert joined.role == Role.APPROVER and joined.workspace == workspace
    with pytest.raises(MemberError, match="already been used"):
        members.accept_invitation(raw, bob)
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=bob).count() == 1


def test_accept_refuses_another_email(workspace, user, make_user):
    _invitation, raw = members.invite(
        workspace, email="bob@example.com", role=Role.VIEWER, invited_by=user
    )
    with pytest.raises(MemberError, match="bob@example.com"):
        members.accept_invitation(raw, make_user("eve@example.com"))
    assert members.find_invitation(raw).accepted_at is None


def test_accept_refuses_expired_revoked_and_unknown(workspace, user, make_user):
    bob = make_user("bob@example.com")
    invitation, raw = members.invite(workspace, email=bob.email, role=Role.VIEWER, invited_by=user)
    with (
        time_machine.travel(now() + timedelta(days=7, seconds=1)),
        pytest.raises(MemberError, match="expired"),
    ):
        members.accept_invitation(raw, bob)
    members.revoke_invitation(invitation, actor=user)
    with pytest.raises(MemberError, match="cancelled"):
        members.accept_invitation(raw, bob)
    with pytest.raises(MemberError, match="not valid"):
        members.accept_invitation("nope", bob)
    assert not Membership.objects.filter(user=bob).exists()


def test_revoke_needs_permission_and_is_recorded(workspace, user, make_member):
    invitation, _raw = members.invite(
        workspace, email="bob@example.com", role=Role.VIEWER, invited_by=user
    )
    viewer = make_member(workspace, Role.VIEWER)
    with pytest.raises(MemberError):
        members.revoke_invitation(invitation, actor=viewer)
    members.revoke_invitation(invitation, actor=user)
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1
    with pytest.raises(MemberError, match="already used or revoked"):
        members.revoke_invitation(invitation, actor=user)
    # Once revoked, the address can be invited again.
    members.invite(workspace, email="bob@example.com", role=Role.VIEWER, invited_by=user)


def test_last_owner_cannot_be_demoted_or_leave(workspace, user):
    mine = membership(workspace, user)
    with pytest.raises(MemberError, match="at least one owner"):
        members.change_role(mine, Role.ADMIN, actor_membership=mine)
    with pytest.raises(MemberError, match="at least one owner"):
        members.remove_member(mine, actor_membership=mine)
    assert membership(workspace, user).role == Role.OWNER


def test_second_owner_allows_the_first_to_step_down(workspace, user, make_member):
    make_member(workspace, Role.OWNER)
    mine = membership(workspace, user)
    members.change_role(mine, Role.EDITOR, actor_membership=mine)
    assert membership(workspace, user).role == Role.EDITOR
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.data == {"old_role": "owner", "new_role": "editor"}


def test_admin_cannot_grant_change_or_remove_owners(workspace, user, make_member):
    admin = membership(workspace, make_member(workspace, Role.ADMIN))
    editor = membership(workspace, make_member(workspace, Role.EDITOR))
    owner = membership(workspace, user)
    with pytest.raises(MemberError, match="Only an owner"):
        members.change_role(editor, Role.OWNER, actor_membership=admin)
    with pytest.raises(MemberError, match="Only an owner"):
        members.change_role(owner, Role.VIEWER, actor_membership=admin)
    with pytest.raises(MemberError, match="Only an owner"):
        members.remove_member(owner, actor_membership=admin)
    members.change_role(editor, Role.ADMIN, actor_membership=admin)
    assert membership(workspace, editor.user).role == Role.ADMIN


def test_editor_cannot_manage_but_can_leave(workspace, make_member):
    editor = membership(workspace, make_member(workspace, Role.EDITOR))
    viewer = membership(workspace, make_member(workspace, Role.VIEWER))
    with pytest.raises(MemberError):
        members.change_role(viewer, Role.EDITOR, actor_membership=editor)
    with pytest.raises(MemberError):
        members.remove_member(viewer, actor_membership=editor)
    members.remove_member(editor, actor_membership=editor)
    assert not Membership.objects.filter(pk=editor.pk).exists()
    event = AuditEvent.objects.get(action="member.removed")
    assert event.data["left"] is True


def test_removing_a_member_revokes_their_tokens_in_that_workspace(
    workspace, user, make_member, make_workspace
):
    bob = make_member(workspace, Role.EDITOR)
    other = make_workspace()
    make_member(other, Role.EDITOR, user=bob)
    here = ApiToken.objects.create(
        workspace=workspace, user=bob, name="a", role="editor", prefix="a", token_hash="a" * 64
    )
    there = ApiToken.objects.create(
        workspace=other, user=bob, name="b", role="editor", prefix="b", token_hash="b" * 64
    )
    members.remove_member(membership(workspace, bob), actor_membership=membership(workspace, user))
    here.refresh_from_db()
    there.refresh_from_db()
    assert here.revoked_at is not None and there.revoked_at is None


def test_members_of_another_workspace_are_refused(workspace, user, make_workspace, make_member):
    other = make_workspace()
    stranger = membership(other, make_member(other, Role.VIEWER))
    with pytest.raises(MemberError, match="another workspace"):
        members.remove_member(stranger, actor_membership=membership(workspace, user))
    with pytest.raises(MemberError, match="another workspace"):
        members.change_role(stranger, Role.ADMIN, actor_membership=membership(workspace, user))


def test_grantable_roles(workspace, user, make_member):
    assert members.grantable_roles(membership(workspace, user))[0] == Role.OWNER
    admin = membership(workspace, make_member(workspace, Role.ADMIN))
    assert Role.OWNER not in members.grantable_roles(admin)
    assert Role.ADMIN in members.grantable_roles(admin)
    viewer = membership(workspace, make_member(workspace, Role.VIEWER))
    assert members.grantable_roles(viewer) == []
