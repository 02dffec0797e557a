"""The first hour of a new team, in a real browser: sign in, create a workspace, invite a
colleague, switch to French; the colleague opens the emailed link, signs up and arrives."""

import re

import pytest
from django.core import mail

from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_onboarding(browser, page, live_server, make_user, settings):
    # The emailed link must point at the server under test.
    settings.TRIBU_BASE_URL = live_server.url
    make_user("alice@example.com", name="Alice")

    # Sign in through the form.
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Create a workspace through the form.
    page.goto(f"{live_server.url}/w/new/")
    page.get_by_label("Name").fill("Café Lumière")
    page.get_by_label("Address").fill("cafe")
    page.get_by_role("button", name="Create the workspace").click()
    page.wait_for_url(re.compile(r"/w/cafe/$"))
    assert page.locator("h1").inner_text() == "Café Lumière"

    # Invite a member through the team page.
    page.get_by_role("link", name="Team").click()
    page.wait_for_url(re.compile(r"/w/cafe/members/$"))
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Email address").fill("bob@example.com")
    invite.get_by_label("Role").select_option("editor")
    invite.get_by_role("button", name="Send the invitation").click()
    assert page.get_by_text("Invitation sent to bob@example.com").is_visible()
    assert page.locator("table").get_by_text("bob@example.com").is_visible()
    [email] = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", email.body).group(0)

    # Switch the interface to French with the language switcher (it submits on change).
    script_ran = page.evaluate("document.documentElement.classList.contains('js')")
    page.locator("#language-select").select_option("fr")
    if not script_ran:  # the no-script path: the switcher shows its own button
        page.locator(".language-switcher").get_by_role("button").click()
    page.wait_for_selector("html[lang=fr]", state="attached")
    french_sign_out = page.get_by_role("button", name="Se déconnecter").count()
    french_team = page.get_by_role("link", name="Équipe").count()

    # The colleague opens the link in their own browser, signs up and sees the workspace.
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris")
    try:
        bob = context.new_page()
        bob.set_default_timeout(10_000)
        bob.goto(link)
        bob.get_by_label("Your name").fill("Bob")
        bob.get_by_label("Password").first.fill(PASSWORD)
        bob.get_by_label("Confirm password").fill(PASSWORD)
        bob.get_by_role("button", name="Create my account and join").click()
        bob.wait_for_url(re.compile(r"/w/cafe/$"))
        assert bob.locator("h1").inner_text() == "Café Lumière"
        assert bob.get_by_text("Your role is Editor").is_visible()
    finally:
        context.close()

    # Checked last, so that the flow above is proven even while these fail.
    assert script_ran, (
        "tribu.js did not run: /static/tribu/ is not served (tribu/static needs to be in "
        "STATICFILES_DIRS)"
    )
    assert french_sign_out == 1, "the sign-out button is not translated to “Se déconnecter”"
    assert french_team == 1, "the Team link is not translated to “Équipe”"
