import pytest


@pytest.mark.django_db
def test_switch_language_is_saved_on_the_account(client_for, user):
    client = client_for(user)
    response = client.post("/accounts/language/", {"language": "fr", "next": "/w/new/"})
    assert response.url == "/w/new/"
    assert response.cookies["tribu_language"].value == "fr"
    user.refresh_from_db()
    assert user.language == "fr"


@pytest.mark.django_db
def test_switch_language_signed_out_sets_the_cookie(client):
    response = client.post("/accounts/language/", {"language": "fr", "next": "/accounts/login/"})
    assert response.cookies["tribu_language"].value == "fr"
    assert client.get("/accounts/login/").headers["Content-Language"] == "fr"


@pytest.mark.django_db
def test_unknown_language_and_foreign_next_are_ignored(client_for, user):
    client = client_for(user)
    response = client.post(
        "/accounts/language/", {"language": "xx", "next": "https://evil.example/"}
    )
    assert response.url == "/"
    assert "tribu_language" not in response.cookies
    user.refresh_from_db()
    assert user.language == ""


@pytest.mark.django_db
def test_switch_language_is_post_only(client):
    assert client.get("/accounts/language/").status_code == 405
