"""The role matrix: docs/roles.md says the same as the code, and every workspace URL obeys it."""

import re
from pathlib import Path

from django.test import Client
from test_isolation import build_kwargs, workspace_routes

from tribu.core.models import Membership
from tribu.core.roles import MATRIX, ROLE_ORDER, has_permission

DOC = Path(__file__).resolve().parent.parent / "docs" / "roles.md"


def parse_roles_doc():
    """The matrix table of docs/roles.md as {permission: (allowed per role, ...)}, and the
    role columns in order."""
    rows, columns = {}, None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "permission":
            columns = cells[2:]
            continue
        match = re.fullmatch(r"`([a-z_.]+)`", cells[0])
        if match:
            rows[match.group(1)] = tuple(cell == "✓" for cell in cells[2:])
            assert all(cell in ("", "✓") for cell in cells[2:]), line
    return columns, rows


def test_docs_roles_md_is_the_matrix():
    columns, rows = parse_roles_doc()
    assert columns == [role.value for role in ROLE_ORDER]
    assert rows == {permission: row for permission, (_description, row) in MATRIX.items()}
    assert list(rows) == list(MATRIX)


def test_every_workspace_url_obeys_the_matrix(make_workspace, make_user):
    workspace = make_workspace()
    members = {role: make_user() for role in ROLE_ORDER}
    clients, problems = {}, []
    for role, user in members.items():
        clients[role] = Client()
        clients[role].force_login(user)
    for route in workspace_routes():
        permission = getattr(route.callback, "tribu_permission", None)
        assert permission is not None, (
            f"{route.route} ({route.name}) takes a workspace but its view does not declare a "
            "permission: decorate it with @workspace_view(permission) from tribu.core.access"
        )
        for role in ROLE_ORDER:
            allowed = has_permission(role, permission)
            for method in ("get", "post"):
                # Recreated before each request: a POST may have changed the role, or
                # removed the member (leave, remove).
                Membership.objects.update_or_create(
                    workspace=workspace, user=members[role], defaults={"role": role}
                )
                kwargs, _objects = build_kwargs(route, workspace, members[role])
                response = getattr(clients[role], method)(route.url(**kwargs))
                where = f"{method.upper()} {route.name} as {role} ({permission})"
                if allowed and response.status_code in (403, 404):
                    problems.append(f"{where}: allowed, but answered {response.status_code}")
                if not allowed and response.status_code != 403:
                    problems.append(f"{where}: forbidden, but answered {response.status_code}")
    assert not problems, "Workspace URLs that disagree with MATRIX:\n" + "\n".join(problems)
