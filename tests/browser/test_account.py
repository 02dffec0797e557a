"""The account pages in a real browser: settings (name, language, password), two-factor
authentication from set-up to signing in with a code and with a recovery code, the
password reset by email, and the message shown once sign-in is throttled."""

import re
import time

import pyotp
import pytest
from django.core import mail
from playwright.sync_api import expect

from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Lanterne-Bleue-2024"


def sign_in(page, live_server, email="alice@example.com", password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_settings_change_password_then_name_and_language(page, live_server, make_user):
    make_user("alice@example.com", name="Alice")
    sign_in(page, live_server)
    page.wait_for_url(re.compile(r"/$"))

    # The account link in the top bar carries the person's name and opens the settings.
    page.get_by_role("link", name="Alice", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/settings/$"))
    expect(page.locator("h1")).to_have_text("Your account")

    # Change the password, then prove it by signing out and in with the new one.
    password = page.get_by_role("region", name="Password")
    password.get_by_label("Old password").fill(PASSWORD)
    password.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    password.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    password.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()
    sign_out(page)
    sign_in(page, live_server, password=PASSWORD)
    expect(page.get_by_text("Email address or password is incorrect")).to_be_visible()
    sign_in(page, live_server, password=NEW_PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Name and interface language: the page comes back in French, under the new name.
    page.goto(f"{live_server.url}/accounts/settings/")
    profile = page.get_by_role("region", name="Profile and language")
    profile.get_by_label("Name").fill("Alice Martin")
    profile.get_by_label("Interface language").select_option("fr")
    profile.get_by_role("button", name="Save").click()
    page.wait_for_selector("html[lang=fr]", state="attached")
    expect(page.locator("h1")).to_have_text("Votre compte")
    expect(page.get_by_text("Vos paramètres ont été enregistrés.")).to_be_visible()
    expect(page.get_by_role("link", name="Alice Martin")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_two_factor_set_up_then_sign_in_with_a_code_and_a_recovery_code(
    page, live_server, make_user
):
    make_user("alice@example.com", name="Alice")
    sign_in(page, live_server)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{live_server.url}/accounts/settings/")
    two_factor = page.get_by_role("region", name="Two-factor authentication")
    expect(two_factor.get_by_text("Off", exact=True)).to_be_visible()
    two_factor.get_by_role("link", name="Set up two-factor authentication").click()
    page.wait_for_url(re.compile(r"/accounts/settings/two-factor/$"))

    # The QR code is drawn, and the key is written out for those who cannot scan it.
    expect(page.get_by_role("img", name="QR code for your authenticator app").first).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    # A wrong code is refused with an explanation.
    accepted = {totp.at(time.time() + offset) for offset in (-30, 0, 30)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in accepted)
    page.get_by_label("Code from your app").fill(wrong)
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()
    # The previous step's code (still accepted) confirms, leaving the current one for sign-in:
    # a code is accepted once only.
    page.get_by_label("Code from your app").fill(totp.at(time.time() - 30))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("Two-factor authentication is on.")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert all(re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code) for code in codes), codes
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(re.compile(r"/accounts/settings/$"))
    two_factor = page.get_by_role("region", name="Two-factor authentication")
    expect(two_factor.get_by_text("On", exact=True)).to_be_visible()
    expect(two_factor.get_by_text("You have 10 unused recovery codes left.")).to_be_visible()

    # Signing in now asks for the code from the app.
    sign_out(page)
    sign_in(page, live_server)
    page.wait_for_url(re.compile(r"/accounts/login/code/$"))
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    page.get_by_label("Authentication code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Or for one of the recovery codes, which then is spent.
    sign_out(page)
    sign_in(page, live_server)
    page.wait_for_url(re.compile(r"/accounts/login/code/$"))
    page.get_by_label("Authentication code").fill(codes[0].lower())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{live_server.url}/accounts/settings/")
    expect(page.get_by_text("You have 9 unused recovery codes left.")).to_be_visible()

    # The spent recovery code does not open a second session.
    sign_out(page)
    sign_in(page, live_server)
    page.wait_for_url(re.compile(r"/accounts/login/code/$"))
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()


def test_password_reset_by_email(page, live_server, make_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TRIBU_BASE_URL = live_server.url
    make_user("alice@example.com", name="Alice")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url(re.compile(r"/accounts/password-reset/$"))
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url(re.compile(r"/accounts/password-reset/sent/$"))
    expect(page.locator("h1")).to_have_text("Check your email")

    [email] = mail.outbox
    assert email.to == ["alice@example.com"]
    link = re.search(r"https?://\S+/accounts/password-reset/\S+/\S+/", email.body).group(0)

    page.goto(link)
    # The token leaves the address bar at once.
    page.wait_for_url(re.compile(r"/accounts/password-reset/[^/]+/set-password/$"))
    expect(page.locator("h1")).to_have_text("Choose a new password")
    page.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # The link works once.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This link no longer works")

    # The new password signs in.
    sign_out(page)
    sign_in(page, live_server, password=NEW_PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_repeated_failed_sign_ins_are_throttled(page, live_server, make_user):
    make_user("alice@example.com", name="Alice")
    for _attempt in range(4):
        sign_in(page, live_server, password="not-the-password")
        expect(
            page.get_by_text("Email address or password is incorrect. Check them and try again.")
        ).to_be_visible()
    # The fifth failure locks the account for a minute, and says so.
    sign_in(page, live_server, password="not-the-password")
    locked = "Too many failed sign-ins. Try again in 1 minute, or reset your password."
    expect(page.get_by_text(locked)).to_be_visible()
    # While locked, even the right password is refused with the same message.
    sign_in(page, live_server)
    expect(page.get_by_text(locked)).to_be_visible()
    assert page.url.endswith("/accounts/login/")
