import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from tribu.accounts.models import LoginThrottle
from tribu.accounts.services import throttle


def request_from(ip):
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR=ip)


def fail(times, email="bob@example.com", ip="10.0.0.1"):
    locks = [throttle.record_failure(request_from(ip), email) for _ in range(times)]
    return locks[-1]


def test_lock_durations_double_up_to_an_hour():
    minutes = [throttle.lock_duration(n) / timedelta(minutes=1) for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.django_db
def test_fifth_failure_locks_the_account_for_a_minute(frozen):
    assert fail(4) is None
    assert throttle.current_lock(request_from("10.0.0.9"), "bob@example.com") is None
    lock = fail(1)
    assert lock.scope == "account"
    assert lock.until == timezone.now() + timedelta(minutes=1)
    # The lock is on the account: another IP is refused too, another account is not.
    assert throttle.current_lock(request_from("10.0.0.9"), "BOB@example.com ").minutes == 1
    assert throttle.current_lock(request_from("10.0.0.9"), "carol@example.com") is None


@pytest.mark.django_db
def test_each_further_lockout_doubles(frozen):
    expected = [1, 2, 4, 8, 16, 32, 60, 60]
    for minutes in expected:
        lock = fail(5)
        assert lock.until - timezone.now() == timedelta(minutes=minutes)
        frozen.move_to(lock.until + timedelta(seconds=1))
        assert throttle.current_lock(request_from("10.0.0.1"), "bob@example.com") is None


@pytest.mark.django_db
def test_ip_locks_after_twenty_failures_on_any_accounts(frozen):
    for number in range(19):
        assert throttle.record_failure(request_from("10.0.0.7"), f"u{number}@example.com") is None
    lock = throttle.record_failure(request_from("10.0.0.7"), "u19@example.com")
    assert lock.scope == "ip"
    assert throttle.current_lock(request_from("10.0.0.7"), "new@example.com").minutes == 1
    assert throttle.current_lock(request_from("10.0.0.8"), "new@example.com") is None


@pytest.mark.django_db
def test_reset_account_clears_failures_and_backoff_but_not_the_ip(frozen):
    fail(5)
    frozen.shift(120)
    fail(3)
    throttle.reset_account("Bob@Example.com")
    assert not LoginThrottle.objects.filter(scope="account").exists()
    assert LoginThrottle.objects.get(scope="ip").failures == 8
    # Back to the start: four failures do not lock, the fifth locks for one minute again.
    assert fail(4) is None
    assert fail(1).until - timezone.now() == timedelta(minutes=1)


@pytest.mark.django_db
def test_a_quiet_day_forgets_failures_and_backoff(frozen):
    fail(5)
    frozen.shift(90)
    fail(4)
    frozen.shift(25 * 3600)
    assert fail(4) is None
    assert fail(1).until - timezone.now() == timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted():
    if connection.vendor != "postgresql":
        pytest.skip("the row lock is what is under test; SQLite serialises writers itself")
    threads_count, failures_each = 8, 5
    barrier = threading.Barrier(threads_count)
    errors = []

    def attack(number):
        try:
            barrier.wait()
            for _ in range(failures_each):
                throttle.record_failure(request_from(f"10.3.0.{number}"), "bob@example.com")
        except Exception as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = LoginThrottle.objects.get(scope="account", key="bob@example.com")
    # 40 failures, none lost: 8 lock-outs of 5, and nothing left over.
    assert (row.lockouts, row.failures) == (8, 0)


@pytest.mark.django_db
def test_forget_stale_deletes_only_quiet_counters(frozen):
    fail(1, email="old@example.com", ip="10.4.0.1")
    frozen.shift(25 * 3600)
    fail(1, email="new@example.com", ip="10.4.0.2")
    assert throttle.forget_stale() == 2
    assert set(LoginThrottle.objects.values_list("key", flat=True)) == {
        "new@example.com",
        "10.4.0.2",
    }


def ask_reset(times, email="bob@example.com", ip="10.5.0.1"):
    locks = [throttle.limit_reset_request(request_from(ip), email) for _ in range(times)]
    return locks[-1]


@pytest.mark.django_db
def test_fourth_reset_request_for_an_address_within_the_hour_is_refused(frozen):
    assert ask_reset(1) is None
    frozen.shift(20 * 60)
    assert ask_reset(2) is None
    lock = ask_reset(1, email=" BOB@example.com", ip="10.5.0.2")
    assert lock.scope == "reset_email"
    # The window started with the first request, at NOON: 40 minutes are left.
    assert lock.until - timezone.now() == timedelta(minutes=40)
    assert ask_reset(1, email="carol@example.com") is None
    # The sign-in counters are not touched by reset requests.
    assert throttle.current_lock(request_from("10.5.0.1"), "bob@example.com") is None


@pytest.mark.django_db
def test_reset_window_expires_an_hour_after_its_first_request(frozen):
    ask_reset(3)
    frozen.shift(59 * 60 + 59)
    assert ask_reset(1) is not None
    frozen.shift(1)
    # A new window: three more requests, then refused again.
    assert ask_reset(3) is None
    assert ask_reset(1).until - timezone.now() == timedelta(hours=1)


@pytest.mark.django_db
def test_twenty_reset_requests_per_ip_and_hour(frozen):
    for number in range(20):
        assert ask_reset(1, email=f"u{number}@example.com", ip="10.6.0.1") is None
    lock = ask_reset(1, email="fresh@example.com", ip="10.6.0.1")
    assert lock.scope == "reset_ip"
    assert lock.minutes == 60
    # Refused by its IP, the address was not counted: its own quota is intact.
    assert not LoginThrottle.objects.filter(scope="reset_email", key="fresh@example.com").exists()
    assert ask_reset(1, email="fresh@example.com", ip="10.6.0.2") is None


@pytest.mark.django_db
def test_reaching_a_reset_limit_is_logged_once_per_window(frozen, caplog):
    caplog.set_level("WARNING", logger="tribu.security")
    ask_reset(6)
    records = [record for record in caplog.records if record.name == "tribu.security"]
    assert len(records) == 1
    assert "scope=reset_email key=bob@example.com" in records[0].getMessage()


@pytest.mark.django_db
def test_forget_stale_purges_reset_counters_whose_window_ended(frozen):
    ask_reset(1, email="old@example.com", ip="10.7.0.1")
    fail(1, email="login@example.com", ip="10.7.0.3")
    frozen.shift(60 * 60)
    ask_reset(1, email="new@example.com", ip="10.7.0.2")
    assert throttle.forget_stale() == 2
    assert set(LoginThrottle.objects.values_list("scope", "key")) == {
        ("reset_email", "new@example.com"),
        ("reset_ip", "10.7.0.2"),
        # Sign-in counters keep their day of memory, for the back-off.
        ("account", "login@example.com"),
        ("ip", "10.7.0.3"),
    }
