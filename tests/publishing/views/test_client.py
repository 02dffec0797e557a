"""The client approval page: no account, the post as each network will show it, approve or
ask for changes with a name; unknown links 404, used/expired/outdated links 410; the
workspace's language; repeated unknown tokens slowed down."""

import html
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tribu.channels.models import Channel
from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.publishing.models import (
    ApprovalLink,
    DeliveryState,
    PostComment,
    PostStatus,
    PublishingSettings,
)
from tribu.publishing.services import approvals
from tribu.publishing.services import posts as post_service
from tribu.publishing.views import client as client_view


def make_channel(workspace, network):
    return Channel.objects.create(
        workspace=workspace, network=network, name=f"Acme on {network.title()}",
        handle=f"@acme@{network}.example", account_id=secrets.token_hex(4),
        base_url=f"https://{network}.example",
    )  # fmt: skip


@pytest.fixture
def post(workspace, user):
    PublishingSettings.objects.update_or_create(
        workspace=workspace, defaults={"require_approval": True}
    )
    channels = [make_channel(workspace, "mastodon"), make_channel(workspace, "bluesky")]
    return post_service.create_post(
        workspace, user, Role.OWNER, text="Soldes d'hiver #Acme",
        channels=[c.pk for c in channels], publish_at=datetime(2030, 1, 15, 8, tzinfo=UTC),
    )  # fmt: skip


@pytest.fixture
def token(post, user):
    _link, token = approvals.create_link(post, user, Role.OWNER, reviewer_name="Mme Roux")
    return token


def address(token):
    return reverse("publishing:client_approval", args=[token])


def body_of(response):
    return html.unescape(response.content.decode())


def visitor():
    """A client who chose English with the language switcher (the page is otherwise in the
    workspace's French), so the messages below read as written."""
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_page_needs_no_account_and_shows_each_network(token, post):
    response = Client().get(address(token))
    assert response.status_code == 200
    body = body_of(response)
    assert 'class="pv pv-mastodon"' in body and 'class="pv pv-bluesky"' in body
    assert "Soldes d'hiver" in body and 'value="Mme Roux"' in body
    assert 'name="robots" content="noindex' in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_page_is_in_the_workspace_language(token, workspace):
    assert workspace.language == "fr"
    response = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en").get(address(token))
    assert response["Content-Language"] == "fr" and '<html lang="fr">' in body_of(response)


def test_a_visitor_who_chose_a_language_keeps_it(token):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(address(token))
    assert response["Content-Language"] == "en" and "Your decision" in body_of(response)


def test_approving_schedules_the_post_with_one_delivery_per_channel(token, post):
    response = Client().post(
        address(token), {"name": "Claire Roux", "comment": "Parfait", "decision": "approved"}
    )
    assert response.status_code == 200
    assert "Claire Roux" in body_of(response)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.approved_by_name == "Claire Roux"
    deliveries = post.deliveries.all()
    assert {d.state for d in deliveries} == {DeliveryState.SCHEDULED} and len(deliveries) == 2
    comment = PostComment.objects.get(post=post, kind=PostComment.Kind.APPROVED)
    assert (comment.author, comment.author_name, comment.text) == (None, "Claire Roux", "Parfait")
    assert AuditEvent.objects.filter(action="post.approved_by_client").exists()


def test_a_link_works_once(token, post):
    visitor().post(address(token), {"name": "Claire", "decision": "approved"})
    response = visitor().get(address(token))
    assert response.status_code == 410
    assert "This link was already used" in body_of(response)
    response = visitor().post(
        address(token), {"name": "Eve", "decision": "rejected", "comment": "x"}
    )
    assert response.status_code == 410
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED


def test_asking_for_changes_needs_a_comment(token, post):
    response = visitor().post(address(token), {"name": "Claire", "decision": "rejected"})
    assert response.status_code == 400
    assert "Say what should change" in body_of(response)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    visitor().post(
        address(token), {"name": "Claire", "decision": "rejected", "comment": "Trop long"}
    )
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    comment = PostComment.objects.get(post=post, kind=PostComment.Kind.REJECTED)
    assert (comment.author_name, comment.text) == ("Claire", "Trop long")


def test_a_name_is_required(token, post):
    response = visitor().post(address(token), {"name": " ", "decision": "approved"})
    assert response.status_code == 400
    assert "Write your name, so the team knows who decided." in body_of(response)
    assert ApprovalLink.objects.get().used_at is None


def test_a_decision_is_required(token):
    response = visitor().post(address(token), {"name": "Claire"})
    assert response.status_code == 400
    assert "Choose to approve or to ask for changes." in body_of(response)


def test_an_unknown_token_is_not_found(db):
    response = visitor().get(address(secrets.token_urlsafe(32)))
    assert response.status_code == 404
    assert "This approval link is not valid" in body_of(response)


def test_an_expired_link_is_gone(token):
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = visitor().get(address(token))
    assert response.status_code == 410 and "has expired" in body_of(response)


def test_a_link_to_an_edited_post_is_gone(token, post, user):
    post_service.update_post(post, user, Role.OWNER, text="Autre texte")
    response = visitor().get(address(token))
    assert response.status_code == 410
    assert "The post changed since this link was sent" in body_of(response)


def test_unknown_tokens_are_slowed_down(db, monkeypatch, token):
    monkeypatch.setattr(client_view, "MISS_LIMIT", 3)
    client = Client()
    for _attempt in range(3):
        assert client.get(address(secrets.token_urlsafe(32))).status_code == 404
    assert client.get(address(secrets.token_urlsafe(32))).status_code == 429
    # Even a valid link waits: the address is refused, not the guess.
    response = client.get(address(token))
    assert response.status_code == 429 and "Too many invalid links" in body_of(response)


def test_the_page_answers_get_and_post_only(token):
    assert visitor().put(address(token)).status_code == 405
