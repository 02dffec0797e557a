"""The demo's publishing: something in every state the team decides on, and nothing that
would make a demo install contact a social network by itself."""

from django.utils import timezone

from tribu.channels.models import Channel
from tribu.core.services.demo import ensure_demo
from tribu.publishing.models import (
    CLAIMABLE_STATES,
    Delivery,
    DeliveryState,
    HoldReason,
    Post,
    PostStatus,
)
from tribu.publishing.services.demo import ensure_publishing_demo


def test_the_demo_has_channels_posts_in_every_state_and_nothing_queued(db, tmp_path):
    login = ensure_demo(tmp_path)
    workspace = Channel.objects.first().workspace
    assert workspace.slug == login.workspace_slug
    channels = Channel.objects.filter(workspace=workspace)
    assert {c.network for c in channels} == {"mastodon", "bluesky"}
    # .example hosts never resolve, and no token is due for a refresh.
    assert all(c.base_url.endswith(".example") for c in channels)
    assert not channels.filter(next_refresh_at__isnull=False).exists()

    statuses = set(Post.objects.filter(workspace=workspace).values_list("status", flat=True))
    assert {PostStatus.PUBLISHED, PostStatus.IN_REVIEW, PostStatus.DRAFT} <= statuses
    assert Post.objects.filter(workspace=workspace, ritual__isnull=False).count() >= 8
    published = Delivery.objects.filter(workspace=workspace, state=DeliveryState.PUBLISHED)
    assert published.count() == 12 and all(d.remote_url for d in published)
    held = Delivery.objects.get(workspace=workspace, state=DeliveryState.HELD)
    assert held.hold_reason == HoldReason.LATE
    # Nothing a worker would claim: the demo never publishes by itself.
    assert not Delivery.objects.filter(state__in=CLAIMABLE_STATES).exists()
    assert not Delivery.objects.filter(state=DeliveryState.UNKNOWN).exists()


def test_the_publishing_demo_is_created_once(db, tmp_path):
    ensure_demo(tmp_path)
    workspace = Channel.objects.first().workspace
    posts = Post.objects.count()
    assert ensure_publishing_demo(workspace, now=timezone.now()) is None
    ensure_demo(tmp_path)
    assert Post.objects.count() == posts and Channel.objects.count() == 2
