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
from tribu.channels.models import Channel
from tribu.core.models import Membership
from tribu.core.roles import Role, has_permission
from tribu.core.services import members as members_service
from tribu.listening.items import ParsedItem
from tribu.listening.services import ingest as listening_ingest
from tribu.listening.services import sources as listening_sources
from tribu.listening.services import topics as listening_topics
from tribu.publishing.models import Post, PostStatus
from tribu.publishing.services import posts as posts_service

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


def new_channel(workspace):
    return Channel.objects.create(
        workspace=workspace, network="mastodon", name="Mastodon",
        base_url="https://mastodon.example", account_id=secrets.token_hex(4),
    ).pk  # fmt: skip


def new_post(workspace, status=PostStatus.DRAFT):
    owner = workspace.memberships.order_by("pk").first()
    post = posts_service.create_post(
        workspace, owner.user, owner.role, text=f"Post {secrets.token_hex(4)}",
        channels=[new_channel(workspace)],
    )  # fmt: skip
    if status in (PostStatus.IN_REVIEW, PostStatus.SCHEDULED):
        posts_service.submit(post, owner.user, owner.role)
    if status == PostStatus.SCHEDULED:
        posts_service.approve(post, owner.user, owner.role)
        posts_service.schedule(post, owner.user, owner.role)
    return post.pk


def new_delivery(workspace):
    post = Post.objects.get(pk=new_post(workspace, PostStatus.SCHEDULED))
    return post.deliveries.get().pk


# One factory per path parameter name: workspace -> a value naming an object of it.
PATH_FACTORIES = {
    "slug": lambda workspace: workspace.slug,
    "member_id": new_member,
    "invitation_id": new_invitation,
    "source_id": new_source,
    "topic_id": new_topic,
    "mention_id": new_mention,
    "channel_id": new_channel,
    "post_id": new_post,
    "delivery_id": new_delivery,
}

# Operations that need their object in a given state, so that allowed roles succeed.
OPERATION_FACTORIES = {
    ("POST", "/posts/{post_id}/unschedule"): {
        "post_id": lambda workspace: new_post(workspace, PostStatus.SCHEDULED)
    },
    ("POST", "/posts/{post_id}/approve"): {
        "post_id": lambda workspace: new_post(workspace, PostStatus.IN_REVIEW)
    },
    ("POST", "/posts/{post_id}/reject"): {
        "post_id": lambda workspace: new_post(workspace, PostStatus.IN_REVIEW)
    },
}


def mastodon_fake():
    """One contract fake for the whole module: POST /channels checks the token on it."""
    global _MASTODON_FAKE
    if _MASTODON_FAKE is None:
        from tribu.testing.fakes.mastodon import MastodonPublishFake

        _MASTODON_FAKE = MastodonPublishFake().start()
    return _MASTODON_FAKE


_MASTODON_FAKE = None


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


def teardown_module():
    if _MASTODON_FAKE is not None:
        _MASTODON_FAKE.stop()


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
    ("POST", "/channels"): lambda: {
        "network": "mastodon",
        "base_url": mastodon_fake().base_url,
        "access_token": mastodon_fake().add_token(f"token-{secrets.token_hex(4)}"),
    },
    ("POST", "/posts"): lambda: {"text": "Bonjour", "draft": True},
    ("PATCH", "/posts/{post_id}"): lambda: {"text": "Bonsoir"},
    ("POST", "/posts/{post_id}/schedule"): lambda: {},
    ("POST", "/posts/{post_id}/submit"): lambda: {},
    ("POST", "/posts/{post_id}/approve"): lambda: {},
    ("POST", "/posts/{post_id}/reject"): lambda: {"comment": "Trop long"},
    ("POST", "/publishing/pause"): lambda: {"reason": "Crise"},
}


def fill(path, workspace, method=None):
    special = OPERATION_FACTORIES.get((method, path), {})

    def value(match):
        name = match.group(1)
        if name in special:
            return str(special[name](workspace))
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
    response = client.request(method, fill(path, workspace_b, method), body_for(method, path))
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
    response = client.request(method, fill(path, workspace, method), body_for(method, path))
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
        response = client.request(method, fill(path, workspace, method), body_for(method, path))
        forbidden = response.status_code == 403
        assert forbidden != has_permission(role, permission), (method, path, response.content)
