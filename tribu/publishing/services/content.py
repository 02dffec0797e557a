"""What a delivery publishes: the channel's variant of the post, frozen at the first attempt
so that every retry sends exactly the same thing."""

from tribu.channels.networks.base import Content
from tribu.publishing.models import PostVariant, PublishingSettings
from tribu.publishing.services.deliveries import settings_for
from tribu.publishing.services.links import apply_short_links


def for_variant(variant, *, language=""):
    post = variant.post
    media = [
        {
            "path": item.file.name,
            "alt": item.alt_text,
            "content_type": item.content_type,
            "width": item.width,
            "height": item.height,
            "size": item.size_bytes,
        }
        for item in post.media.order_by("position", "id")
    ]
    return Content(
        text=variant.effective_text,
        thread=[part for part in (variant.effective_thread or []) if str(part).strip()],
        first_comment=variant.effective_first_comment or "",
        media=media,
        link_card=dict(post.link_card or {}),
        language=language or post.workspace.language,
    )


def snapshot(delivery):
    # The delivery comes with its post and workspace: reuse them, and skip the variants'
    # default ordering (a join on channels), pointless for one row.
    found = list(
        PostVariant.objects.filter(post_id=delivery.post_id, channel_id=delivery.channel_id)
        .order_by()
        .only("id", "post_id", "channel_id", "text", "thread", "first_comment")
    )
    # No variant: the channel was removed from the post after the claim.
    variant = found[0] if found else PostVariant(post=delivery.post, channel=delivery.channel)
    variant.post = delivery.post
    variant.post.workspace = delivery.workspace
    content = for_variant(variant).as_json()
    try:
        settings = delivery.workspace.publishing  # loaded with the delivery by the publisher
    except PublishingSettings.DoesNotExist:
        settings = settings_for(delivery.workspace)
    return apply_short_links(content, delivery, enabled=settings.shorten_links)
