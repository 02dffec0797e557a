from django.core import mail

from api.helpers import ApiClient
from tribu.api.models import ApiToken
from tribu.core.models import AuditEvent, Invitation, Membership
from tribu.core.roles import Role
from tribu.core.services import members as members_service


def member_id(user):
    return Membership.objects.get(user=user).pk


# Listing -------------------------------------------------------------------------------


def test_members_are_listed_with_their_roles(team, api_as):
    body = api_as(team["workspace"], team[Role.VIEWER]).get("members").json()
    assert body["next"] is None
    assert [(item["email"], item["role"]) for item in body["items"]] == [
        (f"{role}@example.com", role) for role in Role.values
    ]
    first = body["items"][0]
    assert set(first) == {"id", "user_id", "email", "name", "role", "joined_at"}


def test_members_are_paginated_with_a_cursor(team, api_as):
    client = api_as(team["workspace"], team[Role.VIEWER])
    seen, cursor = [], None
    while True:
        body = client.get("members?limit=4" + (f"&cursor={cursor}" if cursor else "")).json()
        assert len(body["items"]) <= 4
        seen += [item["email"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [f"{role}@example.com" for role in Role.values]


def test_member_detail(team, api_as):
    client = api_as(team["workspace"], team[Role.VIEWER])
    body = client.get(f"members/{member_id(team[Role.EDITOR])}").json()
    assert (body["email"], body["role"], body["user_id"]) == (
        "editor@example.com",
        "editor",
        team[Role.EDITOR].pk,
    )


# Changing roles ------------------------------------------------------------------------


def test_admin_changes_a_role(team, api_as):
    client = api_as(team["workspace"], team[Role.ADMIN])
    response = client.patch(f"members/{member_id(team[Role.VIEWER])}", {"role": "editor"})
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "editor"
    assert Membership.objects.get(user=team[Role.VIEWER]).role == Role.EDITOR
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.actor == team[Role.ADMIN] and event.data["new_role"] == "editor"


def test_only_owner_level_tokens_touch_the_owner_role(team, api_as):
    admin = api_as(team["workspace"], team[Role.ADMIN])
    response = admin.patch(f"members/{member_id(team[Role.VIEWER])}", {"role": "owner"})
    assert response.status_code == 403
    assert "owner" in response.json()["message"]

    # An owner whose token is limited to admin is held to admin rights.
    limited = api_as(team["workspace"], team[Role.OWNER], role=Role.ADMIN)
    response = limited.patch(f"members/{member_id(team[Role.VIEWER])}", {"role": "owner"})
    assert response.status_code == 403
    assert Membership.objects.get(user=team[Role.VIEWER]).role == Role.VIEWER

    owner = api_as(team["workspace"], team[Role.OWNER])
    response = owner.patch(f"members/{member_id(team[Role.VIEWER])}", {"role": "owner"})
    assert response.status_code == 200


def test_the_last_owner_cannot_be_demoted(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.patch(f"members/{member_id(team[Role.OWNER])}", {"role": "admin"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "at least one owner" in response.json()["message"]


def test_role_must_be_a_role(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.patch(f"members/{member_id(team[Role.VIEWER])}", {"role": "boss"})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["role"]


# Removing ------------------------------------------------------------------------------


def test_removing_a_member_also_ends_their_tokens(team, api_as, token_for):
    editor_token = token_for(team["workspace"], team[Role.EDITOR])
    client = api_as(team["workspace"], team[Role.ADMIN])
    response = client.delete(f"members/{member_id(team[Role.EDITOR])}")
    assert response.status_code == 204 and response.content == b""
    assert not Membership.objects.filter(user=team[Role.EDITOR]).exists()
    assert ApiToken.objects.get(user=team[Role.EDITOR]).revoked_at is not None

    assert ApiClient(editor_token).get("me").status_code == 401
    assert client.get(f"members/{member_id(team[Role.ADMIN])}").status_code == 200


def test_admin_cannot_remove_an_owner(team, api_as):
    client = api_as(team["workspace"], team[Role.ADMIN])
    response = client.delete(f"members/{member_id(team[Role.OWNER])}")
    assert response.status_code == 403
    assert Membership.objects.filter(user=team[Role.OWNER]).exists()


# Invitations ---------------------------------------------------------------------------


def test_invite_lists_and_revoke(team, api_as):
    client = api_as(team["workspace"], team[Role.ADMIN])
    response = client.post("invitations", {"email": " New@Example.com ", "role": "contributor"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["email"], created["role"], created["invited_by"]) == (
        "new@example.com",
        "contributor",
        "admin@example.com",
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]

    listed = client.get("invitations").json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]

    response = client.delete(f"invitations/{created['id']}")
    assert response.status_code == 204
    assert Invitation.objects.get().revoked_at is not None
    assert client.get("invitations").json()["items"] == []
    # Revoking twice is a conflict, not a success.
    assert client.delete(f"invitations/{created['id']}").status_code == 409


def test_a_second_pending_invitation_is_a_conflict(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    assert (
        client.post("invitations", {"email": "x@example.com", "role": "viewer"}).status_code == 201
    )
    response = client.post("invitations", {"email": "x@example.com", "role": "viewer"})
    assert response.status_code == 409
    assert "pending invitation" in response.json()["message"]


def test_owner_invitations_need_owner_rights(team, api_as):
    admin = api_as(team["workspace"], team[Role.ADMIN])
    response = admin.post("invitations", {"email": "boss@example.com", "role": "owner"})
    assert response.status_code == 403
    invitation, _raw = members_service.invite(
        team["workspace"], email="boss@example.com", role=Role.OWNER, invited_by=team[Role.OWNER]
    )
    assert admin.delete(f"invitations/{invitation.pk}").status_code == 403
    limited = api_as(team["workspace"], team[Role.OWNER], role=Role.ADMIN)
    assert limited.delete(f"invitations/{invitation.pk}").status_code == 403
    owner = api_as(team["workspace"], team[Role.OWNER])
    assert owner.delete(f"invitations/{invitation.pk}").status_code == 204


def test_members_below_admin_may_read_but_not_invite(team, api_as):
    client = api_as(team["workspace"], team[Role.EDITOR])
    assert client.get("invitations").status_code == 200
    response = client.post("invitations", {"email": "x@example.com", "role": "viewer"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()
