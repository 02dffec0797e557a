from datetime import timedelta

import pyotp
import pytest
from django.db import connection
from django.utils import timezone

from accounts.helpers import PASSWORD, current_code
from tribu.accounts.models import RecoveryCode, User
from tribu.accounts.services import two_factor


@pytest.mark.django_db
def test_secret_is_stored_encrypted_and_inactive_until_confirmed(user):
    secret = two_factor.begin_setup(user)
    user.refresh_from_db()
    assert user.totp_secret == secret
    assert not user.has_two_factor
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [user.pk])
        assert secret not in cursor.fetchone()[0]


@pytest.mark.django_db
def test_enable_refuses_a_wrong_code_and_keeps_two_factor_off(user, frozen):
    two_factor.begin_setup(user)
    wrong = "000000" if current_code(user) != "000000" else "111111"
    with pytest.raises(two_factor.TwoFactorError, match="That code is not valid"):
        two_factor.enable(user, wrong)
    user.refresh_from_db()
    assert not user.has_two_factor
    assert not RecoveryCode.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_enable_gives_ten_distinct_recovery_codes_stored_hashed(two_factor_user):
    codes = two_factor_user.recovery_codes_clear
    assert len(set(codes)) == 10
    stored = set(
        RecoveryCode.objects.filter(user=two_factor_user).values_list("code_hash", flat=True)
    )
    assert stored == {two_factor.hash_recovery_code(code) for code in codes}
    assert not stored & set(codes)


@pytest.mark.django_db
def test_codes_of_the_neighbouring_steps_are_accepted(two_factor_user, frozen):
    generator = pyotp.TOTP(two_factor_user.totp_secret)
    frozen.shift(60)

    def code(steps_away):
        return generator.at(timezone.now() + timedelta(seconds=30 * steps_away))

    assert not two_factor.consume_totp(two_factor_user, code(-2))
    assert two_factor.consume_totp(two_factor_user, code(-1))
    assert two_factor.consume_totp(two_factor_user, code(1))
    assert not two_factor.consume_totp(two_factor_user, code(2))


@pytest.mark.django_db
def test_a_code_is_accepted_once_and_older_steps_never_after(two_factor_user, frozen):
    code = current_code(two_factor_user)
    assert two_factor.consume_totp(two_factor_user, code)
    # A stale copy of the user (another request) cannot spend it either.
    stale = User.objects.get(pk=two_factor_user.pk)
    assert not two_factor.consume_totp(stale, code)
    frozen.shift(30)
    assert two_factor.consume_totp(two_factor_user, current_code(two_factor_user))
    # The code of the previous step is inside the window, but older than the last used one.
    assert not two_factor.consume_totp(two_factor_user, code)


@pytest.mark.django_db
def test_recovery_code_works_once_in_any_case_and_spacing(two_factor_user):
    code = two_factor_user.recovery_codes_clear[3]
    assert two_factor.consume_recovery_code(two_factor_user, f" {code.lower()} ")
    assert not two_factor.consume_recovery_code(two_factor_user, code)
    assert two_factor.remaining_recovery_codes(two_factor_user) == 9


@pytest.mark.django_db
def test_disable_needs_password_and_code(two_factor_user, workspace, frozen):
    with pytest.raises(two_factor.TwoFactorError, match="password is incorrect"):
        two_factor.disable(two_factor_user, "wrong", current_code(two_factor_user))
    with pytest.raises(two_factor.TwoFactorError, match="code is not valid"):
        two_factor.disable(two_factor_user, PASSWORD, "123")
    two_factor.disable(two_factor_user, PASSWORD, current_code(two_factor_user))
    two_factor_user.refresh_from_db()
    assert not two_factor_user.has_two_factor
    assert two_factor_user.totp_secret == ""
    assert not RecoveryCode.objects.filter(user=two_factor_user).exists()


@pytest.mark.django_db
def test_regenerate_replaces_every_recovery_code(two_factor_user):
    old = two_factor_user.recovery_codes_clear
    new = two_factor.regenerate_recovery_codes(two_factor_user, PASSWORD)
    assert not set(old) & set(new)
    assert not two_factor.consume_recovery_code(two_factor_user, old[0])
    assert two_factor.consume_recovery_code(two_factor_user, new[0])


def test_qr_code_is_inline_svg_without_data_urls():
    svg = two_factor.qr_svg("otpauth://totp/Tribu:a%40example.com?secret=ABCDEFGH&issuer=Tribu")
    assert svg.startswith("<svg")
    assert "data:" not in svg
    assert "style=" not in svg
