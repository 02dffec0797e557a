from datetime import timedelta

import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tribu.core import tick


def test_healthy_when_a_worker_beat_recently(client, db):
    tick.beat("host:1")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "worker": "ok",
        "version": settings.VERSION,
    }
    assert "no-cache" in response["Cache-Control"]


def test_unhealthy_when_no_worker_ever_reported(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["worker"]) == ("error", "ok", "missing")
    assert "tribu worker" in body["reason"]


def test_unhealthy_when_the_heartbeat_is_older_than_two_minutes(client, db):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        tick.beat("host:1")
    with time_machine.travel(start + timedelta(seconds=119), tick=False):
        assert client.get("/healthz").status_code == 200
    with time_machine.travel(start + timedelta(seconds=125), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["worker"] == "stale"
    assert "125 s ago" in body["reason"]


def test_the_freshest_of_several_workers_counts(client, db):
    now = timezone.now()
    tick.beat("old:1", now=now - timedelta(minutes=10))
    tick.beat("new:2", now=now)
    assert client.get("/healthz").status_code == 200


def test_unhealthy_when_the_database_fails(client, db):
    # A real database error (the test transaction rolls the DROP back afterwards), e.g. a
    # database that was never migrated.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE core_workerheartbeat")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["worker"]) == ("error", "error", "unknown")
    assert "database error" in body["reason"]
