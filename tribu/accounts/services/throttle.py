"""Sign-in and password-reset throttling, per address and per client IP, kept in the
database.

Failures are counted in LoginThrottle rows so that every web process sees the same
counters without Redis. After THRESHOLD consecutive failures the key is locked; each
further lock-out doubles the lock, up to MAX_LOCK. Account keys are the normalised email
address typed, whether or not an account has it: throttling then behaves the same for
real and unknown addresses and reveals nothing.

Password-reset requests are counted the same way, in their own scopes, but as a fixed
window: at most RESET_LIMIT requests per key in the RESET_WINDOW that starts with the
first one. This stops the reset form from being used to flood a mailbox or to probe.
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tribu.accounts.models import LoginThrottle, User
from tribu.core.services.audit import client_ip

Scope = LoginThrottle.Scope

THRESHOLD = {Scope.ACCOUNT: 5, Scope.IP: 20}
BASE_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)
# A key that has been quiet this long starts again from a clean slate; it is longer than
# MAX_LOCK so that the back-off still grows for someone who waits out each lock.
FORGET_AFTER = timedelta(hours=24)
UNKNOWN_IP = "unknown"

RESET_LIMIT = {Scope.RESET_EMAIL: 3, Scope.RESET_IP: 20}
RESET_WINDOW = timedelta(hours=1)
RESET_SCOPES = tuple(RESET_LIMIT)

security_log = logging.getLogger("tribu.security")


@dataclass(frozen=True)
class Lock:
    scope: str
    until: object

    @property
    def minutes(self):
        """Whole minutes left, rounded up, for the message shown to the person."""
        seconds = (self.until - timezone.now()).total_seconds()
        return max(1, math.ceil(seconds / 60))


def account_key(email):
    return User.objects.normalize_email(email)[:255]


def ip_key(request):
    return (client_ip(request) or UNKNOWN_IP)[:255]


def keys_for(request, email):
    return [(Scope.ACCOUNT, account_key(email)), (Scope.IP, ip_key(request))]


def lock_duration(lockouts):
    """The length of the n-th lock-out in a row: 1, 2, 4 … minutes, capped at MAX_LOCK."""
    return min(BASE_LOCK * 2 ** (lockouts - 1), MAX_LOCK)


def current_lock(request, email):
    """The longest lock in force on this account or this IP, or None."""
    now = timezone.now()
    locks = [
        Lock(scope, until)
        for scope, key in keys_for(request, email)
        for until in LoginThrottle.objects.filter(
            scope=scope, key=key, locked_until__gt=now
        ).values_list("locked_until", flat=True)
    ]
    return max(locks, key=lambda lock: lock.until, default=None)


def _record_failure(scope, key):
    """Count one failure for (scope, key); return the Lock when this failure starts one."""
    LoginThrottle.objects.get_or_create(scope=scope, key=key)
    with transaction.atomic():
        # The row lock serialises concurrent failures on PostgreSQL (SQLite serialises
        # writers with its IMMEDIATE transactions), so no failure is lost and a burst of
        # parallel attempts cannot slip past the threshold.
        row = LoginThrottle.objects.select_for_update().get(scope=scope, key=key)
        now = timezone.now()
        if row.last_failure_at is not None and now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
            row.lockouts = 0
        row.failures += 1
        row.last_failure_at = now
        lock = None
        if row.failures >= THRESHOLD[scope]:
            row.failures = 0
            row.lockouts += 1
            row.locked_until = now + lock_duration(row.lockouts)
            lock = Lock(scope, row.locked_until)
        row.save(update_fields=["failures", "lockouts", "locked_until", "last_failure_at"])
    return lock


def record_failure(request, email):
    """Count a failed sign-in against the account and the IP. Returns the lock that this
    failure starts (the longest one, when both start at once), or None."""
    started = [_record_failure(scope, key) for scope, key in keys_for(request, email)]
    return max((lock for lock in started if lock), key=lambda lock: lock.until, default=None)


def reset_account(email):
    """Forget an account's failures and lock-outs: after a successful sign-in or a password
    reset. The IP counter is left alone, so one valid account does not let an attacker
    wipe the record of failures against the others from the same address."""
    LoginThrottle.objects.filter(scope=Scope.ACCOUNT, key=account_key(email)).delete()


def _count_reset_request(scope, key):
    """Count one reset request for (scope, key) in its window; return the Lock that refuses
    it when the window already holds RESET_LIMIT requests, else None."""
    LoginThrottle.objects.get_or_create(scope=scope, key=key)
    with transaction.atomic():
        # Same row lock as for sign-in failures: parallel requests cannot all slip in.
        row = LoginThrottle.objects.select_for_update().get(scope=scope, key=key)
        now = timezone.now()
        if row.window_started_at is None or now >= row.window_started_at + RESET_WINDOW:
            row.window_started_at = now
            row.failures = 0
            row.locked_until = None
        row.failures += 1
        row.last_failure_at = now
        lock = None
        limit = RESET_LIMIT[scope]
        if row.failures > limit:
            row.locked_until = row.window_started_at + RESET_WINDOW
            lock = Lock(scope, row.locked_until)
        row.save(
            update_fields=[
                "failures",
                "locked_until",
                "last_failure_at",
                "window_started_at",
            ]
        )
    if row.failures == limit + 1:
        # Once per window, when the limit is first passed: a flood of refused requests
        # does not become a flood of log lines.
        security_log.warning(
            "Password reset limit reached: scope=%s key=%s limit=%d per %s, until %s",
            scope,
            key,
            limit,
            RESET_WINDOW,
            lock.until.isoformat(),
        )
    return lock


def limit_reset_request(request, email):
    """Count a password-reset request against the client IP, then against the address.

    Returns None when the reset email may be sent, else the Lock that refuses it: scope
    RESET_IP when this IP sent too many requests (the address is then not counted, so an
    attacker cannot use up someone's quota from an address that is already refused),
    RESET_EMAIL when the address was asked for too often."""
    lock = _count_reset_request(Scope.RESET_IP, ip_key(request))
    if lock is not None:
        return lock
    return _count_reset_request(Scope.RESET_EMAIL, account_key(email))


def forget_stale(now=None):
    """Delete counters that no longer matter, so that guessed addresses do not pile up:
    sign-in counters quiet for longer than FORGET_AFTER (they would be reset anyway) and
    reset counters whose window has ended. The worker's tick runs it hourly. Returns the
    count."""
    now = now or timezone.now()
    deleted, _ = LoginThrottle.objects.filter(
        Q(last_failure_at__lt=now - FORGET_AFTER)
        | Q(scope__in=RESET_SCOPES, window_started_at__lte=now - RESET_WINDOW)
    ).delete()
    return deleted
