"""The post page: where the post stands on each channel (delivery, log, decisions by state),
the preview, and the approval moves, comments, client links, duplicate and delete under the
role matrix."""

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
    ApprovalLink,
    Delivery,
    DeliveryLog,
    DeliveryState,
    HoldReason,
    Post,
    PostComment,
    PostStatus,
    PublishingSettings,
)
from tribu.publishing.services import posts as post_service


def make_channel(workspace, network="mastodon", name=None):
    return Channel.objects.create(
        workspace=workspace,
        network=network,
        name=name or f"{network.title()} account",
        handle=f"@brand@{network}.example",
        account_id=secrets.token_hex(4),
        base_url=f"https://{network}.example",
    )


@pytest.fixture
def mastodon(workspace):
    return make_channel(workspace, "mastodon", "Acme on Mastodon")


@pytest.fixture
def bluesky(workspace):
    return make_channel(workspace, "bluesky", "Acme on Bluesky")


@pytest.fixture
def draft(workspace, user, mastodon, bluesky):
    return post_service.create_post(
        workspace, user, Role.OWNER, text="Spring is here #Acme", title="Spring",
        channels=[mastodon.pk, bluesky.pk], publish_at=datetime(2030, 4, 1, 7, tzinfo=UTC),
    )  # fmt: skip


def url(workspace, name, *args):
    return reverse(f"publishing:{name}", args=[workspace.slug, *args])


def approval(workspace, required):
    PublishingSettings.objects.update_or_create(
        workspace=workspace, defaults={"require_approval": required}
    )


def page(client, workspace, post):
    response = client.get(url(workspace, "post", post.pk))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# The page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_post_its_preview_and_status(owner_client, workspace, draft):
    body = page(owner_client, workspace, draft)
    assert "Draft" in body and "Spring" in body
    # 07:00 UTC on 1 April 2030 is 09:00 in Paris.
    assert "9 a.m." in body or "09:00" in body
    assert 'class="pv pv-mastodon"' in body and 'class="pv pv-bluesky"' in body
    assert '<span class="pv-tag">#Acme</span>' in body
    assert "not scheduled yet" in body


def test_every_member_can_read_the_page(client_for, make_member, workspace, draft):
    client = client_for(make_member(workspace, Role.VIEWER))
    body = page(client, workspace, draft)
    # A viewer sees no action they cannot take.
    assert "Send for review" not in body and "Edit the post" not in body
    assert "Duplicate" not in body and "Add the comment" in body


def test_another_workspace_s_post_is_not_found(owner_client, workspace, make_workspace):
    other = make_workspace()
    post = Post.objects.create(workspace=other, text="Secret")
    assert owner_client.get(url(workspace, "post", post.pk)).status_code == 404
    for action in ("post_submit", "post_delete", "post_comment", "post_approval_link"):
        assert owner_client.post(url(workspace, action, post.pk), {"text": "x"}).status_code == 404
    assert Post.objects.filter(pk=post.pk).exists() and not PostComment.objects.exists()


def test_actions_answer_only_post(owner_client, workspace, draft):
    assert owner_client.get(url(workspace, "post_delete", draft.pk)).status_code == 405
    assert owner_client.post(url(workspace, "post", draft.pk)).status_code == 405
    assert Post.objects.filter(pk=draft.pk).exists()


def scheduled_with_deliveries(workspace, user, post):
    approval(workspace, False)
    return post_service.schedule(post, user, Role.OWNER)


def test_each_channel_shows_its_delivery_and_log(owner_client, workspace, user, draft, bluesky):
    post = scheduled_with_deliveries(workspace, user, draft)
    delivery = post.deliveries.get(channel=bluesky)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.PUBLISHED, attempts=1,
        remote_url="https://bsky.app/profile/acme/post/3kabc",
        published_at=datetime(2030, 4, 1, 7, 0, 2, tzinfo=UTC),
    )  # fmt: skip
    DeliveryLog.objects.create(
        delivery=delivery, event="sent", state="published",
        request="POST /xrpc/com.atproto.repo.createRecord", status_code=200, duration_ms=184,
        message="Created", at=datetime(2030, 4, 1, 7, 0, 1, tzinfo=UTC),
    )  # fmt: skip
    body = page(owner_client, workspace, post)
    assert "Published" in body and 'href="https://bsky.app/profile/acme/post/3kabc"' in body
    assert "POST /xrpc/com.atproto.repo.createRecord" in body
    assert "<td>200</td>" in body and "184 ms" in body and "2030-04-01 09:00:01" in body
    assert "Delivery log (2 lines)" in body  # "scheduled", then the request


def test_a_held_too_late_delivery_offers_the_decisions(owner_client, workspace, user, draft):
    post = scheduled_with_deliveries(workspace, user, draft)
    held = post.deliveries.first()
    Delivery.objects.filter(pk=held.pk).update(
        state=DeliveryState.HELD, hold_reason=HoldReason.LATE
    )
    body = page(owner_client, workspace, post)
    assert str(HoldReason.LATE.label) in body
    for name in ("delivery_publish_now", "delivery_reschedule", "delivery_drop"):
        assert url(workspace, name, held.pk) in body
    assert url(workspace, "delivery_mark_published", held.pk) not in body


def test_a_failed_delivery_shows_its_error_and_attempts(owner_client, workspace, user, draft):
    post = scheduled_with_deliveries(workspace, user, draft)
    failed = post.deliveries.first()
    Delivery.objects.filter(pk=failed.pk).update(
        state=DeliveryState.FAILED, attempts=3,
        error_message="The image is too big for Bluesky: compress it under 1 MB.",
    )  # fmt: skip
    body = page(owner_client, workspace, post)
    assert "The image is too big for Bluesky: compress it under 1 MB." in body
    assert "<dd>3</dd>" in body and url(workspace, "delivery_publish_now", failed.pk) in body


def test_an_unknown_outcome_explains_the_risk_of_a_duplicate(owner_client, workspace, user, draft):
    post = scheduled_with_deliveries(workspace, user, draft)
    unknown = post.deliveries.first()
    Delivery.objects.filter(pk=unknown.pk).update(state=DeliveryState.UNKNOWN)
    body = page(owner_client, workspace, post)
    assert "would publish it twice" in body
    assert url(workspace, "delivery_mark_published", unknown.pk) in body
    assert url(workspace, "delivery_publish_again", unknown.pk) in body
    assert url(workspace, "delivery_drop", unknown.pk) not in body


def test_decisions_are_hidden_from_roles_that_cannot_take_them(
    client_for, make_member, workspace, user, draft
):
    post = scheduled_with_deliveries(workspace, user, draft)
    unknown = post.deliveries.first()
    Delivery.objects.filter(pk=unknown.pk).update(state=DeliveryState.UNKNOWN)
    body = page(client_for(make_member(workspace, Role.CONTRIBUTOR)), workspace, post)
    assert url(workspace, "delivery_publish_again", unknown.pk) not in body


# Approval ----------------------------------------------------------------------------------------


def test_submit_approve_and_schedule(client_for, make_member, workspace, draft):
    approval(workspace, True)
    writer = client_for(make_member(workspace, Role.CONTRIBUTOR))
    response = writer.post(url(workspace, "post_submit", draft.pk))
    assert response.status_code == 302 and response.url == url(workspace, "post", draft.pk)
    draft.refresh_from_db()
    assert draft.status == PostStatus.IN_REVIEW
    # A contributor cannot approve their own post.
    assert writer.post(url(workspace, "post_approve", draft.pk)).status_code == 403
    reviewer = client_for(make_member(workspace, Role.APPROVER))
    body = page(reviewer, workspace, draft)
    assert "Approve" in body and "Ask for changes" in body
    reviewer.post(url(workspace, "post_approve", draft.pk), {"comment": "Parfait"})
    draft.refresh_from_db()
    # It had a time: approval scheduled it, one delivery per channel.
    assert draft.status == PostStatus.SCHEDULED and draft.deliveries.count() == 2
    approved = PostComment.objects.get(post=draft, kind=PostComment.Kind.APPROVED)
    assert approved.text == "Parfait"
    assert "Approved and scheduled." in page(reviewer, workspace, draft)


def test_asking_for_changes_needs_a_comment(client_for, make_member, workspace, user, draft):
    post_service.submit(draft, user, Role.OWNER)
    reviewer = client_for(make_member(workspace, Role.APPROVER))
    response = reviewer.post(url(workspace, "post_reject", draft.pk), {"comment": " "})
    assert response.status_code == 400
    assert "Say what should change" in html.unescape(response.content.decode())
    reviewer.post(url(workspace, "post_reject", draft.pk), {"comment": "Plus court, svp."})
    draft.refresh_from_db()
    assert draft.status == PostStatus.DRAFT
    body = page(reviewer, workspace, draft)
    assert "Changes requested" in body and "Plus court, svp." in body


def test_a_refused_move_is_explained(owner_client, workspace, draft):
    response = owner_client.post(url(workspace, "post_approve", draft.pk), follow=True)
    body = html.unescape(response.content.decode())
    assert "This post is draft; that action is not possible now." in body
    draft.refresh_from_db()
    assert draft.status == PostStatus.DRAFT


def test_schedule_reschedule_and_unschedule(owner_client, workspace, draft):
    approval(workspace, False)
    owner_client.post(url(workspace, "post_schedule", draft.pk), {"publish_at": "2030-05-02T18:45"})
    draft.refresh_from_db()
    assert draft.status == PostStatus.SCHEDULED
    assert draft.publish_at == datetime(2030, 5, 2, 16, 45, tzinfo=UTC)  # Paris, summer
    # On a scheduled post, the same form moves it (and its deliveries).
    owner_client.post(url(workspace, "post_schedule", draft.pk), {"publish_at": "2030-05-03T08:00"})
    draft.refresh_from_db()
    assert draft.publish_at == datetime(2030, 5, 3, 6, 0, tzinfo=UTC)
    assert {d.due_at for d in draft.deliveries.all()} == {draft.publish_at}
    response = owner_client.post(url(workspace, "post_schedule", draft.pk), {"publish_at": ""})
    assert (
        response.status_code == 400 and "Choose the new date and time." in response.content.decode()
    )
    owner_client.post(url(workspace, "post_unschedule", draft.pk))
    draft.refresh_from_db()
    assert draft.status == PostStatus.DRAFT and not draft.deliveries.exists()


def test_schedule_with_an_unapproved_draft_sends_it_for_review(owner_client, workspace, draft):
    approval(workspace, True)
    response = owner_client.post(url(workspace, "post_schedule", draft.pk), follow=True)
    draft.refresh_from_db()
    assert draft.status == PostStatus.IN_REVIEW
    assert "Sent for review: it is scheduled once approved." in response.content.decode()


def test_scheduling_needs_the_schedule_permission(client_for, make_member, workspace, draft):
    client = client_for(make_member(workspace, Role.CONTRIBUTOR))
    assert client.post(url(workspace, "post_schedule", draft.pk)).status_code == 403
    assert client.post(url(workspace, "post_unschedule", draft.pk)).status_code == 403


def test_an_invalid_time_is_shown_next_to_the_field(owner_client, workspace, draft):
    response = owner_client.post(url(workspace, "post_schedule", draft.pk), {"publish_at": "soon"})
    assert response.status_code == 400
    assert response.context["schedule_form"].errors["publish_at"]


# Comments, duplicate, delete ---------------------------------------------------------------------


def test_any_member_can_comment(client_for, make_member, workspace, draft):
    viewer = make_member(workspace, Role.VIEWER)
    client = client_for(viewer)
    response = client.post(url(workspace, "post_comment", draft.pk), {"text": "Joli visuel"})
    assert response.status_code == 302 and response.url.endswith("#comments")
    comment = PostComment.objects.get(post=draft)
    assert (comment.author, comment.text, comment.kind) == (viewer, "Joli visuel", "comment")
    response = client.post(url(workspace, "post_comment", draft.pk), {"text": ""})
    assert response.status_code == 400 and PostComment.objects.count() == 1


def test_duplicate_opens_the_copy_in_the_composer(owner_client, workspace, draft):
    response = owner_client.post(url(workspace, "post_duplicate", draft.pk))
    copy = Post.objects.exclude(pk=draft.pk).get()
    assert response.url == url(workspace, "edit", copy.pk)
    assert copy.text == draft.text and copy.variants.count() == 2


def test_delete(owner_client, workspace, draft):
    response = owner_client.post(url(workspace, "post_delete", draft.pk))
    assert response.status_code == 302 and not Post.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(action="post.deleted").exists()


def test_a_post_published_somewhere_cannot_be_deleted(owner_client, workspace, user, draft):
    post = scheduled_with_deliveries(workspace, user, draft)
    Delivery.objects.filter(pk=post.deliveries.first().pk).update(state=DeliveryState.PUBLISHED)
    response = owner_client.post(url(workspace, "post_delete", post.pk), follow=True)
    assert Post.objects.filter(pk=post.pk).exists()
    assert "it cannot be deleted" in response.content.decode()
    assert "Edit the post" not in page(owner_client, workspace, post)


# Client approval links ----------------------------------------------------------------------------


def test_the_client_link_is_shown_once(owner_client, workspace, draft, settings):
    response = owner_client.post(
        url(workspace, "post_approval_link", draft.pk),
        {"reviewer_name": "Mme Roux", "days": 3},
        follow=True,
    )
    assert response.redirect_chain == [(url(workspace, "post", draft.pk), 302)]
    new_link = response.context["new_link"]
    base = settings.TRIBU_BASE_URL.rstrip("/") or "http://testserver"
    assert new_link.startswith(f"{base}/a/")
    assert new_link in response.content.decode()
    link = ApprovalLink.objects.get(post=draft)
    assert link.reviewer_name == "Mme Roux"
    assert (
        timedelta(days=3) - timedelta(minutes=1)
        < link.expires_at - timezone.now()
        <= timedelta(days=3)
    )
    draft.refresh_from_db()
    assert draft.status == PostStatus.IN_REVIEW  # a draft is sent for review with it
    # The address works for the client, and is never shown again to the team.
    assert owner_client.get(new_link.removeprefix(base)).status_code == 200
    body = page(owner_client, workspace, draft)
    assert new_link not in body and "Mme Roux" in body and "waiting" in body


def test_a_link_lasts_at_most_30_days(owner_client, workspace, draft):
    response = owner_client.post(url(workspace, "post_approval_link", draft.pk), {"days": 90})
    assert response.status_code == 400 and not ApprovalLink.objects.exists()
    assert "at most 30 days" in response.content.decode()


def test_no_link_for_a_scheduled_post(owner_client, workspace, user, draft):
    post = scheduled_with_deliveries(workspace, user, draft)
    response = owner_client.post(url(workspace, "post_approval_link", post.pk), {"days": 7},
                                 follow=True)  # fmt: skip
    assert not ApprovalLink.objects.exists()
    assert "Only a post waiting for review" in response.content.decode()


def test_content_problems_are_shown_on_the_page(owner_client, workspace, user, bluesky):
    approval(workspace, False)
    post = post_service.create_post(workspace, user, Role.OWNER, text="b" * 320,
                                    channels=[bluesky.pk])  # fmt: skip
    response = owner_client.post(url(workspace, "post_schedule", post.pk))
    assert response.status_code == 400
    assert "Too long for Bluesky" in html.unescape(response.content.decode())
