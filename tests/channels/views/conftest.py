import secrets
from datetime import timedelta

from django.utils import timezone

from tribu.channels.models import Channel, ChannelState
from tribu.publishing.models import Delivery, DeliveryState, Post, PostStatus

SECRET = "never-shown-secret-0123456789"  # noqa: S105 (a fixture's stored token)


def make_channel(workspace, network="mastodon", name="Maison Lumière", **fields):
    fields.setdefault("handle", "@maison@mastodon.example")
    fields.setdefault("base_url", "https://mastodon.example")
    fields.setdefault("account_id", secrets.token_hex(4))
    channel = Channel(workspace=workspace, network=network, name=name, **fields)
    channel.set_secrets({"access_token": SECRET, "app_password": SECRET})
    channel.save()
    return channel


def make_delivery(
    channel, state=DeliveryState.SCHEDULED, hold_reason="", due_in=timedelta(hours=1)
):
    due = timezone.now() + due_in
    post = Post.objects.create(
        workspace=channel.workspace, text=f"Post {secrets.token_hex(3)}",
        status=PostStatus.SCHEDULED, publish_at=due,
    )  # fmt: skip
    return Delivery.objects.create(
        workspace=channel.workspace, post=post, channel=channel, state=state,
        hold_reason=hold_reason, due_at=due, next_attempt_at=due,
    )  # fmt: skip


def broken(channel, code="token_invalid", detail="The access token is invalid"):
    Channel.objects.filter(pk=channel.pk).update(
        state=ChannelState.RECONNECT, problem_code=code, problem_detail=detail
    )
    channel.refresh_from_db()
    return channel
