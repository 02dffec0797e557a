from django.utils.timezone import now

from tribu.core.models import Membership
from tribu.core.roles import Role


def test_me_describes_the_user_and_the_token(team, api_as):
    admin = team[Role.ADMIN]
    admin.name, admin.language, admin.totp_enabled_at = "Ada", "en", now()
    admin.save()
    response = api_as(team["workspace"], admin, role=Role.EDITOR).get("me")

    assert response.status_code == 200
    body = response.json()
    token = body.pop("token")
    assert body == {
        "id": admin.pk,
        "email": "admin@example.com",
        "name": "Ada",
        "language": "en",
        "two_factor_enabled": True,
    }
    assert token["workspace"] == "acme"
    assert (token["role"], token["effective_role"]) == ("editor", "editor")
    assert token["prefix"].startswith("tribu_") and token["name"] == "script"
    assert token["last_used_at"] is not None


def test_me_shows_the_clamped_effective_role(team, api_as):
    client = api_as(team["workspace"], team[Role.ADMIN], role=Role.ADMIN)
    Membership.objects.filter(user=team[Role.ADMIN]).update(role=Role.CONTRIBUTOR)
    token = client.get("me").json()["token"]
    assert (token["role"], token["effective_role"]) == ("admin", "contributor")


def test_me_without_language_preference(team, api_as):
    body = api_as(team["workspace"], team[Role.VIEWER]).get("me").json()
    assert body["language"] is None and body["two_factor_enabled"] is False
