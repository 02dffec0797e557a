"""tribu.core.views.members: the team page and its actions."""

from django.core import mail
from django.urls import reverse

from tribu.core.models import Invitation, Membership
from tribu.core.roles import Role


def url(name, *args):
    return reverse(f"core:{name}", args=args)


def test_team_page_lists_members_and_pending_invitations(owner_client, workspace, make_member):
    bob = make_member(workspace, Role.APPROVER)
    owner_client.post(
        url("member_invite", "acme"), {"email": "carol@example.com", "role": "viewer"}
    )
    page = owner_client.get(url("members", "acme")).content.decode()
    assert bob.email in page and "carol@example.com" in page
    assert "Send the invitation" in page


def test_invite_sends_an_email(owner_client, workspace):
    response = owner_client.post(
        url("member_invite", "acme"), {"email": "carol@example.com", "role": "editor"}
    )
    assert response.status_code == 302
    assert Invitation.objects.get(email="carol@example.com").role == Role.EDITOR
    assert mail.outbox[0].to == ["carol@example.com"]


def test_invite_errors_show_on_the_form(owner_client, workspace, make_member):
    bob = make_member(workspace)
    response = owner_client.post(
        url("member_invite", "acme"), {"email": bob.email, "role": "viewer"}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    response = owner_client.post(url("member_invite", "acme"), {"email": "nope", "role": "viewer"})
    assert response.status_code == 400


def test_admin_is_not_offered_the_owner_role_and_cannot_post_it(client_for, workspace, make_member):
    admin = make_member(workspace, Role.ADMIN)
    client = client_for(admin)
    page = client.get(url("members", "acme")).content.decode()
    assert 'value="owner"' not in page
    response = client.post(
        url("member_invite", "acme"), {"email": "x@example.com", "role": "owner"}
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_viewer_sees_the_team_without_controls(client_for, workspace, make_member):
    viewer = make_member(workspace, Role.VIEWER)
    page = client_for(viewer).get(url("members", "acme")).content.decode()
    assert "alice@example.com" in page
    assert "Send the invitation" not in page and "Change role" not in page
    assert "Leave workspace" in page


def test_change_role_and_remove(owner_client, workspace, make_member):
    bob = make_member(workspace, Role.VIEWER)
    membership = Membership.objects.get(user=bob)
    response = owner_client.post(
        url("member_role", "acme", membership.id), {f"m{membership.id}-role": "editor"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.EDITOR
    owner_client.post(url("member_remove", "acme", membership.id))
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_last_owner_cannot_leave(owner_client, workspace, user):
    response = owner_client.post(url("member_leave", "acme"), follow=True)
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(user=user, workspace=workspace).exists()


def test_member_can_leave(client_for, workspace, make_member):
    bob = make_member(workspace, Role.EDITOR)
    response = client_for(bob).post(url("member_leave", "acme"))
    assert response.status_code == 302
    assert not Membership.objects.filter(user=bob).exists()


def test_admin_cannot_demote_an_owner_through_the_form(client_for, workspace, user, make_member):
    admin = make_member(workspace, Role.ADMIN)
    owner = Membership.objects.get(user=user)
    response = client_for(admin).post(
        url("member_role", "acme", owner.id), {f"m{owner.id}-role": "viewer"}, follow=True
    )
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_revoke_invitation(owner_client, workspace):
    owner_client.post(
        url("member_invite", "acme"), {"email": "carol@example.com", "role": "viewer"}
    )
    invitation = Invitation.objects.get()
    response = owner_client.post(url("invitation_revoke", "acme", invitation.id))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
