import re

import pyotp
import pytest

from accounts.helpers import PASSWORD, current_code
from tribu.core.models import AuditEvent

RECOVERY = re.compile(rb"<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>")


@pytest.mark.django_db
def test_enable_two_factor_from_the_settings_page(client_for, user, workspace, frozen):
    client = client_for(user)
    settings_page = client.get("/accounts/settings/")
    assert b"/accounts/settings/two-factor/" in settings_page.content

    setup = client.get("/accounts/settings/two-factor/")
    assert setup.status_code == 200
    assert b"<svg" in setup.content and b"data:image" not in setup.content
    user.refresh_from_db()
    assert user.totp_secret.encode() in setup.content
    # Reloading shows the same secret: the app may already have scanned it.
    assert client.get("/accounts/settings/two-factor/").content.count(user.totp_secret.encode())

    refused = client.post("/accounts/settings/two-factor/", {"code": "12"})
    assert refused.status_code == 400
    user.refresh_from_db()
    assert not user.has_two_factor

    done = client.post("/accounts/settings/two-factor/", {"code": current_code(user)})
    assert done.status_code == 200
    codes = RECOVERY.findall(done.content)
    assert len(codes) == 10
    user.refresh_from_db()
    assert user.has_two_factor
    assert AuditEvent.objects.filter(workspace=workspace, action="security.2fa_enabled").exists()
    # Once on, the set-up page sends back to the settings, which no longer show the codes.
    assert client.get("/accounts/settings/two-factor/").url == "/accounts/settings/"
    settings_page = client.get("/accounts/settings/")
    assert b"10 unused recovery codes" in settings_page.content
    assert codes[0] not in settings_page.content


@pytest.mark.django_db
def test_disable_asks_for_password_and_code(client_for, two_factor_user, workspace):
    client = client_for(two_factor_user)
    response = client.post(
        "/accounts/settings/two-factor/disable/",
        {"password": "wrong", "code": current_code(two_factor_user)},
    )
    assert response.status_code == 400
    assert b"Your password is incorrect." in response.content
    two_factor_user.refresh_from_db()
    assert two_factor_user.has_two_factor

    response = client.post(
        "/accounts/settings/two-factor/disable/",
        {"password": PASSWORD, "code": two_factor_user.recovery_codes_clear[0]},
    )
    assert response.url == "/accounts/settings/"
    two_factor_user.refresh_from_db()
    assert not two_factor_user.has_two_factor
    assert AuditEvent.objects.filter(workspace=workspace, action="security.2fa_disabled").exists()


@pytest.mark.django_db
def test_regenerate_recovery_codes(client_for, two_factor_user, workspace):
    client = client_for(two_factor_user)
    refused = client.post("/accounts/settings/two-factor/recovery-codes/", {"password": "nope"})
    assert refused.status_code == 400
    response = client.post("/accounts/settings/two-factor/recovery-codes/", {"password": PASSWORD})
    new_codes = [code.decode() for code in RECOVERY.findall(response.content)]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(two_factor_user.recovery_codes_clear)
    assert AuditEvent.objects.filter(
        workspace=workspace, action="security.recovery_codes_regenerated"
    ).exists()


@pytest.mark.django_db
def test_two_factor_pages_need_a_signed_in_user(client):
    response = client.get("/accounts/settings/two-factor/")
    assert response.url.startswith("/accounts/login/?next=")
    assert client.post("/accounts/settings/two-factor/disable/").status_code == 302


@pytest.mark.django_db
def test_setup_then_sign_in_uses_the_new_secret(client_for, client, user, frozen):
    owner = client_for(user)
    owner.get("/accounts/settings/two-factor/")
    user.refresh_from_db()
    owner.post("/accounts/settings/two-factor/", {"code": current_code(user)})
    frozen.shift(30)
    client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    code = pyotp.TOTP(user.totp_secret).now()
    assert client.post("/accounts/login/code/", {"code": code}).url == "/"
