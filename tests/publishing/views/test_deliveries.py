"""Decisions on one delivery from the post page: publish now, reschedule or drop a delivery
held as too late (or failed); "it was published" or "publish again" for an unknown outcome.
Each one is logged in the delivery's visible log, audited, and guarded by content.schedule."""

import html
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tribu.channels.models import Channel
from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.publishing.models import (
    Delivery,
    DeliveryState,
    HoldReason,
    Post,
    PostStatus,
    PostVariant,
)


def make_delivery(
    workspace, state=DeliveryState.HELD, hold_reason=HoldReason.LATE, network="mastodon"
):
    channel = Channel.objects.create(
        workspace=workspace, network=network, name=f"Acme on {network}",
        account_id=secrets.token_hex(4), base_url=f"https://{network}.example",
    )  # fmt: skip
    post = Post.objects.create(workspace=workspace, text="Bonjour", status=PostStatus.SCHEDULED)
    PostVariant.objects.create(post=post, channel=channel)
    due = timezone.now() - timedelta(hours=2)
    return Delivery.objects.create(
        workspace=workspace, post=post, channel=channel, state=state,
        hold_reason=hold_reason if state == DeliveryState.HELD else "", due_at=due,
        next_attempt_at=due,
    )  # fmt: skip


@pytest.fixture
def late(workspace):
    return make_delivery(workspace)


@pytest.fixture
def unknown(workspace):
    return make_delivery(workspace, DeliveryState.UNKNOWN)


def url(workspace, name, delivery):
    return reverse(f"publishing:{name}", args=[workspace.slug, delivery.pk])


def post_page(workspace, delivery):
    return reverse("publishing:post", args=[workspace.slug, delivery.post_id])


def test_publish_now_sends_a_late_delivery_back_to_the_queue(owner_client, workspace, late, user):
    before = timezone.now()
    response = owner_client.post(url(workspace, "delivery_publish_now", late))
    assert response.status_code == 302 and response.url == post_page(workspace, late)
    late.refresh_from_db()
    assert late.state == DeliveryState.SCHEDULED and late.hold_reason == ""
    assert before <= late.next_attempt_at <= timezone.now()
    line = late.log.last()
    assert (line.event, line.actor) == ("publish_now", user)
    assert AuditEvent.objects.filter(action="delivery.publish_now").exists()


def test_publish_now_on_a_failed_delivery(owner_client, workspace):
    failed = make_delivery(workspace, DeliveryState.FAILED)
    Delivery.objects.filter(pk=failed.pk).update(attempts=4, error_message="Boom")
    owner_client.post(url(workspace, "delivery_publish_now", failed))
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.error_message) == ("scheduled", 0, "")


def test_reschedule_reads_the_time_in_the_workspace_zone(owner_client, workspace, late):
    response = owner_client.post(
        url(workspace, "delivery_reschedule", late), {"publish_at": "2030-12-24T18:00"}
    )
    assert response.status_code == 302
    late.refresh_from_db()
    at = datetime(2030, 12, 24, 17, 0, tzinfo=UTC)  # 18:00 in Paris, winter time
    assert (late.state, late.due_at, late.next_attempt_at) == ("scheduled", at, at)
    assert late.log.last().event == "rescheduled"
    assert AuditEvent.objects.filter(action="delivery.rescheduled").exists()


def test_reschedule_needs_a_valid_time(owner_client, workspace, late):
    response = owner_client.post(url(workspace, "delivery_reschedule", late), {"publish_at": ""})
    assert response.status_code == 400
    assert response.context["reschedule_form_for"] == late.pk
    late.refresh_from_db()
    assert late.state == DeliveryState.HELD


def test_reschedule_refuses_a_delivery_that_is_not_waiting_for_a_decision(owner_client, workspace):
    paused = make_delivery(workspace, hold_reason=HoldReason.PAUSED)
    response = owner_client.post(
        url(workspace, "delivery_reschedule", paused),
        {"publish_at": "2030-12-24T18:00"},
        follow=True,
    )
    paused.refresh_from_db()
    assert paused.state == DeliveryState.HELD and paused.hold_reason == HoldReason.PAUSED
    assert "Only a delivery that failed or was held as too late" in html.unescape(
        response.content.decode()
    )


def test_drop(owner_client, workspace, late):
    owner_client.post(url(workspace, "delivery_drop", late))
    late.refresh_from_db()
    assert late.state == DeliveryState.CANCELLED and late.log.last().event == "dropped"


def test_mark_published_keeps_the_address_and_settles_the_post(owner_client, workspace, unknown):
    address = "https://mastodon.example/@acme/1123"
    owner_client.post(url(workspace, "delivery_mark_published", unknown), {"url": address})
    unknown.refresh_from_db()
    assert (unknown.state, unknown.remote_url) == (DeliveryState.PUBLISHED, address)
    unknown.post.refresh_from_db()
    assert unknown.post.status == PostStatus.PUBLISHED  # its only channel is done


def test_mark_published_without_an_address(owner_client, workspace, unknown):
    owner_client.post(url(workspace, "delivery_mark_published", unknown), {"url": ""})
    unknown.refresh_from_db()
    assert unknown.state == DeliveryState.PUBLISHED and unknown.remote_url == ""


def test_mark_published_refuses_a_broken_address(owner_client, workspace, unknown):
    response = owner_client.post(
        url(workspace, "delivery_mark_published", unknown), {"url": "not an address"}
    )
    assert response.status_code == 400 and "Enter a valid URL." in response.content.decode()
    unknown.refresh_from_db()
    assert unknown.state == DeliveryState.UNKNOWN


def test_publish_again(owner_client, workspace, unknown):
    owner_client.post(url(workspace, "delivery_publish_again", unknown))
    unknown.refresh_from_db()
    assert unknown.state == DeliveryState.SCHEDULED
    assert unknown.log.last().event == "publish_again"


def test_a_move_the_state_does_not_allow_is_explained(owner_client, workspace, late):
    response = owner_client.post(url(workspace, "delivery_publish_again", late), follow=True)
    late.refresh_from_db()
    assert late.state == DeliveryState.HELD
    assert "that action is not possible now" in html.unescape(response.content.decode())


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.APPROVER, Role.VIEWER])
def test_only_schedulers_decide(client_for, make_member, workspace, late, role):
    client = client_for(make_member(workspace, role))
    for name in ("delivery_publish_now", "delivery_drop", "delivery_reschedule"):
        assert client.post(url(workspace, name, late)).status_code == 403
    late.refresh_from_db()
    assert late.state == DeliveryState.HELD


def test_an_editor_decides(client_for, make_member, workspace, late):
    client = client_for(make_member(workspace, Role.EDITOR))
    assert client.post(url(workspace, "delivery_drop", late)).status_code == 302
    late.refresh_from_db()
    assert late.state == DeliveryState.CANCELLED


def test_another_workspace_s_delivery_is_not_found(owner_client, workspace, make_workspace):
    other = make_delivery(make_workspace())
    for name in ("delivery_publish_now", "delivery_drop", "delivery_mark_published"):
        assert owner_client.post(url(workspace, name, other)).status_code == 404
    other.refresh_from_db()
    assert other.state == DeliveryState.HELD and other.log.count() == 0


def test_decisions_answer_only_post(owner_client, workspace, late):
    assert owner_client.get(url(workspace, "delivery_drop", late)).status_code == 405
    late.refresh_from_db()
    assert late.state == DeliveryState.HELD
