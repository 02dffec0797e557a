"""Every operation of the API, enumerated from its OpenAPI schema, is proved to:

- answer 404 to a token of workspace A for each object of workspace B (never 403);
- answer 403 exactly when the token's role lacks the operation's registered permission.

New operations are covered automatically; one whose path has a new parameter fails with
"add a factory for <param>", and one with a request body with "add a body for ...".
"""

import re
import secrets

import pytest
from django.urls import reverse

from api.helpers import ApiClient
from tribu.api.v1.api import api
from tribu.api.v1.permissions import operation_permissions
from tribu.core.models import Membership
from tribu.core.roles import Role, has_permission
from tribu.core.services import members as members_service
from tribu.listening.items import ParsedItem
from tribu.listening.services import ingest as listening_ingest
from tribu.listening.services import sources as listening_sources
from tribu.listening.services import topics as listening_topics

OPERATIONS = sorted(operation_permissions(api).items())
SCHEMA = api.get_openapi_schema(path_prefix="")


def new_member(workspace):
    """A contributor: any role that manages members may change or remove one."""
    user = Membership.objects.create(
        workspace=workspace,
        user=type(workspace.memberships.first().user).objects.create_user(
            f"target-{secrets.token_hex(4)}@example.com", None
        ),
        role=Role.CONTRIBUTOR,
    )
    return user.pk


def new_invitation(workspace):
    invitation, _raw = members_service.invite(
        workspace,
        email=f"invitee-{secrets.token_hex(4)}@example.com",
        role=Role.VIEWER,
        invited_by=None,
    )
    return invitation.pk


def new_source(workspace):
    # .example hosts never resolve, so no test reaches the network.
    url = f"https://feed-{secrets.token_hex(4)}.example/rss"
    return listening_sources.create_source(workspace, kind="feed", url=url).pk


def new_topic(workspace):
    name = f"Topic {secrets.token_hex(4)}"
    return listening_topics.create_topic(workspace, name=name, query="tribu").pk


def new_mention(workspace):
    unique = secrets.token_hex(8)
    item = ParsedItem(url=f"https://blog.example/{unique}", title="Tribu", text=unique)
    return listening_ingest.ingest_items(workspace.pk, [item]).mention_ids[0]


# One factory per path parameter name: workspace -> a value naming an object of it.
PATH_FACTORIES = {
    "slug": lambda workspace: workspace.slug,
    "member_id": new_member,
    "invitation_id": new_invitation,
    "source_id": new_source,
    "topic_id": new_topic,
    "mention_id": new_mention,
}

# A valid body for each operation that takes one, so that allowed roles succeed.
BODIES = {
    ("PATCH", "/workspaces/{slug}"): lambda: {"name": "Renamed"},
    ("PATCH", "/members/{member_id}"): lambda: {"role": Role.VIEWER},
    ("POST", "/invitations"): lambda: {
        "email": f"new-{secrets.token_hex(4)}@example.com",
        "role": Role.VIEWER,
    },
    ("POST", "/sources"): lambda: {
        "kind": "feed",
        "url": f"https://feed-{secrets.token_hex(4)}.example/rss",
    },
    ("PATCH", "/sources/{source_id}"): lambda: {"name": "Renamed", "paused": True},
    ("POST", "/topics"): lambda: {"name": f"Topic {secrets.token_hex(4)}", "query": "tribu"},
    ("PATCH", "/topics/{topic_id}"): lambda: {"query": "tribu OR lumière"},
    ("POST", "/topics/backtest"): lambda: {"query": "tribu", "days": 7},
    ("PATCH", "/mentions/{mention_id}"): lambda: {"read": True, "starred": True},
}


def fill(path, workspace):
    def value(match):
        name = match.group(1)
        if name not in PATH_FACTORIES:
            pytest.fail(f"add a factory for {name} in PATH_FACTORIES")
        return str(PATH_FACTORIES[name](workspace))

    root = reverse("api-v1:api-root").rstrip("/")
    return root + re.sub(r"{(\w+)}", value, path)


def body_for(method, path):
    if "requestBody" not in SCHEMA["paths"][path][method.lower()]:
        return None
    if (method, path) not in BODIES:
        pytest.fail(f"add a body for {method} {path} in BODIES")
    return BODIES[(method, path)]()


def operation_id(item):
    (method, path), _permission = item
    return f"{method} {path}"


def test_operations_are_enumerated():
    paths = {path for (_method, path), _permission in OPERATIONS}
    assert {"/me", "/workspaces/{slug}", "/members/{member_id}", "/invitations"} <= paths


@pytest.fixture
def workspace_b(make_workspace, fast_user):
    owner = fast_user("b-owner@example.com")
    workspace = make_workspace(slug="globex", name="Globex", owner=owner)
    Membership.objects.create(
        workspace=workspace, user=fast_user("b-member@example.com"), role=Role.EDITOR
    )
    return workspace


@pytest.mark.parametrize("operation", OPERATIONS, ids=operation_id)
def test_workspace_b_is_invisible_to_a_token_of_workspace_a(
    operation, team, workspace_b, token_for
):
    (method, path), _permission = operation
    client = ApiClient(token_for(team["workspace"], team[Role.OWNER]))
    response = client.request(method, fill(path, workspace_b), body_for(method, path))
    if "{" in path:
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
    else:
        # Collections are answered from workspace A alone.
        assert response.status_code < 400, response.content
        for marker in ("globex", "Globex", "b-owner@example.com", "b-member@example.com"):
            assert marker not in response.content.decode()


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("operation", OPERATIONS, ids=operation_id)
def test_each_role_gets_exactly_what_the_matrix_allows(operation, role, team, token_for):
    (method, path), permission = operation
    workspace = team["workspace"]
    client = ApiClient(token_for(workspace, team[role]))
    response = client.request(method, fill(path, workspace), body_for(method, path))
    if has_permission(role, permission):
        assert 200 <= response.status_code < 300, response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("role", Role.values)
def test_a_token_limited_below_its_users_role_is_held_to_it(role, team, token_for):
    """The owner's token with a weaker role gets that role's answers, operation by operation."""
    workspace = team["workspace"]
    client = ApiClient(token_for(workspace, team[Role.OWNER], role=role))
    for (method, path), permission in OPERATIONS:
        response = client.request(method, fill(path, workspace), body_for(method, path))
        forbidden = response.status_code == 403
        assert forbidden != has_permission(role, permission), (method, path, response.content)
