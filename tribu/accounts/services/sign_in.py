"""The sign-in flow: password, then (when two-factor is on) a second step.

Between the two steps the session only holds the pending user's id and the time the
password was accepted; nobody is signed in until the second factor is checked.
"""

from dataclasses import dataclass

from django.contrib import auth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.accounts.models import User
from tribu.accounts.services import throttle, two_factor
from tribu.accounts.services.events import record_security_event

BACKEND = "django.contrib.auth.backends.ModelBackend"
PENDING_USER = "tribu_2fa_user_id"
PENDING_SINCE = "tribu_2fa_since"
PENDING_NEXT = "tribu_2fa_next"
PENDING_TTL_SECONDS = 5 * 60


class SignInRefused(Exception):
    """A refusal whose message can be shown as is: it never tells whether an account
    exists."""


@dataclass(frozen=True)
class PasswordAccepted:
    user: User
    needs_second_factor: bool


def locked_message(lock):
    return ngettext(
        "Too many failed sign-ins. Try again in %(minutes)d minute, or reset your password.",
        "Too many failed sign-ins. Try again in %(minutes)d minutes, or reset your password.",
        lock.minutes,
    ) % {"minutes": lock.minutes}


def _refuse_if_locked(request, email):
    lock = throttle.current_lock(request, email)
    if lock is not None:
        raise SignInRefused(locked_message(lock))


def _fail(request, email, message):
    lock = throttle.record_failure(request, email)
    if lock is None:
        raise SignInRefused(message)
    user = User.objects.filter(email=throttle.account_key(email), is_active=True).first()
    if user is not None:
        record_security_event(
            user, "security.login_locked", request=request, scope=lock.scope, minutes=lock.minutes
        )
    raise SignInRefused(locked_message(lock))


def check_password(request, email, password):
    """First step. Raises SignInRefused; otherwise returns who passed and whether a second
    factor is still needed. Nothing is signed in yet."""
    _refuse_if_locked(request, email)
    user = auth.authenticate(request, email=email, password=password)
    if user is None:
        _fail(
            request, email, _("Email address or password is incorrect. Check them and try again.")
        )
    return PasswordAccepted(user=user, needs_second_factor=user.has_two_factor)


def complete(request, user):
    """Sign the user in: new session key, account counter reset, audit trail."""
    for key in (PENDING_USER, PENDING_SINCE, PENDING_NEXT):
        request.session.pop(key, None)
    auth.login(request, user, backend=BACKEND)
    throttle.reset_account(user.email)
    record_security_event(user, "security.login", request=request)


def start_second_step(request, user, next_url=""):
    # A fresh session key, so that a session id planted before the password step is
    # useless afterwards.
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_SINCE] = timezone.now().timestamp()
    request.session[PENDING_NEXT] = next_url


def pending_user(request):
    """The user who passed the password step less than 5 minutes ago, or None (and the
    stale state is dropped)."""
    user_id = request.session.get(PENDING_USER)
    since = request.session.get(PENDING_SINCE)
    if user_id is None or since is None:
        return None
    if timezone.now().timestamp() - since > PENDING_TTL_SECONDS:
        for key in (PENDING_USER, PENDING_SINCE, PENDING_NEXT):
            request.session.pop(key, None)
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def pending_next(request):
    return request.session.get(PENDING_NEXT, "")


def check_second_factor(request, user, code):
    """Second step, throttled with the same counters as the password: wrong codes lock the
    account and the IP like wrong passwords do."""
    _refuse_if_locked(request, user.email)
    if not two_factor.verify_second_factor(user, code):
        _fail(
            request,
            user.email,
            _("That code is not valid. Enter the current code from your app or a recovery code."),
        )
