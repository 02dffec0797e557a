"""Page and API latency of the foundation, in-process, on a realistic workspace.

Builds a fresh SQLite (or DATABASE_URL) database in a temporary data directory with one
workspace of 200 members, 20,000 audit events and 50 API tokens, then times each page with
Django's test client. Prints one JSON line per page: median and p95 in milliseconds, and
the median's ratio to /healthz measured in the same process (these machines are noisy, so
ratios are what compare between runs).

    .venv/bin/python bench/pages.py [--rounds 200]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def setup_django():
    os.environ.setdefault("TRIBU_DATA_DIR", tempfile.mkdtemp(prefix="tribu-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_workspace():
    from django.utils import timezone

    from tribu.accounts.models import User
    from tribu.api.services.tokens import create_token
    from tribu.core.models import AuditEvent, Membership, WorkerHeartbeat
    from tribu.core.roles import ROLE_ORDER, Role
    from tribu.core.services.workspaces import create_workspace

    owner = User.objects.create_user("owner@bench.example", "bench-password-123")
    workspace = create_workspace(slug="bench", name="Bench", owner=owner)
    users = User.objects.bulk_create(
        [User(email=f"member{n}@bench.example", name=f"Member {n}") for n in range(199)]
    )
    Membership.objects.bulk_create(
        Membership(workspace=workspace, user=user, role=ROLE_ORDER[1 + n % 5])
        for n, user in enumerate(users)
    )
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                workspace=workspace,
                actor=owner,
                actor_label=owner.email,
                action="member.role_changed",
                target_label=f"member{n % 199}@bench.example",
                data={"old_role": Role.VIEWER, "new_role": Role.EDITOR},
                created_at=now - timezone.timedelta(minutes=n),
            )
            for n in range(20_000)
        ),
        batch_size=2000,
    )
    tokens = [
        create_token(workspace=workspace, user=owner, name=f"script {n}", role=Role.ADMIN)[1]
        for n in range(50)
    ]
    WorkerHeartbeat.objects.create(name="bench", version="bench", last_seen_at=now)
    return owner, workspace, tokens[0]


def time_requests(client, path, rounds, **headers):
    durations = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path, **headers)
        durations.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    durations.sort()
    return statistics.median(durations), durations[int(len(durations) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    from django.test import Client

    owner, workspace, token = build_workspace()
    browser = Client()
    browser.force_login(owner)
    anonymous = Client()
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    pages = [
        ("healthz (baseline)", anonymous, "/healthz", {}),
        ("login page", anonymous, "/accounts/login/", {}),
        ("workspace overview", browser, "/w/bench/", {}),
        ("team page, 200 members", browser, "/w/bench/members/", {}),
        ("audit log, 20k events", browser, "/w/bench/audit/", {}),
        ("audit log filtered", browser, "/w/bench/audit/?action=member.", {}),
        ("API tokens page", browser, "/w/bench/tokens/", {}),
        ("API GET /me", Client(), "/api/v1/me", api),
        ("API GET /members", Client(), "/api/v1/members", api),
    ]
    for _label, client, path, headers in pages:  # warm caches and connections
        time_requests(client, path, 5, **headers)
    baseline = None
    for label, client, path, headers in pages:
        median, p95 = time_requests(client, path, args.rounds, **headers)
        baseline = baseline or median
        print(
            json.dumps(
                {
                    "page": label,
                    "path": path,
                    "median_ms": round(median, 2),
                    "p95_ms": round(p95, 2),
                    "ratio_to_healthz": round(median / baseline, 1),
                    "rounds": args.rounds,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
