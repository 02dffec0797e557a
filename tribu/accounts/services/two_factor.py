"""Optional TOTP two-factor authentication (RFC 6238) with single-use recovery codes."""

import hashlib
import secrets

import pyotp
import segno
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.accounts.models import RecoveryCode, User
from tribu.accounts.services.events import record_security_event

ISSUER = "Tribu"
# Codes from the previous and the next 30-second step are accepted too, for clock drift
# and for the person who types a code just as it changes.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# No 0/O or 1/I/L: recovery codes are often copied by hand from paper.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class TwoFactorError(ValueError):
    pass


def totp(secret):
    return pyotp.TOTP(secret)


def begin_setup(user):
    """Give the user a fresh, not yet enabled secret. It is stored encrypted on the account
    (never in the session) and only counts once confirmed with a code."""
    if user.has_two_factor:
        raise TwoFactorError(_("Two-factor authentication is already on."))
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_last_step"])
    return user.totp_secret


def provisioning_uri(user):
    return totp(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri):
    """The otpauth:// URI as an inline SVG QR code: no image request, no data: URL."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, border=2, omitsize=True, title=_("QR code for your authenticator app")
    )


def normalise_code(code):
    return "".join((code or "").split()).replace("-", "").upper()


def matching_step(secret, code, *, at=None):
    """The time step (within the accepted window) whose code equals `code`, or None."""
    code = normalise_code(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    generator = totp(secret)
    now = at or timezone.now()
    current = generator.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if secrets.compare_digest(generator.generate_otp(step), code):
            return step
    return None


def consume_totp(user, code):
    """Accept a TOTP code once: the conditional UPDATE only wins for a step later than the
    last one used, so two requests with the same code cannot both succeed."""
    if not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code)
    if step is None:
        return False
    won = (
        User.objects.filter(pk=user.pk)
        .filter(Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step))
        .update(totp_last_step=step)
    )
    if won:
        user.totp_last_step = step
    return bool(won)


def hash_recovery_code(code):
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_recovery_code():
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def consume_recovery_code(user, code):
    """Spend one unused recovery code; the conditional UPDATE makes it single-use even
    under concurrent requests."""
    code = normalise_code(code)
    if len(code) != 10:
        return False
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_hash=hash_recovery_code(code), used_at__isnull=True
        ).update(used_at=timezone.now())
    )


def verify_second_factor(user, code):
    """A current TOTP code or an unused recovery code, either spent by this call."""
    return consume_totp(user, code) or consume_recovery_code(user, code)


def _replace_recovery_codes(user):
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=hash_recovery_code(code)) for code in codes
    )
    return codes


def remaining_recovery_codes(user):
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def enable(user, code, *, request=None):
    """Turn two-factor on once the person proves their app has the secret. Returns the new
    recovery codes in clear, to be shown once."""
    if user.has_two_factor:
        raise TwoFactorError(_("Two-factor authentication is already on."))
    if not user.totp_secret:
        raise TwoFactorError(_("Start the set-up again: no secret was prepared."))
    if not consume_totp(user, code):
        raise TwoFactorError(
            _(
                "That code is not valid. Check that your phone's clock is right and enter "
                "the 6-digit code your app shows now."
            )
        )
    user.totp_enabled_at = timezone.now()
    user.save(update_fields=["totp_enabled_at"])
    codes = _replace_recovery_codes(user)
    record_security_event(user, "security.2fa_enabled", request=request)
    return codes


@transaction.atomic
def disable(user, password, code, *, request=None):
    if not user.has_two_factor:
        raise TwoFactorError(_("Two-factor authentication is already off."))
    if not user.check_password(password):
        raise TwoFactorError(_("Your password is incorrect. Check it and try again."))
    if not verify_second_factor(user, code):
        raise TwoFactorError(_("That code is not valid. Enter a current code or a recovery code."))
    user.totp_secret = ""
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_enabled_at", "totp_last_step"])
    RecoveryCode.objects.filter(user=user).delete()
    record_security_event(user, "security.2fa_disabled", request=request)


@transaction.atomic
def regenerate_recovery_codes(user, password, *, request=None):
    if not user.has_two_factor:
        raise TwoFactorError(_("Turn on two-factor authentication first."))
    if not user.check_password(password):
        raise TwoFactorError(_("Your password is incorrect. Check it and try again."))
    codes = _replace_recovery_codes(user)
    record_security_event(user, "security.recovery_codes_regenerated", request=request)
    return codes
