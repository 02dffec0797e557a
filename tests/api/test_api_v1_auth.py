"""Bearer tokens are the API's only way in; every refusal is a JSON 401 saying what to do."""

import pytest
from django.test import Client

from api.helpers import ApiClient
from tribu.api.models import ApiToken
from tribu.api.services.tokens import revoke_token
from tribu.core.models import Membership
from tribu.core.roles import Role


def assert_unauthorized(response, fragment):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["code"] == "unauthorized"
    assert fragment in body["message"]
    return body


def test_missing_token_says_how_to_get_one(db):
    body = assert_unauthorized(ApiClient(None).get("me"), "needs an API token")
    assert "API tokens" in body["message"] and "tribu token create" in body["message"]


@pytest.mark.parametrize("header", ["Token abc", "Basic dXNlcjpwYXNz", "Bearer", "Bearer "])
def test_other_schemes_are_refused(db, header):
    response = ApiClient(None, Authorization=header).get("me")
    assert_unauthorized(response, "Authorization: Bearer")


def test_unknown_token(db):
    assert_unauthorized(ApiClient("tribu_" + "A" * 40).get("me"), "unknown")


def test_revoked_token(team, token_for):
    raw = token_for(team["workspace"], team[Role.EDITOR])
    revoke_token(ApiToken.objects.get(), actor=None)
    assert_unauthorized(ApiClient(raw).get("me"), "revoked")


def test_removed_member_loses_access(team, token_for):
    raw = token_for(team["workspace"], team[Role.EDITOR])
    client = ApiClient(raw)
    assert client.get("me").status_code == 200
    Membership.objects.filter(user=team[Role.EDITOR]).delete()
    assert_unauthorized(client.get("me"), "no longer a member")


def test_a_session_is_not_enough(team, client_for):
    """A signed-in browser gets no API access: cookies would bring CSRF back."""
    response = client_for(team[Role.OWNER]).get("/api/v1/me")
    assert response.status_code == 401


def test_token_outranks_the_session_cookie(team, token_for):
    client = Client(
        headers={"Authorization": f"Bearer {token_for(team['workspace'], team[Role.VIEWER])}"}
    )
    client.force_login(team[Role.OWNER])
    assert client.get("/api/v1/me").json()["email"] == "viewer@example.com"


def test_writes_need_no_csrf_token(team, api_as):
    """The test client enforces CSRF checks; a bearer token is all a script sends."""
    client = api_as(team["workspace"], team[Role.OWNER])
    response = client.patch("workspaces/acme", {"name": "Acme Corp"})
    assert response.status_code == 200, response.content


def test_messages_follow_the_users_language(team, api_as):
    team[Role.EDITOR].language = "fr"
    team[Role.EDITOR].save()
    response = api_as(team["workspace"], team[Role.EDITOR]).get("members/999999")
    assert response.status_code == 404
    assert response["Content-Language"] == "fr"


def test_without_a_user_language_accept_language_decides(team, api_as):
    client = api_as(team["workspace"], team[Role.EDITOR], **{"Accept-Language": "fr"})
    assert client.get("members/999999")["Content-Language"] == "fr"
    assert ApiClient(None, **{"Accept-Language": "fr"}).get("me")["Content-Language"] == "fr"
