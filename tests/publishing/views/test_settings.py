"""The publishing settings page: rules and editorial line, the ICS address, and the crisis
switch (pause with a reason, the banner on every page, resume with what was released and
what now waits for a decision)."""

import secrets
from datetime import timedelta

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
    PublishingSettings,
)
from tribu.publishing.services import ics


def url(workspace, name):
    return reverse(f"publishing:{name}", args=[workspace.slug])


@pytest.fixture
def channel(workspace):
    return Channel.objects.create(
        workspace=workspace, network="mastodon", name="Lumière", handle="@lumiere@example.org",
        account_id="1", base_url="https://mastodon.example",
    )  # fmt: skip


def schedule(channel, text, due_in):
    due = timezone.now() + due_in
    post = Post.objects.create(
        workspace=channel.workspace, text=text, status=PostStatus.SCHEDULED, publish_at=due
    )
    return Delivery.objects.create(
        workspace=channel.workspace, post=post, channel=channel, due_at=due, next_attempt_at=due
    )


def post_link(delivery):
    return reverse("publishing:post", args=[delivery.workspace.slug, delivery.post_id])


def test_members_read_the_settings_and_only_admins_get_the_form(client_for, make_member, workspace):
    PublishingSettings.objects.create(
        workspace=workspace, late_limit_minutes=45, words_to_avoid="gratuit"
    )
    viewer = client_for(make_member(workspace, Role.VIEWER)).get(url(workspace, "settings"))
    body = viewer.content.decode()
    assert viewer.status_code == 200
    assert "Published up to 45 minutes late" in body and "gratuit" in body
    assert url(workspace, "settings_save") not in body and url(workspace, "pause") not in body
    assert "Owners, admins and editors can pause publishing." in body
    editor = client_for(make_member(workspace, Role.EDITOR)).get(url(workspace, "settings"))
    body = editor.content.decode()
    assert url(workspace, "settings_save") not in body and url(workspace, "pause") in body
    owner = client_for(workspace.memberships.get(role=Role.OWNER).user)
    assert url(workspace, "settings_save") in owner.get(url(workspace, "settings")).content.decode()


def test_saving_the_settings(owner_client, workspace):
    response = owner_client.post(
        url(workspace, "settings_save"),
        {"require_approval": "on", "late_limit_minutes": "90", "editorial_tone": "Chaleureux",
         "words_to_avoid": "gratuit\n\n  promo \ngratuit",
         "hashtags_to_add": "MardiConseil\n#Lumière\n#MardiConseil"},
    )  # fmt: skip
    assert response.status_code == 302
    saved = PublishingSettings.objects.get(workspace=workspace)
    assert saved.require_approval and saved.late_limit_minutes == 90
    assert saved.words_to_avoid == "gratuit\npromo"
    assert saved.hashtags_to_add == "#MardiConseil\n#Lumière"
    event = AuditEvent.objects.get(action="publishing.settings_updated")
    assert "late_limit_minutes" in event.data["changed"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("late_limit_minutes", "0", "greater than or equal to 1"),
        ("late_limit_minutes", "1441", "less than or equal to 1440"),
        ("hashtags_to_add", "#Mardi Conseil", "is not one hashtag"),
    ],
)
def test_invalid_settings_are_explained(owner_client, workspace, field, value, error):
    data = {"late_limit_minutes": "30", field: value}
    response = owner_client.post(url(workspace, "settings_save"), data)
    assert response.status_code == 400 and error in response.content.decode()
    assert PublishingSettings.objects.get(workspace=workspace).late_limit_minutes == 30


def test_the_ics_address_and_its_rotation(client_for, make_member, owner_client, workspace):
    body = owner_client.get(url(workspace, "settings")).content.decode()
    token = PublishingSettings.objects.get(workspace=workspace).ics_token
    assert token and f"/{token}.ics" in body
    assert ics.workspace_for_token(token) == workspace
    owner_client.post(url(workspace, "ics_rotate"))
    new = PublishingSettings.objects.get(workspace=workspace).ics_token
    assert new != token and ics.workspace_for_token(token) is None
    assert f"/{new}.ics" in owner_client.get(url(workspace, "settings")).content.decode()
    editor = client_for(make_member(workspace, Role.EDITOR))
    assert editor.post(url(workspace, "ics_rotate")).status_code == 403


def test_pause_holds_everything_and_a_banner_says_so_everywhere(
    client_for, make_member, owner_client, workspace, channel
):
    soon = schedule(channel, "Soldes d'hiver", timedelta(hours=1))
    response = owner_client.post(url(workspace, "pause"), {"reason": "Incendie à l'usine"})
    assert response.status_code == 302 and response["Location"] == url(workspace, "settings")
    soon.refresh_from_db()
    assert (soon.state, soon.hold_reason) == (DeliveryState.HELD, HoldReason.PAUSED)
    body = owner_client.get(url(workspace, "settings")).content.decode()
    assert "Publishing is paused: 1 scheduled post is held." in body
    assert "1 post is held by the pause." in body and post_link(soon) in body
    # The banner, on another page of the workspace, with the reason and the way out.
    other_page = reverse("channels:list", args=[workspace.slug])
    body = owner_client.get(other_page).content.decode()
    assert "pause-banner" in body and "Incendie à l&#x27;usine" in body
    assert f'action="{url(workspace, "resume")}"' in body
    viewer_page = client_for(make_member(workspace, Role.VIEWER)).get(other_page)
    body = viewer_page.content.decode()
    assert "pause-banner" in body and f'action="{url(workspace, "resume")}"' not in body
    # Pausing again changes nothing.
    owner_client.post(url(workspace, "pause"), {"reason": "Autre"})
    assert PublishingSettings.objects.get(workspace=workspace).pause_reason == "Incendie à l'usine"
    assert "Publishing was already paused." in owner_client.get(other_page).content.decode()


def test_no_banner_when_publishing_runs(owner_client, workspace):
    body = owner_client.get(reverse("channels:list", args=[workspace.slug])).content.decode()
    assert "pause-banner" not in body


def test_resume_lists_what_was_released_and_what_waits_for_a_decision(
    owner_client, workspace, channel
):
    on_time = schedule(channel, "Atelier du mardi", timedelta(hours=2))
    stale = schedule(channel, "Bonjour à tous", timedelta(minutes=5))
    owner_client.post(url(workspace, "pause"))
    Delivery.objects.filter(pk=stale.pk).update(due_at=timezone.now() - timedelta(hours=2))
    response = owner_client.post(url(workspace, "resume"))
    assert response["Location"] == url(workspace, "settings")
    on_time.refresh_from_db()
    stale.refresh_from_db()
    assert on_time.state == DeliveryState.SCHEDULED
    assert (stale.state, stale.hold_reason) == (DeliveryState.HELD, HoldReason.LATE)
    body = owner_client.get(url(workspace, "settings")).content.decode()
    assert "Publishing resumed: 1 post goes out at its time." in body
    assert "1 post is now too late to publish without a decision" in body
    released = body.split('id="released"')[1].split("</section>")[0]
    assert "Atelier du mardi" in released and "Bonjour à tous" not in released
    decisions = body.split('id="decisions"')[1].split("</section>")[0]
    assert f'href="{post_link(stale)}"' in decisions and "Atelier du mardi" not in decisions
    assert "pause-banner" not in body
    # The released list is shown once; the decisions stay until someone decides.
    body = owner_client.get(url(workspace, "settings")).content.decode()
    assert 'id="released"' not in body and post_link(stale) in body
    owner_client.post(url(workspace, "resume"))
    assert (
        "Publishing was not paused."
        in owner_client.get(url(workspace, "settings")).content.decode()
    )


def test_the_pause_goes_back_to_a_safe_next_only(owner_client, workspace):
    alerts = reverse("alerts:list", args=[workspace.slug])
    response = owner_client.post(url(workspace, "pause"), {"next": alerts})
    assert response["Location"] == alerts
    owner_client.post(url(workspace, "resume"))
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = owner_client.post(url(workspace, "pause"), {"next": target})
        assert response["Location"] == url(workspace, "settings")
        owner_client.post(url(workspace, "resume"))


def test_only_those_who_may_pause_pause(client_for, make_member, workspace, channel):
    delivery = schedule(channel, f"Post {secrets.token_hex(2)}", timedelta(hours=1))
    approver = client_for(make_member(workspace, Role.APPROVER))
    assert approver.post(url(workspace, "pause")).status_code == 403
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED
    assert not PublishingSettings.objects.filter(workspace=workspace, paused_at__isnull=False)


def test_another_workspace_is_404(owner_client, make_workspace):
    other = make_workspace()
    for name in ("settings", "settings_save", "ics_rotate", "pause", "resume"):
        assert owner_client.post(url(other, name)).status_code == 404
    assert not PublishingSettings.objects.filter(workspace=other, paused_at__isnull=False)
