import pytest

from tribu.core.models import AuditEvent, Membership, Workspace
from tribu.core.roles import Role


def test_home_sends_a_signed_out_visitor_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_without_workspace_offers_to_create_one(client_for, make_user):
    response = client_for(make_user()).get("/")
    assert response.status_code == 200
    assert b"Create a workspace" in response.content


def test_home_goes_to_the_last_workspace_used(client_for, make_workspace, user):
    make_workspace(slug="first", owner=user)
    second = make_workspace(slug="second", owner=user)
    client = client_for(user)
    client.get(f"/w/{second.slug}/")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/w/second/"


def test_create_workspace_makes_the_creator_owner_and_audits(client_for, user):
    response = client_for(user).post(
        "/w/new/",
        {"name": "Café Lumière", "slug": "", "timezone": "Europe/Paris", "language": "fr"},
    )
    workspace = Workspace.objects.get(slug="cafe-lumiere")
    assert response.status_code == 302
    assert response["Location"] == "/w/cafe-lumiere/"
    assert Membership.objects.get(workspace=workspace, user=user).role == Role.OWNER
    assert AuditEvent.objects.filter(workspace=workspace, action="workspace.created").exists()


@pytest.mark.parametrize("slug", ["new", "acme"])
def test_create_workspace_refuses_reserved_and_taken_addresses(client_for, workspace, user, slug):
    response = client_for(user).post(
        "/w/new/", {"name": "X", "slug": slug, "timezone": "Europe/Paris", "language": "fr"}
    )
    assert response.status_code == 200
    assert b"choose another address" in response.content or b"already taken" in response.content
    assert Workspace.objects.filter(slug=slug).count() == (1 if slug == "acme" else 0)


def test_workspace_home_shows_the_role_and_its_rights(client_for, workspace, make_member):
    viewer = make_member(workspace, Role.VIEWER)
    response = client_for(viewer).get("/w/acme/")
    assert response.status_code == 200
    assert b"Viewer" in response.content
    assert b"Read the audit log" not in response.content
    assert b"See the workspace and its content" in response.content


def test_workspace_home_is_404_for_outsiders(client_for, workspace, make_user):
    assert client_for(make_user()).get("/w/acme/").status_code == 404


def test_times_are_shown_in_the_workspace_timezone(client_for, make_workspace, user):
    make_workspace(slug="tokyo", owner=user, timezone="Asia/Tokyo")
    response = client_for(user).get("/w/tokyo/audit/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(workspace__slug="tokyo")
    local = event.created_at.astimezone(Workspace.objects.get(slug="tokyo").tzinfo)
    assert local.strftime("%H:%M").encode() in response.content
