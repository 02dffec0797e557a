"""Every error is JSON {"code", "message"}; invalid input adds per-field "errors"."""

import json

from tribu.core.roles import Role


def test_unknown_api_address_is_a_json_404(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    for method, path in [
        ("GET", "/api/v1/nothing/here"),
        ("POST", "/api/v1/nothing"),
        ("DELETE", "/api/v1/members/1/extra"),
        ("GET", "/api/v1/"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert response.json()["message"]


def test_object_of_no_workspace_is_not_found(team, api_as):
    response = api_as(team["workspace"], team[Role.OWNER]).get("members/424242")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message"}
    assert response.json()["code"] == "not_found"


def test_forbidden_names_the_problem(team, api_as):
    response = api_as(team["workspace"], team[Role.VIEWER]).patch("workspaces/acme", {"name": "X"})
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "message": "This token's role does not allow this operation.",
    }


def test_invalid_input_lists_errors_per_field(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.post("invitations", {"email": "not-an-email", "role": "king"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and body["message"]
    assert set(body["errors"]) == {"email", "role"}
    assert body["errors"]["email"] == ["Enter a valid email address, such as name@example.com."]
    assert "owner" in body["errors"]["role"][0]


def test_missing_fields_are_named(team, api_as):
    response = api_as(team["workspace"], team[Role.OWNER]).post("invitations", {})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "email": ["This field is required."],
        "role": ["This field is required."],
    }


def test_invalid_path_and_query_parameters(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.get("members?limit=0")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["limit"]
    response = client.get("members?cursor=abc")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["cursor"]
    response = client.get("members/abc")
    assert response.status_code == 422
    assert response.json()["errors"] == {"member_id": ["Enter a whole number."]}


def test_body_that_is_not_json(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.client.generic(
        "POST", "/api/v1/invitations", "{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert "JSON" in response.json()["message"]


def test_service_refusals_are_conflicts(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.post("invitations", {"email": "editor@example.com", "role": "viewer"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "already a member" in body["message"]


def test_errors_are_utf8_json(team, api_as):
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.patch("workspaces/acme", {"timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert "“Mars/Olympus”" in response.content.decode()
    assert json.loads(response.content)["errors"]["timezone"][0].startswith("“Mars/Olympus”")


def test_wrong_method_is_a_json_405(team, api_as):
    response = api_as(team["workspace"], team[Role.OWNER]).request("PUT", "me")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["code"] == "method_not_allowed"
    assert "PUT" in response.json()["message"]
