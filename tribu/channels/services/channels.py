"""Connecting, reconnecting and removing channels, and keeping their tokens fresh.

A typed authentication failure (PublishError kind `reauth`) never fails a delivery: the
channel moves to "reconnect needed", its owners are notified, and its deliveries are held
until someone reconnects it; they then go out, or wait for a decision if too late.
"""

import threading
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.channels.models import Channel, ChannelState
from tribu.channels.networks import client_class, supported
from tribu.channels.networks.base import ErrorKind, PublishError
from tribu.core.services.audit import record


class ChannelError(Exception):
    """A channel that cannot be connected; the message says why and what to do."""

    def __init__(self, message, *, code="invalid", field=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def store_secrets(channel, secrets, *, token_expires_at=None):
    """Keep tokens a client just obtained (a refreshed session) at once."""
    merged = {**channel.secret_values, **secrets}
    channel.set_secrets(merged)
    fields = {"secrets": channel.secrets}
    if token_expires_at is not None:
        channel.token_expires_at = token_expires_at
        fields["token_expires_at"] = token_expires_at
    Channel.objects.filter(pk=channel.pk).update(**fields)


def connect(workspace, network, base_url, credentials, *, actor=None, request=None, name=""):
    """Check the credentials against the network and create the channel, or reconnect the
    existing channel of the same account."""
    if not supported(network):
        raise ChannelError(
            _("Tribu cannot connect %(network)s accounts yet.") % {"network": network},
            code="unsupported",
            field="network",
        )
    from tribu.listening.fetch.http import FetchError, check_url

    base_url = (base_url or "").strip()
    if base_url and "://" not in base_url:
        base_url = "https://" + base_url
    base_url = base_url.rstrip("/")
    try:
        check_url(base_url)
    except FetchError as error:
        raise ChannelError(error.message, field="base_url") from None
    try:
        account = client_class(network).connect(base_url, credentials)
    except PublishError as error:
        if error.code in ("blocked_address", "invalid_url", "dns"):
            raise ChannelError(error.message, code=error.code, field="base_url") from None
        if error.kind == ErrorKind.RETRY_LATER and not error.sent:
            raise ChannelError(
                _("Tribu could not reach %(url)s. Check the address. (%(detail)s)")
                % {"url": base_url, "detail": error.detail or error.message},
                code=error.code,
                field="base_url",
            ) from None
        raise ChannelError(error.message, code=error.code) from None
    return save_account(
        workspace, network, base_url, account, actor=actor, request=request, name=name
    )


def save_account(workspace, network, base_url, account, *, actor=None, request=None, name=""):
    """Create the channel of a checked account (an Account from connect() or from an OAuth
    grant), or reconnect the existing channel of the same account, releasing what it held."""
    now = timezone.now()
    with transaction.atomic():
        channel, created = Channel.objects.get_or_create(
            workspace=workspace,
            network=network,
            base_url=base_url,
            account_id=account.account_id,
            defaults={
                "name": name or account.name or account.handle,
                "handle": account.handle,
                "created_by": actor,
            },
        )
        channel.handle = account.handle
        channel.avatar_url = account.avatar_url or ""
        channel.account_kind = account.account_kind or channel.account_kind
        channel.set_secrets(account.secrets)
        channel.token_expires_at = account.token_expires_at
        channel.next_refresh_at = account.refresh_at or next_refresh_for(account.token_expires_at)
        channel.consent_expires_at = account.consent_expires_at
        channel.limits = account.limits or {}
        channel.checked_at = now
        channel.connected_at = now
        # A reconnection (or a connection of a disabled channel) releases held posts.
        was_reconnect = channel.state in (ChannelState.RECONNECT, ChannelState.DISABLED)
        channel.state = ChannelState.ACTIVE
        channel.problem_code = ""
        channel.problem_detail = ""
        if name:
            channel.name = name
        channel.save()
        action = "channel.connected" if created else "channel.reconnected"
        record(workspace, action, actor=actor, request=request, target=channel.name,
               network=network)  # fmt: skip
    if was_reconnect:
        release_held(channel)
    return channel


def needs_reconnect(channel, code, detail):
    """The network refused the channel's credentials: hold its deliveries and tell the
    people who can reconnect it. Idempotent: a second failure changes nothing."""
    from tribu.publishing.services.deliveries import hold_channel

    moved = Channel.objects.filter(pk=channel.pk, state=ChannelState.ACTIVE).update(
        state=ChannelState.RECONNECT, problem_code=code[:64], problem_detail=detail[:2000]
    )
    hold_channel(channel)
    if moved:
        channel.state = ChannelState.RECONNECT
        record(channel.workspace, "channel.reconnect_needed", target=channel.name,
               code=code)  # fmt: skip
        from tribu.channels.services.notifying import reconnect_needed

        reconnect_needed(channel)
    return bool(moved)


def release_held(channel):
    from tribu.publishing.models import Delivery, DeliveryState, HoldReason
    from tribu.publishing.services.deliveries import release

    return release(
        Delivery.objects.filter(
            channel=channel, state=DeliveryState.HELD, hold_reason=HoldReason.RECONNECT
        )
    )


def disable(channel, *, actor=None, request=None):
    Channel.objects.filter(pk=channel.pk).update(state=ChannelState.DISABLED)
    from tribu.publishing.services.deliveries import hold_channel

    hold_channel(channel)
    record(channel.workspace, "channel.disabled", actor=actor, request=request,
           target=channel.name)  # fmt: skip


def enable(channel, *, actor=None, request=None):
    """Disabled → active (or back to "reconnect needed" when it was refused before being
    disabled), releasing what was held. Returns (released ids, stale ids)."""
    target = ChannelState.RECONNECT if channel.problem_code else ChannelState.ACTIVE
    moved = Channel.objects.filter(pk=channel.pk, state=ChannelState.DISABLED).update(state=target)
    channel.refresh_from_db()
    if not moved:
        return [], []
    record(channel.workspace, "channel.enabled", actor=actor, request=request,
           target=channel.name)  # fmt: skip
    if target != ChannelState.ACTIVE:
        return [], []
    return release_held(channel)


def remove(channel, *, actor=None, request=None):
    """Delete a channel. Its published deliveries go with it (the posts stay); refused
    while a delivery on it may be on its way to the network."""
    from tribu.publishing.models import DeliveryState

    if channel.deliveries.filter(state__in=(DeliveryState.CLAIMED, DeliveryState.SENDING)).exists():
        raise ChannelError(
            _("A post is being sent on this channel right now: try again in a minute."),
            code="busy",
        )
    record(channel.workspace, "channel.removed", actor=actor, request=request,
           target=channel.name)  # fmt: skip
    channel.delete()


# Keeping tokens fresh -----------------------------------------------------------------------

# Refresh this long before a token expires, so a post due at that moment finds it valid.
REFRESH_AHEAD = timedelta(minutes=15)
REFRESH_LEASE = timedelta(minutes=5)
REFRESH_RETRY = timedelta(minutes=10)


_refresh_locks = defaultdict(threading.Lock)
_refresh_locks_guard = threading.Lock()


def refresh_lock(channel):
    """The `refresh_lock` of a channel's client: one refresh at a time per channel, in this
    process (a lock per channel: SQLite has no row locks) and across workers (the channel's
    row, locked FOR UPDATE on PostgreSQL). It yields the secrets as stored once the lock is
    held; new tokens stored by `on_secrets` inside it commit when it is released."""

    @contextmanager
    def hold():
        if channel.pk is None:
            yield None
            return
        with _refresh_locks_guard:
            local = _refresh_locks[channel.pk]
        with local, transaction.atomic():
            row = Channel.objects.select_for_update().filter(pk=channel.pk).only("secrets").first()
            yield row.secret_values if row is not None else None

    return hold


def next_refresh_for(token_expires_at):
    return token_expires_at - REFRESH_AHEAD if token_expires_at else None


def refresh(channel_id, lease=None):
    """Refresh one channel's tokens (claimed by the tick). A refused refresh means the
    channel needs reconnecting; a network problem tries again in a few minutes."""
    channel = Channel.objects.select_related("workspace").filter(pk=channel_id).first()
    if channel is None or channel.state != ChannelState.ACTIVE:
        return None
    if lease is not None and channel.next_refresh_at != lease:
        return None  # another worker holds it
    from tribu.channels.networks import client_for

    now = timezone.now()
    try:
        account = client_for(
            channel, on_secrets=lambda secrets: store_secrets(channel, secrets)
        ).refresh()
    except PublishError as error:
        if error.kind == ErrorKind.REAUTH:
            Channel.objects.filter(pk=channel.pk).update(next_refresh_at=None)
            needs_reconnect(channel, error.code, error.detail or error.message)
            return False
        Channel.objects.filter(pk=channel.pk).update(next_refresh_at=now + REFRESH_RETRY)
        return False
    if account is None:
        Channel.objects.filter(pk=channel.pk).update(next_refresh_at=None, checked_at=now)
        return True
    if account.secrets:
        store_secrets(channel, account.secrets)
    expires = account.token_expires_at
    fields = {
        "token_expires_at": expires,
        "next_refresh_at": getattr(account, "refresh_at", None) or next_refresh_for(expires),
        "checked_at": now,
    }
    if getattr(account, "consent_expires_at", None):
        fields["consent_expires_at"] = account.consent_expires_at
    Channel.objects.filter(pk=channel.pk).update(**fields)
    return True
