import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import translation

from accounts.helpers import NOON, PASSWORD, sign_in
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


def ask_reset_from(client, email, ip):
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_fourth_request_within_an_hour_sends_no_email_and_looks_the_same(
    client, user, outbox, frozen
):
    answers = []
    for minutes in (0, 10, 20, 30):
        frozen.move_to(NOON + timedelta(minutes=minutes))
        answers.append(ask_reset(client, user.email))
    assert len(outbox) == 3
    assert {(answer.status_code, answer.url) for answer in answers} == {
        (302, "/accounts/password-reset/sent/")
    }
    # An hour after the first request, the window has passed: the email goes again.
    frozen.move_to(NOON + timedelta(hours=1))
    ask_reset(client, user.email)
    assert len(outbox) == 4


@pytest.mark.django_db
def test_limited_and_unknown_addresses_get_identical_responses(client, user, outbox, frozen):
    for _ in range(3):
        ask_reset_from(client, user.email, "10.8.0.1")
    limited = ask_reset_from(client, user.email, "10.8.0.1")
    unknown = ask_reset_from(client, "nobody@example.com", "10.8.0.1")
    unknown_limited = [ask_reset_from(client, "nobody@example.com", "10.8.0.1") for _ in range(3)]
    assert len(outbox) == 3
    for answer in [unknown, *unknown_limited]:
        assert (answer.status_code, answer.url) == (limited.status_code, limited.url)
        assert answer.headers.keys() == limited.headers.keys()
    page = client.get(limited.url)
    assert page.status_code == 200
    assert b"Check your email" in page.content


@pytest.mark.django_db
def test_ip_limit_says_how_long_to_wait_and_sends_nothing(client, user, outbox, frozen, caplog):
    caplog.set_level("WARNING", logger="tribu.security")
    for number in range(20):
        frozen.move_to(NOON + timedelta(minutes=number))
        assert ask_reset_from(client, f"u{number}@example.com", "10.9.0.1").status_code == 302
    refused = ask_reset_from(client, user.email, "10.9.0.1")
    assert refused.status_code == 429
    assert b"Too many password reset requests from your network." in refused.content
    # The window began at NOON and it is now NOON + 19 minutes.
    assert b"Try again in 41 minutes." in refused.content
    assert outbox == []
    assert any("scope=reset_ip key=10.9.0.1" in r.getMessage() for r in caplog.records)
    # Another network is not affected.
    assert ask_reset_from(client, user.email, "10.9.0.2").status_code == 302
    assert len(outbox) == 1
