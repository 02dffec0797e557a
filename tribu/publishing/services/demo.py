"""Publishing for the demo workspace: two demo channels, a fortnight of published posts, a
weekly ritual, posts waiting for approval and one post held as too late.

The channels point at `.example` hosts, which never resolve, and nothing is left on the
queue: a demo install never contacts a social network by itself. Deciding "publish now" on
the held post shows what a network failure looks like (explained, retried, then failed).
"""

from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from tribu.accounts.models import User
from tribu.channels.models import Channel
from tribu.publishing.models import (
    Delivery,
    DeliveryLog,
    DeliveryState,
    HoldReason,
    Post,
    PostComment,
    PostStatus,
    PostVariant,
    PublishingSettings,
    QueueSlot,
    Ritual,
)
from tribu.publishing.services import rituals

CHANNELS = [
    # network, name, handle, base URL, account id, post URL prefix
    ("mastodon", "Maison Lumière (Mastodon)", "@maisonlumiere@mastodon.example",
     "https://mastodon.example", "109000000000000001",
     "https://mastodon.example/@maisonlumiere/"),
    ("bluesky", "Maison Lumière (Bluesky)", "maisonlumiere.bsky.example",
     "https://bsky.example", "did:plc:maisonlumieredemo0000000",
     "https://bsky.app/profile/maisonlumiere.bsky.example/post/"),
]  # fmt: skip

PUBLISHED = [
    (13, "Nouvelle collection « Aube » : des lampes qui s’allument comme le jour se lève. ☀️ "
         "#MaisonLumière https://maison-lumiere.example/aube"),
    (11, "Dans l’atelier : Léa monte le 500e abat-jour en lin de l’année. Merci à vous ! "
         "#MaisonLumière"),
    (8, "Conseil du mardi : une lampe de lecture se place à gauche si vous êtes droitier. "
        "#MardiConseil #MaisonLumière"),
    (6, "Rappel : notre boutique de Lyon ouvre aussi le dimanche en décembre. "
        "#MaisonLumière"),
    (4, "Vous nous demandez souvent comment recycler une ampoule : voici le guide. "
        "#MaisonLumière https://maison-lumiere.example/recyclage"),
    (1, "Conseil du mardi : une lumière chaude (2 700 K) pour le salon, plus froide pour le "
        "bureau. #MardiConseil #MaisonLumière"),
]  # fmt: skip


def ensure_publishing_demo(workspace, now=None):
    """Idempotent: does nothing once the workspace has channels."""
    if Channel.objects.filter(workspace=workspace).exists():
        return None
    now = now or timezone.now()
    owner = workspace.memberships.order_by("pk").first().user
    approver = User.objects.filter(email="hugo@tribu.local").first()
    with transaction.atomic():
        PublishingSettings.objects.update_or_create(
            workspace=workspace,
            defaults={
                "require_approval": True,
                "editorial_tone": "Chaleureux et précis ; vouvoiement ; un émoji au plus.",
                "words_to_avoid": "pas cher\ndiscount\nrévolutionnaire",
                "hashtags_to_add": "#MaisonLumière",
            },
        )
        channels = []
        for network, name, handle, base_url, account_id, _prefix in CHANNELS:
            channel = Channel(
                workspace=workspace, network=network, name=name, handle=handle,
                base_url=base_url, account_id=account_id, created_by=owner,
            )  # fmt: skip
            channel.set_secrets({"access_token": "demo"})
            channel.save()
            channels.append(channel)
        for weekday in (0, 2, 4):
            QueueSlot.objects.create(channel=channels[0], weekday=weekday, at_time=time(9, 0))
        with override(workspace.language):
            _published_posts(workspace, channels, owner, now)
            _waiting_posts(workspace, channels, owner, approver, now)
        ritual = Ritual.objects.create(
            workspace=workspace, name="#MardiConseil", rule="FREQ=WEEKLY;BYDAY=TU",
            starts_on=date(2026, 1, 6), at_time=time(9, 0), created_by=owner,
            template="Conseil du mardi : … #MardiConseil #MaisonLumière",
        )  # fmt: skip
        ritual.channels.set(channels)
    rituals.materialize(ritual, now + rituals.MATERIALIZE_HORIZON, now=now)
    return channels


def _variants(post, channels):
    PostVariant.objects.bulk_create(PostVariant(post=post, channel=c) for c in channels)


def _published_posts(workspace, channels, owner, now):
    for number, (days_ago, text) in enumerate(PUBLISHED, start=1):
        at = (now - timedelta(days=days_ago)).replace(hour=9, minute=30, second=0, microsecond=0)
        post = Post.objects.create(
            workspace=workspace, text=text, status=PostStatus.PUBLISHED, publish_at=at,
            published_at=at, approved_revision=1, approved_at=at - timedelta(days=1),
            created_by=owner, created_at=at - timedelta(days=2), updated_at=at,
        )  # fmt: skip
        _variants(post, channels)
        for channel, (_network, *_rest, prefix) in zip(channels, CHANNELS, strict=True):
            remote = f"{number:03d}demo{channel.pk}"
            delivery = Delivery.objects.create(
                workspace=workspace, post=post, channel=channel,
                state=DeliveryState.PUBLISHED, due_at=at, next_attempt_at=at, attempts=1,
                first_sent_at=at, published_at=at, remote_id=remote,
                remote_url=prefix + remote, content={"text": text}, created_at=at,
                updated_at=at,
            )  # fmt: skip
            DeliveryLog.objects.bulk_create([
                DeliveryLog(delivery=delivery, at=at, event="sending",
                            state=DeliveryState.SENDING,
                            message=_("Attempt %(number)s.") % {"number": 1}),
                DeliveryLog(delivery=delivery, at=at, event="published",
                            state=DeliveryState.PUBLISHED, url=prefix + remote),
            ])  # fmt: skip


def _waiting_posts(workspace, channels, owner, approver, now):
    tomorrow = (now + timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
    review = Post.objects.create(
        workspace=workspace, status=PostStatus.IN_REVIEW, publish_at=tomorrow,
        title="Soirée portes ouvertes",
        text="Jeudi soir, l’atelier vous ouvre ses portes : venez allumer votre future lampe. "
             "#MaisonLumière",
        created_by=owner,
    )  # fmt: skip
    _variants(review, channels)
    PostComment.objects.create(post=review, kind=PostComment.Kind.SUBMITTED, author=owner)
    PostComment.objects.create(
        post=review, author=approver, text="Peut-on ajouter l’heure d’ouverture ?"
    )
    draft = Post.objects.create(
        workspace=workspace, status=PostStatus.DRAFT, title="Jeu concours de Noël",
        text="Gagnez une lampe « Aube » : abonnez-vous et partagez ce message avant le 20 "
             "décembre. #MaisonLumière",
        publish_at=tomorrow + timedelta(days=3), created_by=owner,
    )  # fmt: skip
    _variants(draft, channels[:1])
    # A post that was due while no worker ran: held for a decision, never sent blindly.
    due = now - timedelta(hours=2)
    late = Post.objects.create(
        workspace=workspace, status=PostStatus.SCHEDULED, publish_at=due,
        title="Livraison offerte ce week-end",
        text="Livraison offerte ce week-end sur toute la boutique en ligne. #MaisonLumière",
        approved_revision=1, approved_at=due - timedelta(days=1), created_by=owner,
    )  # fmt: skip
    _variants(late, channels[:1])
    delivery = Delivery.objects.create(
        workspace=workspace, post=late, channel=channels[0], state=DeliveryState.HELD,
        hold_reason=HoldReason.LATE, due_at=due, next_attempt_at=due,
    )  # fmt: skip
    DeliveryLog.objects.create(
        delivery=delivery, at=now, event="held", state=DeliveryState.HELD,
        message=str(HoldReason.LATE.label),
    )  # fmt: skip
