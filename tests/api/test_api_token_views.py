import re

from tribu.api.models import ApiToken
from tribu.api.services.tokens import authenticate, create_token
from tribu.core.models import AuditEvent
from tribu.core.roles import Role

URL = "/w/acme/tokens/"


def test_page_lists_my_tokens_and_offers_my_role_or_weaker(team, client_for):
    create_token(team["workspace"], team[Role.EDITOR], name="mine", role=Role.VIEWER)
    create_token(team["workspace"], team[Role.VIEWER], name="someone else's", role=Role.VIEWER)
    response = client_for(team[Role.EDITOR]).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "mine" in html and "someone else" not in html
    role_select = re.search(r'<select name="role".*?</select>', html, re.S).group(0)
    offered = re.findall(r'<option value="(\w+)"', role_select)
    assert offered == [Role.EDITOR, Role.APPROVER, Role.CONTRIBUTOR, Role.VIEWER]


def test_create_shows_the_token_once(team, client_for):
    client = client_for(team[Role.EDITOR])
    response = client.post(URL, {"name": "report script", "role": Role.CONTRIBUTOR})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r'id="new-token-value">(tribu_[\w-]+)<', response.content.decode()).group(1)
    assert 'data-copy="new-token-value"' in response.content.decode()
    access = authenticate(raw)
    assert (access.user, access.role, access.token.name) == (
        team[Role.EDITOR],
        Role.CONTRIBUTOR,
        "report script",
    )
    assert raw not in client.get(URL).content.decode()


def test_a_role_above_mine_is_refused(team, client_for):
    response = client_for(team[Role.EDITOR]).post(URL, {"name": "x", "role": Role.ADMIN})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_my_token(team, client_for):
    token, _raw = create_token(team["workspace"], team[Role.VIEWER], name="x", role=Role.VIEWER)
    response = client_for(team[Role.VIEWER]).post(f"{URL}{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoked", actor=team[Role.VIEWER]).exists()


def test_others_tokens_are_404_unless_admin(team, client_for):
    token, _raw = create_token(team["workspace"], team[Role.VIEWER], name="v", role=Role.VIEWER)
    assert client_for(team[Role.EDITOR]).post(f"{URL}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None

    admin = client_for(team[Role.ADMIN])
    assert "viewer@example.com" in admin.get(URL).content.decode()
    assert admin.post(f"{URL}{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoke_needs_post_and_membership(team, client_for, make_workspace, fast_user):
    token, _raw = create_token(team["workspace"], team[Role.VIEWER], name="v", role=Role.VIEWER)
    assert client_for(team[Role.VIEWER]).get(f"{URL}{token.pk}/revoke/").status_code == 405
    outsider = fast_user()
    make_workspace(slug="globex", owner=outsider)
    client = client_for(outsider)
    assert client.get(URL).status_code == 404
    assert client.post(f"{URL}{token.pk}/revoke/").status_code == 404
    assert client.post(f"/w/globex/tokens/{token.pk}/revoke/").status_code == 404


def test_page_needs_sign_in(team, client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_navigation_links_to_the_page(team, client_for):
    html = client_for(team[Role.VIEWER]).get("/w/acme/").content.decode()
    assert f'href="{URL}"' in html
