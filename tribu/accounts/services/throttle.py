"""Sign-in throttling, per account and per client IP, kept in the database.

Failures are counted in LoginThrottle rows so that every web process sees the same
counters without Redis. After THRESHOLD consecutive failures the key is locked; each
further lock-out doubles the lock, up to MAX_LOCK. Account keys are the normalised email
address typed, whether or not an account has it: throttling then behaves the same for
real and unknown addresses and reveals nothing.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
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


def forget_stale():
    """Delete counters quiet for longer than FORGET_AFTER (they would be reset anyway), so
    that guessed addresses do not pile up. Meant for a periodic task. Returns the count."""
    cutoff = timezone.now() - FORGET_AFTER
    deleted, _ = LoginThrottle.objects.filter(last_failure_at__lt=cutoff).delete()
    return deleted
