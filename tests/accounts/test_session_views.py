import re

import pytest
from django.test import Client

from accounts.helpers import PASSWORD, current_code, sign_in
from tribu.core.models import AuditEvent

LOCKED = b"Too many failed sign-ins. Try again in"


def is_signed_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_sign_in_by_email_ignores_case_and_goes_home(client, user, workspace):
    response = sign_in(client, "  ALICE@Example.COM ", PASSWORD)
    assert response.status_code == 302
    assert response.url == "/"
    assert is_signed_in(client)
    event = AuditEvent.objects.get(workspace=workspace, action="security.login")
    assert event.actor == user
    assert event.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_neutral_message(client, user):
    response = sign_in(client, user.email, "wrong password")
    assert response.status_code == 200
    assert b"Email address or password is incorrect." in response.content
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_account_lockout_refuses_even_the_right_password_then_lifts(
    client, user, workspace, frozen
):
    for _ in range(4):
        assert LOCKED not in sign_in(client, user.email, "wrong password").content
    response = sign_in(client, user.email, "wrong password")
    assert b"Too many failed sign-ins. Try again in 1 minute, or reset your password." in (
        response.content
    )
    locked = AuditEvent.objects.get(workspace=workspace, action="security.login_locked")
    assert locked.data == {"scope": "account", "minutes": 1}

    # From another address too: the lock is on the account.
    response = sign_in(client, user.email, PASSWORD, REMOTE_ADDR="10.1.1.1")
    assert LOCKED in response.content
    assert not is_signed_in(client)

    frozen.shift(61)
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    assert is_signed_in(client)


@pytest.mark.django_db
def test_second_lockout_lasts_twice_as_long_and_success_resets(client, user, frozen):
    for _ in range(5):
        sign_in(client, user.email, "wrong password")
    frozen.shift(61)
    for _ in range(4):
        sign_in(client, user.email, "wrong password")
    response = sign_in(client, user.email, "wrong password")
    assert b"Try again in 2 minutes" in response.content
    frozen.shift(121)
    assert sign_in(client, user.email, PASSWORD).status_code == 302

    # The success wiped the account's record: five new failures lock for one minute again.
    other = Client()
    for _ in range(5):
        response = sign_in(other, user.email, "wrong password")
    assert b"Try again in 1 minute," in response.content


@pytest.mark.django_db
def test_lockout_does_not_reveal_whether_the_account_exists(user, frozen):
    def attempts(email):
        client = Client()
        return [sign_in(client, email, "wrong password") for _ in range(6)]

    def page(response, email):
        # The CSRF token differs on every page; the typed address is echoed back.
        html = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
        return response.status_code, html.replace(email.encode(), b"EMAIL")

    real = attempts(user.email)
    unknown = attempts("nobody@example.com")
    for known_response, unknown_response in zip(real, unknown, strict=True):
        assert page(known_response, user.email) == page(unknown_response, "nobody@example.com")
    assert LOCKED in unknown[-1].content


@pytest.mark.django_db
def test_ip_lockout_covers_every_account_from_that_address(client, user, make_user, frozen):
    for number in range(20):
        response = sign_in(client, f"guess{number}@example.com", "wrong", REMOTE_ADDR="10.9.9.9")
    assert LOCKED in response.content
    response = sign_in(client, user.email, PASSWORD, REMOTE_ADDR="10.9.9.9")
    assert LOCKED in response.content
    assert not is_signed_in(client)
    # Another address is not affected.
    assert sign_in(client, user.email, PASSWORD, REMOTE_ADDR="10.9.9.10").status_code == 302


@pytest.mark.django_db
def test_next_on_this_site_is_followed(client, user):
    response = client.post(
        "/accounts/login/?next=/w/new/", {"email": user.email, "password": PASSWORD}
    )
    assert response.url == "/w/new/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/path", "http:///evil.example", "\\\\evil"]
)
def test_open_redirect_through_next_is_refused(client, user, target):
    page = client.get("/accounts/login/", {"next": target})
    assert target.encode() not in page.content
    response = client.post(
        "/accounts/login/?next=" + target, {"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == "/"


@pytest.mark.django_db
def test_logout_requires_post(client_for, user):
    client = client_for(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert is_signed_in(client)
    response = client.post("/accounts/logout/")
    assert response.url == "/accounts/login/"
    assert not is_signed_in(client)


# Two-factor sign-in --------------------------------------------------------------------


@pytest.mark.django_db
def test_two_factor_sign_in_with_a_code(client, two_factor_user, workspace):
    response = client.post(
        "/accounts/login/?next=/w/acme/", {"email": "alice@example.com", "password": PASSWORD}
    )
    assert response.url == "/accounts/login/code/"
    # Password alone signs nobody in.
    assert not is_signed_in(client)
    assert client.get("/w/acme/").status_code == 302

    response = client.post("/accounts/login/code/", {"code": current_code(two_factor_user)})
    assert response.url == "/w/acme/"
    assert is_signed_in(client)
    assert AuditEvent.objects.filter(workspace=workspace, action="security.login").exists()


@pytest.mark.django_db
def test_used_code_cannot_be_replayed(client, two_factor_user):
    code = current_code(two_factor_user)
    sign_in(client, two_factor_user.email, PASSWORD)
    assert client.post("/accounts/login/code/", {"code": code}).status_code == 302
    client.post("/accounts/logout/")

    sign_in(client, two_factor_user.email, PASSWORD)
    response = client.post("/accounts/login/code/", {"code": code})
    assert response.status_code == 200
    assert b"That code is not valid." in response.content
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_recovery_code_signs_in_once(two_factor_user):
    recovery = two_factor_user.recovery_codes_clear[0].lower()
    first = Client()
    sign_in(first, two_factor_user.email, PASSWORD)
    assert first.post("/accounts/login/code/", {"code": recovery}).status_code == 302
    assert is_signed_in(first)

    second = Client()
    sign_in(second, two_factor_user.email, PASSWORD)
    response = second.post("/accounts/login/code/", {"code": recovery})
    assert b"That code is not valid." in response.content
    assert not is_signed_in(second)


@pytest.mark.django_db
def test_second_step_expires_after_five_minutes(client, two_factor_user, frozen):
    sign_in(client, two_factor_user.email, PASSWORD)
    frozen.shift(301)
    response = client.post(
        "/accounts/login/code/", {"code": current_code(two_factor_user)}, follow=True
    )
    assert b"Your sign-in took too long" in response.content
    assert not is_signed_in(client)
    assert client.get("/accounts/login/code/").url == "/accounts/login/"


@pytest.mark.django_db
def test_second_step_is_throttled(client, two_factor_user, frozen):
    sign_in(client, two_factor_user.email, PASSWORD)
    for _ in range(5):
        response = client.post("/accounts/login/code/", {"code": "000000"})
    assert LOCKED in response.content
    response = client.post("/accounts/login/code/", {"code": current_code(two_factor_user)})
    assert LOCKED in response.content
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_right_password_does_not_reset_the_code_counter(client, two_factor_user, frozen):
    """Otherwise an attacker who knows the password could guess codes forever, re-entering
    the password every four guesses."""
    for _ in range(2):
        sign_in(client, two_factor_user.email, PASSWORD)
        for _ in range(2):
            client.post("/accounts/login/code/", {"code": "000000"})
    response = sign_in(client, two_factor_user.email, PASSWORD)
    response = client.post("/accounts/login/code/", {"code": "000000"})
    assert LOCKED in response.content


@pytest.mark.django_db
def test_code_step_without_a_password_step_goes_back_to_sign_in(client, user):
    assert client.get("/accounts/login/code/").url == "/accounts/login/"


@pytest.mark.django_db
def test_admin_sign_in_goes_through_tribus_form(client, make_user):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response.url)
    assert response.url == "/accounts/login/?next=%2Fadmin%2F"
    # The admin's own form cannot be used to guess passwords without throttling.
    posted = client.post("/admin/login/", {"username": "x@example.com", "password": "x"})
    assert posted.url.startswith("/accounts/login/")
    # A signed-in person who is not an operator is refused, not sent round in circles.
    member = Client()
    member.force_login(make_user())
    assert member.get("/admin/login/?next=/admin/").status_code == 403
    operator = Client()
    sign_in(operator, make_user("op@example.com", is_staff=True).email, PASSWORD)
    assert operator.get("/admin/").status_code == 200
