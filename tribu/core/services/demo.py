"""The demo account and workspace that `make run` creates, idempotently.

The generated password is kept in TRIBU_DATA_DIR/demo-login.txt (0600) so that every run of
`tribu demo` can print the same login; the database only keeps a hash of it.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tribu.accounts.models import User
from tribu.core.models import Membership, Workspace
from tribu.core.roles import Role
from tribu.core.services.workspaces import create_workspace

DEMO_EMAIL = "demo@tribu.local"
DEMO_NAME = "Démo"
DEMO_SLUG = "demo"
DEMO_WORKSPACE_NAME = "Maison Lumière"
LOGIN_FILE = "demo-login.txt"
# Teammates give the demo something to look at; they cannot sign in (unusable passwords).
DEMO_TEAM = [
    ("camille@tribu.local", "Camille Durand", Role.EDITOR),
    ("hugo@tribu.local", "Hugo Martin", Role.APPROVER),
]


@dataclass
class DemoLogin:
    email: str
    password: str | None  # None when the generated password is unknown or was changed
    password_changed: bool
    workspace_slug: str
    created: bool


def login_file(data_dir=None):
    return Path(data_dir or settings.DATA_DIR) / LOGIN_FILE


def read_saved_password(path):
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def save_password(path, password):
    """Write the password with 0600 permissions, atomically (temp file + rename)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    os.replace(temporary, path)


@transaction.atomic
def ensure_demo(data_dir=None):
    """Create whatever part of the demo is missing; change nothing that exists."""
    path = login_file(data_dir)
    saved = read_saved_password(path)
    created = False

    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        # Reuse a saved password (the database was reset but the data dir kept) so that the
        # printed login stays the same.
        password = saved or secrets.token_urlsafe(12)
        user = User.objects.create_user(DEMO_EMAIL, password, name=DEMO_NAME, language="fr")
        if saved != password:
            save_password(path, password)
        created = True
    else:
        password = saved if saved and user.check_password(saved) else None

    workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
    if workspace is None:
        workspace = create_workspace(
            slug=DEMO_SLUG,
            name=DEMO_WORKSPACE_NAME,
            owner=user,
            timezone="Europe/Paris",
            language=Workspace.Language.FRENCH,
        )
        created = True
        for email, name, role in DEMO_TEAM:
            teammate = User.objects.filter(email=email).first()
            if teammate is None:
                teammate = User.objects.create_user(email, None, name=name, language="fr")
            Membership.objects.get_or_create(
                workspace=workspace, user=teammate, defaults={"role": role}
            )
    # Listening: topics, paused sources and two months of generated mentions (idempotent).
    from tribu.listening.services.demo import ensure_listening_demo

    ensure_listening_demo(workspace)
    # Alerts: the demo's competitor bad buzz (six days ago) as an open alert.
    from tribu.alerts.services.demo import ensure_alerts_demo

    ensure_alerts_demo(workspace)
    # Publishing: demo channels (never contacted), published posts, a ritual, approvals.
    from tribu.publishing.services.demo import ensure_publishing_demo

    ensure_publishing_demo(workspace)
    return DemoLogin(
        email=DEMO_EMAIL,
        password=password,
        password_changed=password is None and saved is not None,
        workspace_slug=workspace.slug,
        created=created,
    )
