import re

import pytest
from django.core import mail
from django.utils import translation

from accounts.helpers import PASSWORD, sign_in
from tribu.core.models import AuditEvent

NEW_PASSWORD = "a brand new passphrase 42"
LINK = re.compile(r"https?://\S+/accounts/password-reset/\S+/\S+/")


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TRIBU_BASE_URL = "https://tribu.example.org"
    mail.outbox = []
    return mail.outbox


def ask_reset(client, email):
    return client.post("/accounts/password-reset/", {"email": email})


@pytest.mark.django_db
def test_same_answer_whether_or_not_the_address_exists(client, user, outbox):
    known = ask_reset(client, "ALICE@example.com")
    unknown = ask_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/accounts/password-reset/sent/"
    assert len(outbox) == 1
    assert outbox[0].to == ["alice@example.com"]


@pytest.mark.django_db
def test_reset_end_to_end_signs_in_and_the_link_works_once(client, user, workspace, outbox, frozen):
    # A locked-out account: the reset lifts the lock.
    for _ in range(5):
        sign_in(client, user.email, "wrong password")
    ask_reset(client, user.email)
    message = outbox[0]
    assert message.subject == "Reset your Tribu password"
    link = LINK.search(message.body).group(0)
    assert link.startswith("https://tribu.example.org/accounts/password-reset/")
    path = link.removeprefix("https://tribu.example.org")

    # The token leaves the address bar at once.
    response = client.get(path)
    assert response.url.endswith("/set-password/")
    form_url = response.url
    page = client.get(form_url)
    assert b"Choose a new password" in page.content

    weak = client.post(form_url, {"new_password1": "12345", "new_password2": "12345"})
    assert b"This password is too short." in weak.content

    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.url == "/"
    assert "_auth_user_id" in client.session
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(workspace=workspace, action="security.password_reset").exists()

    # Used once: the same link is now refused.
    client.post("/accounts/logout/")
    again = client.get(path, follow=True)
    assert again.status_code == 400
    assert b"This link no longer works" in again.content
    # And the lock-out is gone: the new password signs in.
    assert sign_in(client, user.email, NEW_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_reset_with_two_factor_still_asks_for_the_code(client, two_factor_user, outbox):
    ask_reset(client, two_factor_user.email)
    path = LINK.search(outbox[0].body).group(0).removeprefix("https://tribu.example.org")
    form_url = client.get(path).url
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.url == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_email_is_in_the_users_language(client, make_user, outbox):
    make_user("lea@example.com", language="fr")
    make_user("bob@example.com", language="")
    ask_reset(client, "lea@example.com")
    # Without a preference, the language of the page the person used.
    client.post(
        "/accounts/password-reset/", {"email": "bob@example.com"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    ask_reset(client, "bob@example.com")
    assert [message.extra_headers["Content-Language"] for message in outbox] == ["fr", "fr", "en"]
    with translation.override("fr"):
        assert outbox[0].subject == translation.gettext("Reset your Tribu password")


@pytest.mark.django_db
def test_tampered_link_is_refused(client, user, outbox):
    ask_reset(client, user.email)
    path = LINK.search(outbox[0].body).group(0).removeprefix("https://tribu.example.org")
    tampered = path[:-3] + ("a" if path[-3] != "a" else "b") + "/"
    page = client.get(client.get(tampered).url)
    assert page.status_code == 400
    assert client.get("/accounts/password-reset/MQ/set-password/").status_code == 400
    assert not user.check_password(NEW_PASSWORD) and user.check_password(PASSWORD)
