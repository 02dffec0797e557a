import pytest
from django.test import Client

from accounts.helpers import PASSWORD, sign_in
from tribu.core.models import AuditEvent

NEW_PASSWORD = "another long passphrase 7"


@pytest.mark.django_db
def test_settings_page_needs_sign_in(client):
    response = client.get("/accounts/settings/")
    assert response.url == "/accounts/login/?next=/accounts/settings/"


@pytest.mark.django_db
def test_layout_links_the_name_to_the_settings(client_for, make_user):
    client = client_for(make_user(name="Alice Martin"))
    page = client.get("/accounts/settings/")
    assert b'href="/accounts/settings/" class="account-link">Alice Martin' in page.content


@pytest.mark.django_db
def test_save_name_and_language(client_for, user):
    client = client_for(user)
    response = client.post("/accounts/settings/", {"name": "Alice M.", "language": "fr"})
    assert response.url == "/accounts/settings/"
    assert response.cookies["tribu_language"].value == "fr"
    user.refresh_from_db()
    assert (user.name, user.language) == ("Alice M.", "fr")
    assert client.get("/accounts/settings/").headers["Content-Language"] == "fr"

    # Back to the browser's language: the cookie goes too, Accept-Language rules again.
    response = client.post("/accounts/settings/", {"name": "Alice M.", "language": ""})
    assert response.cookies["tribu_language"].value == ""
    user.refresh_from_db()
    assert user.language == ""
    page = client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert page.headers["Content-Language"] == "en"


@pytest.mark.django_db
def test_unknown_language_is_refused(client_for, user):
    response = client_for(user).post("/accounts/settings/", {"name": "", "language": "de"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.language == ""


@pytest.mark.django_db
def test_change_password_keeps_this_session_and_ends_the_others(user, workspace):
    this, other = Client(), Client()
    sign_in(this, user.email, PASSWORD)
    sign_in(other, user.email, PASSWORD)
    response = this.post(
        "/accounts/settings/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.url == "/accounts/settings/"
    assert this.get("/accounts/settings/").status_code == 200
    assert other.get("/accounts/settings/").status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        workspace=workspace, action="security.password_changed", actor=user
    ).exists()


@pytest.mark.django_db
def test_change_password_checks_the_old_one_and_the_validators(client_for, user):
    client = client_for(user)
    wrong_old = client.post(
        "/accounts/settings/password/",
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong_old.status_code == 400
    assert b"Your old password was entered incorrectly" in wrong_old.content
    common = client.post(
        "/accounts/settings/password/",
        {"old_password": PASSWORD, "new_password1": "password123", "new_password2": "password123"},
    )
    assert b"This password is too common." in common.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_password_change_is_post_only(client_for, user):
    assert client_for(user).get("/accounts/settings/password/").status_code == 405
