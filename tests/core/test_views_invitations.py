"""tribu.core.views.invitations: every kind of visitor of an invitation link."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils.timezone import now

from tribu.accounts.models import User
from tribu.core.models import Membership
from tribu.core.roles import Role
from tribu.core.services import members
from tribu.testing import PASSWORD


@pytest.fixture
def invited(workspace, user):
    """An invitation for bob@example.com; returns its link path."""
    _invitation, raw = members.invite(
        workspace, email="bob@example.com", role=Role.EDITOR, invited_by=user
    )
    return reverse("core:invitation_accept", args=[raw])


def test_new_person_signs_up_and_joins(invited, workspace):
    client = Client()
    page = client.get(invited)
    assert page.status_code == 200
    assert "Create your account" in page.content.decode()
    response = client.post(invited, {"name": "Bob", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("core:workspace_home", args=["acme"])
    bob = User.objects.get(email="bob@example.com")
    assert bob.check_password(PASSWORD) and bob.name == "Bob"
    assert Membership.objects.get(user=bob).role == Role.EDITOR
    assert client.get(response.url).status_code == 200  # signed in


def test_sign_up_validates_the_password(invited):
    response = Client().post(invited, {"name": "Bob", "password1": "12345", "password2": "12345"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="bob@example.com").exists()


def test_existing_account_is_asked_to_sign_in(invited, make_user):
    make_user("bob@example.com")
    page = Client().get(invited).content.decode()
    assert "Sign in to accept" in page
    assert "next=" in page


def test_signed_in_invitee_confirms(invited, make_user, client_for):
    bob = make_user("bob@example.com")
    client = client_for(bob)
    assert "Join the workspace" in client.get(invited).content.decode()
    assert Membership.objects.filter(user=bob).count() == 0
    response = client.post(invited)
    assert response.status_code == 302
    assert Membership.objects.filter(user=bob).count() == 1
    # Single use: the same link now explains itself.
    response = client.get(invited)
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_someone_else_is_offered_to_sign_out(invited, make_user, client_for):
    client = client_for(make_user("eve@example.com"))
    page = client.get(invited)
    assert "bob@example.com" in page.content.decode()
    assert client.post(invited).status_code == 200  # the same explanation, nothing joined
    assert not Membership.objects.filter(user__email="eve@example.com").exists()
    response = client.post(invited, {"action": "sign-out"})
    assert response.status_code == 302 and response.url == invited
    assert "Create your account" in client.get(invited).content.decode()


def test_expired_revoked_and_unknown_links(invited, workspace, user):
    with time_machine.travel(now() + timedelta(days=8)):
        response = Client().get(invited)
        assert response.status_code == 410
        assert "expired" in response.content.decode()
    members.revoke_invitation(workspace.invitations.get(), actor=user)
    assert Client().get(invited).status_code == 410
    response = Client().get(reverse("core:invitation_accept", args=["not-a-token"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
