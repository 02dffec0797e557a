"""Channel pages: the workspace's channels with their state, one channel's page (rename,
reconnect, disable or enable, remove, queue slots). Connecting lives in connect.py.

Every object is looked up through request.workspace before the method is checked, so another
workspace's channel is a 404 whatever the method. Secrets never reach a template: pages read
the channel's public fields only.
"""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from tribu.channels.forms import QueueSlotForm, RenameForm
from tribu.channels.models import Channel, ChannelState
from tribu.channels.services import channels as service
from tribu.channels.views import connect, media, oauth
from tribu.core.access import can, workspace_view
from tribu.core.services.audit import record
from tribu.publishing.models import Delivery, DeliveryState, HoldReason, QueueSlot

# Below this, the list warns that the network will soon ask for the account's consent again.
EXPIRY_WARNING = timedelta(days=14)
# Deliveries that would be lost with the channel: not yet on the network, not given up.
PENDING_STATES = (
    DeliveryState.SCHEDULED,
    DeliveryState.CLAIMED,
    DeliveryState.RETRYING,
    DeliveryState.HELD,
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
)


def access_ends(channel, now):
    """When the network will make someone reconnect the account, whatever Tribu refreshes
    (consent_expires_at: Meta's 60 days, LinkedIn's year), or None. Short-lived tokens that
    Tribu refreshes on its own (a Bluesky session) are no concern of the team's."""
    ends = channel.consent_expires_at
    if ends is None:
        return None
    left = ends - now
    return {
        "at": ends,
        "days": max(left.days, 0),
        "warn": left < EXPIRY_WARNING,
        "past": left <= timedelta(0),
    }


def problem(channel):
    """What is wrong with the channel, in plain words, or ""."""
    if channel.state == ChannelState.RECONNECT:
        return _(
            "%(network)s refused Tribu's access to this account (the password or token was "
            "changed or revoked). Its posts are held, not lost: reconnect it and they go out."
        ) % {"network": channel.get_network_display()}
    if channel.state == ChannelState.DISABLED:
        return _(
            "Disabled: nothing is published here. Its scheduled posts are held until someone "
            "enables the channel again."
        )
    return ""


def _held_counts(channels):
    rows = (
        Delivery.objects.filter(channel__in=channels, state=DeliveryState.HELD)
        .values("channel")
        .annotate(count=Count("id"))
    )
    return {row["channel"]: row["count"] for row in rows}


def _channel(request, channel_id):
    return get_object_or_404(Channel, pk=channel_id, workspace=request.workspace)


@workspace_view("workspace.view")
@require_GET
def channel_list(request):
    channels = list(Channel.objects.filter(workspace=request.workspace))
    held = _held_counts(channels)
    now = timezone.now()
    rows = [
        {
            "channel": channel,
            "problem": problem(channel),
            "access": access_ends(channel, now),
            "held": held.get(channel.pk, 0),
        }
        for channel in channels
    ]
    can_manage = can(request, "channels.manage")
    context = {"rows": rows, "can_manage": can_manage}
    if can_manage:
        context.update(connect.blank_forms())
    return render(request, "channels/channel_list.html", context)


def _detail_context(request, channel, **overrides):
    now = timezone.now()
    context = {
        "channel": channel,
        "problem": problem(channel),
        "access": access_ends(channel, now),
        "held": channel.deliveries.filter(state=DeliveryState.HELD).count(),
        "held_late": channel.deliveries.filter(
            state=DeliveryState.HELD, hold_reason=HoldReason.LATE
        ).count(),
        "slots": [
            {"slot": slot, "day": WEEKDAYS.get(slot.weekday, "")}
            for slot in channel.queue_slots.all()
        ],
        "can_manage": can(request, "channels.manage"),
        "rename_form": RenameForm(instance=channel),
        "slot_form": QueueSlotForm(),
        "can_enable": channel.state == ChannelState.DISABLED,
        "can_disable": channel.can_move_to(ChannelState.DISABLED),
    }
    context.update(overrides)
    return context


@workspace_view("workspace.view")
def channel_detail(request, channel_id):
    channel = _channel(request, channel_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render(request, "channels/channel_detail.html", _detail_context(request, channel))


def _back(request, channel):
    return redirect("channels:detail", request.workspace.slug, channel.pk)


@workspace_view("channels.manage")
def channel_rename(request, channel_id):
    channel = _channel(request, channel_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    old_name = channel.name
    form = RenameForm(request.POST, instance=channel)
    if not form.is_valid():
        channel.name = old_name  # validation wrote the refused name into the instance
        context = _detail_context(request, channel, rename_form=form)
        return render(request, "channels/channel_detail.html", context, status=400)
    if channel.name != old_name:
        channel.save(update_fields=["name"])
        record(request.workspace, "channel.renamed", actor=request.user, request=request,
               target=channel.name, old_name=old_name)  # fmt: skip
    messages.success(request, _("The channel is now called “%(name)s”.") % {"name": channel.name})
    return _back(request, channel)


@workspace_view("channels.manage")
def channel_reconnect(request, channel_id):
    """The connect forms of the channel's network, filled with what is not secret."""
    channel = _channel(request, channel_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return connect.render_connect(request, channel.network, channel=channel)


@workspace_view("channels.manage")
def channel_disable(request, channel_id):
    channel = _channel(request, channel_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if channel.state != ChannelState.DISABLED:
        service.disable(channel, actor=request.user, request=request)
    messages.success(
        request,
        _(
            "“%(name)s” is disabled: nothing is published there until it is enabled again. "
            "Its scheduled posts are held."
        )
        % {"name": channel.name},
    )
    return _back(request, channel)


@workspace_view("channels.manage")
def channel_enable(request, channel_id):
    channel = _channel(request, channel_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _released, stale = service.enable(channel, actor=request.user, request=request)
    if channel.state == ChannelState.RECONNECT:
        messages.warning(
            request,
            _(
                "“%(name)s” is enabled, but %(network)s refused its access before: reconnect it "
                "so its posts can go out."
            )
            % {"name": channel.name, "network": channel.get_network_display()},
        )
    else:
        message = _("“%(name)s” is enabled: its scheduled posts go out at their time.") % {
            "name": channel.name
        }
        if stale:
            message += " " + ngettext(
                "%(count)s post is now too late to publish without a decision: see it in the "
                "publishing settings.",
                "%(count)s posts are now too late to publish without a decision: see them in "
                "the publishing settings.",
                len(stale),
            ) % {"count": len(stale)}
        messages.success(request, message)
    return _back(request, channel)


@workspace_view("channels.manage")
def channel_remove(request, channel_id):
    channel = _channel(request, channel_id)
    if request.method == "POST":
        name = channel.name
        try:
            service.remove(channel, actor=request.user, request=request)
        except service.ChannelError as error:
            messages.error(request, error.message)
            return _back(request, channel)
        messages.success(
            request,
            _("“%(name)s” is removed. Its posts stay in the calendar.") % {"name": name},
        )
        return redirect("channels:list", request.workspace.slug)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    pending = channel.deliveries.filter(state__in=PENDING_STATES).count()
    return render(request, "channels/channel_remove.html", {"channel": channel, "pending": pending})


@workspace_view("channels.manage")
def slot_add(request, channel_id):
    channel = _channel(request, channel_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = QueueSlotForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, channel, slot_form=form)
        return render(request, "channels/channel_detail.html", context, status=400)
    at_time = form.cleaned_data["at_time"].replace(second=0, microsecond=0)
    _slot, created = QueueSlot.objects.get_or_create(
        channel=channel, weekday=form.cleaned_data["weekday"], at_time=at_time
    )
    if created:
        messages.success(request, _("Queue slot added."))
    else:
        messages.info(request, _("This channel already has that slot."))
    return _back(request, channel)


@workspace_view("channels.manage")
def slot_remove(request, slot_id):
    slot = get_object_or_404(
        QueueSlot.objects.select_related("channel"),
        pk=slot_id,
        channel__workspace=request.workspace,
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    channel = slot.channel
    slot.delete()
    messages.success(request, _("Queue slot removed."))
    return _back(request, channel)


W = "w/<slug:ws>/channels/"

urlpatterns = [
    path(W, channel_list, name="list"),
    path(f"{W}connect/mastodon/", connect.connect_mastodon, name="connect_mastodon"),
    path(
        f"{W}connect/mastodon/token/",
        connect.connect_mastodon_token,
        name="connect_mastodon_token",
    ),
    path(f"{W}connect/bluesky/", connect.connect_bluesky, name="connect_bluesky"),
    path(f"{W}connect/app/<slug:network>/", oauth.connect_app, name="connect_app"),
    path(
        f"{W}connect/app/<slug:network>/token/", oauth.connect_app_token, name="connect_app_token"
    ),
    path(f"{W}connect/app/<slug:network>/choose/", oauth.choose_accounts, name="choose_accounts"),
    # Fixed, without the workspace: the instance must be given one redirect URI per app.
    path("channels/oauth/mastodon/callback/", connect.mastodon_callback, name="mastodon_callback"),
    # Fixed per network: the redirect URI registered in the network's developer console.
    path("channels/oauth/<slug:network>/callback/", oauth.app_callback, name="app_callback"),
    # A post's image for networks that download it (Instagram, Threads): the signed token
    # is the key.
    path("channels/media/<str:token>", media.public_media, name="public_media"),
    path(f"{W}<int:channel_id>/", channel_detail, name="detail"),
    path(f"{W}<int:channel_id>/rename/", channel_rename, name="rename"),
    path(f"{W}<int:channel_id>/reconnect/", channel_reconnect, name="reconnect"),
    path(f"{W}<int:channel_id>/disable/", channel_disable, name="disable"),
    path(f"{W}<int:channel_id>/enable/", channel_enable, name="enable"),
    path(f"{W}<int:channel_id>/remove/", channel_remove, name="remove"),
    path(f"{W}<int:channel_id>/slots/", slot_add, name="slot_add"),
    path(f"{W}slots/<int:slot_id>/remove/", slot_remove, name="slot_remove"),
]
