import pytest


@pytest.mark.django_db
def test_users_language_wins_over_browser_and_cookie(client_for, make_user):
    client = client_for(make_user(language="fr"))
    client.cookies["tribu_language"] = "en"
    response = client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers["Content-Language"] == "fr"
    assert b'<html lang="fr">' in response.content
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.django_db
def test_without_preference_the_cookie_then_the_browser_decide(client_for, make_user):
    client = client_for(make_user(language=""))
    assert (
        client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").headers["Content-Language"] == "fr"
    )
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"] == "en"
    client.cookies["tribu_language"] = "fr"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"] == "fr"


@pytest.mark.django_db
def test_anonymous_visitor_gets_the_browser_language(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.headers["Content-Language"] == "fr"
