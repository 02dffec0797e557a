import pytest

from api.helpers import ApiClient
from tribu.api.services.tokens import create_token
from tribu.core.models import Membership
from tribu.core.roles import Role


@pytest.fixture
def fast_user(make_user):
    """Users without a password: hashing one costs a third of a second per user."""

    def make(email=None, **fields):
        return make_user(email, password=None, **fields)

    return make


@pytest.fixture
def team(make_workspace, fast_user):
    """Workspace "acme" with one member per role; team[role] is that member's user."""
    owner = fast_user("owner@example.com")
    workspace = make_workspace(slug="acme", name="Acme", owner=owner)
    members = {Role.OWNER: owner}
    for role in Role.values:
        if role != Role.OWNER:
            user = fast_user(f"{role}@example.com")
            Membership.objects.create(workspace=workspace, user=user, role=role)
            members[role] = user
    members["workspace"] = workspace
    return members


@pytest.fixture
def token_for():
    """A raw API token for a member of a workspace (the member's role by default)."""

    def make(workspace, user, role=None, name="script"):
        if role is None:
            role = Membership.objects.get(workspace=workspace, user=user).role
        _token, raw = create_token(workspace, user, name=name, role=role)
        return raw

    return make


@pytest.fixture
def api_as(token_for):
    """An ApiClient holding a fresh token of `user` in `workspace`."""

    def make(workspace, user, role=None, **headers):
        return ApiClient(token_for(workspace, user, role), **headers)

    return make
