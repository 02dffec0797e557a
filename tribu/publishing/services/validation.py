"""A post checked against each of its channels' rules (tribu/publishing/text.py) and the
workspace's editorial line (tribu/publishing/editorial.py)."""

from tribu.publishing import editorial, text
from tribu.publishing.services import deliveries


def media_of(post):
    return [
        {
            "content_type": item.content_type,
            "size": item.size_bytes,
            "width": item.width,
            "height": item.height,
            "alt": item.alt_text,
        }
        for item in post.media.all()
    ]


def problems_for_variant(variant, media):
    return text.validate(
        variant.channel.network,
        text=variant.effective_text,
        thread=variant.effective_thread or (),
        first_comment=variant.effective_first_comment or "",
        media=media,
        limits=variant.channel.limits or None,
    )


def problems_by_channel(post):
    """{variant: [Problem…]} for every channel of the post."""
    media = media_of(post)
    return {
        variant: problems_for_variant(variant, media)
        for variant in post.variants.select_related("channel")
    }


def problems_for_post(post):
    """[(channel, Problem)…] for every channel of the post."""
    return [
        (variant.channel, problem)
        for variant, found in problems_by_channel(post).items()
        for problem in found
    ]


def editorial_warnings(post):
    return editorial.check(post.text, deliveries.settings_for(post.workspace))
