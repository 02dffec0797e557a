from tribu.core.models import AuditEvent, Membership, Workspace
from tribu.core.roles import Role


def test_a_token_reaches_exactly_its_workspace(team, api_as, make_workspace, fast_user):
    other_owner = fast_user()
    make_workspace(slug="globex", owner=other_owner)
    # Being a member of globex too does not widen an acme token.
    Membership.objects.create(
        workspace=Workspace.objects.get(slug="globex"), user=team[Role.VIEWER], role=Role.OWNER
    )
    client = api_as(team["workspace"], team[Role.VIEWER])

    body = client.get("workspaces").json()
    assert [item["slug"] for item in body["items"]] == ["acme"] and body["next"] is None
    detail = client.get("workspaces/acme").json()
    assert detail["name"] == "Acme" and detail["timezone"] == "Europe/Paris"
    assert detail["language"] == "fr"
    assert client.get("workspaces/globex").status_code == 404
    assert client.get("workspaces/nowhere").status_code == 404


def test_patch_changes_settings_and_records_it(team, api_as):
    client = api_as(team["workspace"], team[Role.ADMIN])
    response = client.patch(
        "workspaces/acme", {"name": "Acme Corp", "timezone": "America/Montreal", "language": "en"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Acme Corp"
    workspace = Workspace.objects.get(slug="acme")
    assert (workspace.name, workspace.timezone, workspace.language) == (
        "Acme Corp",
        "America/Montreal",
        "en",
    )
    event = AuditEvent.objects.get(action="workspace.updated")
    assert event.actor == team[Role.ADMIN]
    assert set(event.data["fields"]) == {"name", "timezone", "language"}


def test_patch_only_touches_the_given_fields(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    assert client.patch("workspaces/acme", {"language": "en"}).status_code == 200
    workspace = Workspace.objects.get(slug="acme")
    assert (workspace.name, workspace.timezone, workspace.language) == (
        "Acme",
        "Europe/Paris",
        "en",
    )


def test_patch_validates(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.patch(
        "workspaces/acme", {"name": "", "timezone": "Nowhere/City", "language": "de"}
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name", "timezone", "language"}
    assert "IANA" in response.json()["errors"]["timezone"][0]
    assert client.patch("workspaces/acme", {"name": "x" * 121}).status_code == 422
    assert Workspace.objects.get(slug="acme").name == "Acme"


def test_patch_needs_workspace_edit(team, api_as):
    for role in (Role.EDITOR, Role.APPROVER, Role.CONTRIBUTOR, Role.VIEWER):
        response = api_as(team["workspace"], team[role]).patch("workspaces/acme", {"name": "X"})
        assert response.status_code == 403, role
    # An owner's token limited to the editor role may not either.
    response = api_as(team["workspace"], team[Role.OWNER], role=Role.EDITOR).patch(
        "workspaces/acme", {"name": "X"}
    )
    assert response.status_code == 403
    assert Workspace.objects.get(slug="acme").name == "Acme"
