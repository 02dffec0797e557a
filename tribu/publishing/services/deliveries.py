"""Deliveries: one post on one channel, and every move of their state graph except sending
(that is the publisher's, tribu/publishing/publisher.py).

Every move is a conditional UPDATE on the state the caller saw (`move`), so two people, or
a person and a worker, acting at once make exactly one move; the loser gets a
DeliveryError that says to reload. Each move writes a line in the delivery's log.
"""

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.channels.models import ChannelState
from tribu.core.services.audit import record
from tribu.publishing.models import (
    CLAIMABLE_STATES,
    Delivery,
    DeliveryLog,
    DeliveryState,
    HoldReason,
    Post,
    PostStatus,
    PublishingSettings,
)
from tribu.publishing.services.late import is_too_late

# States in which the network may have the post, or is being asked for it: a post with a
# delivery in one of these can no longer be edited or unscheduled for that channel.
STARTED_STATES = (
    DeliveryState.CLAIMED,
    DeliveryState.SENDING,
    DeliveryState.PUBLISHED,
    DeliveryState.UNKNOWN,
)
# States that have not reached the network and can be dropped when a post is unscheduled.
PENDING_STATES = (
    DeliveryState.SCHEDULED,
    DeliveryState.RETRYING,
    DeliveryState.HELD,
    DeliveryState.FAILED,
    DeliveryState.CANCELLED,
)


class DeliveryError(Exception):
    """A move the delivery's state does not allow; the message says why, for the user."""


def settings_for(workspace):
    settings, _created = PublishingSettings.objects.get_or_create(workspace=workspace)
    return settings


def log(delivery, event, *, state="", message="", request="", status_code=None,
        duration_ms=None, url="", worker="", actor=None, at=None):  # fmt: skip
    return DeliveryLog.objects.create(
        delivery_id=delivery.pk if hasattr(delivery, "pk") else delivery,
        at=at or timezone.now(),
        event=event,
        state=state,
        message=message,
        request=request[:500],
        status_code=status_code,
        duration_ms=duration_ms,
        url=url[:1000],
        worker=worker[:255],
        actor=actor,
    )


def move(delivery, state, *, expect=None, event=None, message="", actor=None, **fields):
    """Move `delivery` to `state` if the graph allows it and nobody moved it meanwhile.

    `expect` is the state (or states) the caller saw; by default the instance's. Returns the
    refreshed delivery; raises DeliveryError when the move is not allowed or was lost."""
    seen = expect or delivery.state
    seen = (seen,) if isinstance(seen, str) else tuple(seen)
    if delivery.state not in seen or not all(state in _allowed(s) for s in seen):
        raise DeliveryError(
            _("This delivery is %(state)s; that action is not possible now.")
            % {"state": delivery.get_state_display().lower()}
        )
    now = timezone.now()
    fields.setdefault("updated_at", now)
    if state != DeliveryState.HELD:
        fields.setdefault("hold_reason", "")
    if state in (DeliveryState.SCHEDULED, DeliveryState.RETRYING, DeliveryState.HELD):
        fields.setdefault("claimed_by", "")
        fields.setdefault("lease_until", None)
    moved = Delivery.objects.filter(pk=delivery.pk, state__in=seen).update(state=state, **fields)
    if not moved:
        raise DeliveryError(_("Someone else changed this delivery meanwhile: reload the page."))
    delivery.refresh_from_db()
    log(delivery, event or state, state=state, message=message, actor=actor, at=now)
    return delivery


def _allowed(state):
    from tribu.publishing.models import DELIVERY_TRANSITIONS

    return DELIVERY_TRANSITIONS[DeliveryState(state)]


# Creation -------------------------------------------------------------------------------


def create_for_post(post, *, now=None):
    """Create (or bring back) one delivery per channel of a post that was just scheduled,
    due at its publish time. A paused workspace or a channel to reconnect holds them."""
    now = now or timezone.now()
    settings = settings_for(post.workspace)
    # A time already past is kept: the publisher's late rule then holds the delivery for a
    # person when it is too late (an approval that came hours after the slot).
    due = post.publish_at or now
    created = []
    for variant in post.variants.select_related("channel"):
        channel = variant.channel
        hold = ""
        if settings.paused:
            hold = HoldReason.PAUSED
        elif channel.state != ChannelState.ACTIVE:
            hold = HoldReason.RECONNECT
        state = DeliveryState.HELD if hold else DeliveryState.SCHEDULED
        delivery, is_new = Delivery.objects.get_or_create(
            post=post,
            channel=channel,
            defaults={
                "workspace_id": post.workspace_id,
                "state": state,
                "hold_reason": hold,
                "due_at": due,
                "next_attempt_at": due,
            },
        )
        if not is_new:
            if delivery.state in STARTED_STATES:
                continue
            Delivery.objects.filter(pk=delivery.pk).update(
                state=state, hold_reason=hold, due_at=due, next_attempt_at=due,
                attempts=0, error_code="", error_kind="", error_message="", content={},
                stage={}, claimed_by="", lease_until=None, updated_at=now,
            )  # fmt: skip
            delivery.refresh_from_db()
        log(delivery, "scheduled", state=state, at=now,
            message=HoldReason(hold).label if hold else "")  # fmt: skip
        created.append(delivery)
    # Channels removed from the post since an earlier scheduling: drop what never started.
    Delivery.objects.filter(post=post, state__in=PENDING_STATES).exclude(
        channel__in=post.variants.values("channel")
    ).delete()
    return created


def drop_pending(post):
    """Unscheduling or sending back to review: forget deliveries that never reached the
    network. Refuses when one already started (see STARTED_STATES)."""
    if post.deliveries.filter(state__in=STARTED_STATES).exists():
        raise DeliveryError(
            _(
                "This post is already being published (or was) on at least one channel: it "
                "can no longer be changed there. Duplicate it to publish a new version."
            )
        )
    post.deliveries.filter(state__in=PENDING_STATES).delete()


def reschedule(post, publish_at):
    """Move the pending deliveries of a scheduled post to its new time."""
    post.deliveries.filter(
        state__in=(DeliveryState.SCHEDULED, DeliveryState.RETRYING, DeliveryState.HELD)
    ).exclude(hold_reason__in=(HoldReason.PAUSED, HoldReason.RECONNECT)).update(
        state=DeliveryState.SCHEDULED,
        hold_reason="",
        due_at=publish_at,
        next_attempt_at=publish_at,
        updated_at=timezone.now(),
    )
    post.deliveries.filter(
        state=DeliveryState.HELD, hold_reason__in=(HoldReason.PAUSED, HoldReason.RECONNECT)
    ).update(due_at=publish_at, next_attempt_at=publish_at, updated_at=timezone.now())


def settle_post(post_id, now=None):
    """Mark a post published once every delivery is published: one conditional UPDATE, in
    SQL because the publisher runs it for every delivery it sends."""
    now = now or timezone.now()
    post_table, delivery_table = Post._meta.db_table, Delivery._meta.db_table
    sql = (
        f"UPDATE {post_table} SET status = %s, published_at = %s "  # noqa: S608
        f"WHERE id = %s AND status = %s AND NOT EXISTS "
        f"(SELECT 1 FROM {delivery_table} WHERE post_id = %s AND state <> %s)"
    )
    params = [
        PostStatus.PUBLISHED.value,
        connection.ops.adapt_datetimefield_value(now),
        post_id,
        PostStatus.SCHEDULED.value,
        post_id,
        DeliveryState.PUBLISHED.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Human decisions ------------------------------------------------------------------------


def publish_now(delivery, actor, *, request=None):
    """A held (too late, or held by a pause/reconnection that is over) or failed delivery
    goes out now."""
    now = timezone.now()
    if delivery.state == DeliveryState.HELD and delivery.hold_reason != HoldReason.LATE:
        _check_can_release(delivery)
    delivery = move(
        delivery, DeliveryState.SCHEDULED, event="publish_now", actor=actor,
        message=_("Publish now, decided by %(name)s.") % {"name": _name(actor)},
        due_at=now, next_attempt_at=now, attempts=0, error_code="", error_kind="",
        error_message="",
    )  # fmt: skip
    _audit(delivery, "delivery.publish_now", actor, request)
    return delivery


def publish_again(delivery, actor, *, request=None):
    """An unknown outcome the team checked by hand: the post is NOT on the network."""
    now = timezone.now()
    delivery = move(
        delivery, DeliveryState.SCHEDULED, expect=DeliveryState.UNKNOWN, event="publish_again",
        actor=actor, message=_("Not on the network, publish again: decided by %(name)s.")
        % {"name": _name(actor)},
        due_at=now, next_attempt_at=now, reconcile_at=None, stage={}, content={},
    )  # fmt: skip
    _audit(delivery, "delivery.publish_again", actor, request)
    return delivery


def mark_published(delivery, actor, *, url="", request=None):
    """An unknown outcome the team checked by hand: the post IS on the network."""
    now = timezone.now()
    delivery = move(
        delivery, DeliveryState.PUBLISHED, expect=DeliveryState.UNKNOWN, event="marked_published",
        actor=actor, message=_("Found on the network by %(name)s.") % {"name": _name(actor)},
        published_at=now, remote_url=url or delivery.remote_url, reconcile_at=None,
    )  # fmt: skip
    settle_post(delivery.post_id, now)
    _audit(delivery, "delivery.marked_published", actor, request)
    return delivery


def reschedule_one(delivery, actor, at, *, request=None):
    """A held or failed delivery goes out at a new time (the late rule measures from it)."""
    if delivery.state == DeliveryState.HELD and delivery.hold_reason != HoldReason.LATE:
        _check_can_release(delivery)
    delivery = move(
        delivery, DeliveryState.SCHEDULED, event="rescheduled", actor=actor,
        message=_("Rescheduled by %(name)s.") % {"name": _name(actor)},
        due_at=at, next_attempt_at=at, attempts=0, error_code="", error_kind="",
        error_message="",
    )  # fmt: skip
    _audit(delivery, "delivery.rescheduled", actor, request)
    return delivery


def drop(delivery, actor, *, request=None):
    delivery = move(
        delivery, DeliveryState.CANCELLED, event="dropped", actor=actor,
        message=_("Dropped by %(name)s.") % {"name": _name(actor)}, reconcile_at=None,
    )  # fmt: skip
    _audit(delivery, "delivery.dropped", actor, request)
    return delivery


def _check_can_release(delivery):
    settings = settings_for(delivery.workspace)
    if settings.paused:
        raise DeliveryError(
            _("Publishing is paused for this workspace: resume it first, then decide.")
        )
    if delivery.channel.state != ChannelState.ACTIVE:
        raise DeliveryError(
            _("The channel %(channel)s must be reconnected before it can publish.")
            % {"channel": delivery.channel.name}
        )


def _name(actor):
    return getattr(actor, "display_name", "") or getattr(actor, "email", "") or _("someone")


def _audit(delivery, action, actor, request):
    record(
        delivery.workspace, action, actor=actor, request=request,
        target=str(delivery.post)[:120], delivery_id=delivery.pk,
        channel=delivery.channel.name,
    )  # fmt: skip


# Holds: the crisis switch and channels to reconnect --------------------------------------


def _hold(deliveries, reason, states):
    """Hold `deliveries` that are in one of `states`, with one log line each. The rows are
    locked first, so the log names exactly the deliveries that moved."""
    now = timezone.now()
    with transaction.atomic():
        held = list(
            deliveries.filter(state__in=states).select_for_update().values_list("id", flat=True)
        )
        Delivery.objects.filter(pk__in=held).update(
            state=DeliveryState.HELD, hold_reason=reason, claimed_by="", lease_until=None,
            updated_at=now,
        )  # fmt: skip
        DeliveryLog.objects.bulk_create(
            DeliveryLog(delivery_id=pk, at=now, event="held", state=DeliveryState.HELD,
                        message=str(HoldReason(reason).label))
            for pk in held
        )  # fmt: skip
    return len(held)


def hold_workspace(workspace):
    """Hold every delivery that has not started: scheduled, retrying, or claimed by a worker
    that has not contacted the network yet (it re-checks before sending)."""
    return _hold(
        Delivery.objects.filter(workspace=workspace),
        HoldReason.PAUSED,
        (*CLAIMABLE_STATES, DeliveryState.CLAIMED),
    )


def hold_channel(channel):
    """A channel needs reconnecting: hold its deliveries that have not started (a claimed
    one is held by its worker, which re-checks the channel before sending)."""
    return _hold(Delivery.objects.filter(channel=channel), HoldReason.RECONNECT, CLAIMABLE_STATES)


def release(deliveries, *, now=None, late_limit=None):
    """Send held deliveries back to the queue after a pause or a reconnection. Those now
    later than the workspace's limit stay held as "too late": a person decides. Returns
    (released, stale) lists of ids."""
    now = now or timezone.now()
    released, stale = [], []
    for delivery in deliveries.select_related("workspace", "channel"):
        if delivery.channel.state != ChannelState.ACTIVE:
            # Resuming after a pause does not make a disconnected channel publish.
            Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.HELD).update(
                hold_reason=HoldReason.RECONNECT, updated_at=now
            )
            continue
        limit = late_limit
        if limit is None:
            limit = settings_for(delivery.workspace).late_limit_minutes
        if is_too_late(delivery.due_at, now, limit):
            stale.append(delivery.pk)
        else:
            released.append(delivery.pk)
    with transaction.atomic():
        Delivery.objects.filter(pk__in=released, state=DeliveryState.HELD).update(
            state=DeliveryState.SCHEDULED, hold_reason="", next_attempt_at=F("due_at"),
            updated_at=now,
        )  # fmt: skip
        Delivery.objects.filter(pk__in=stale, state=DeliveryState.HELD).update(
            hold_reason=HoldReason.LATE, updated_at=now
        )
        DeliveryLog.objects.bulk_create(
            [DeliveryLog(delivery_id=pk, at=now, event="released",
                         state=DeliveryState.SCHEDULED) for pk in released]
            + [DeliveryLog(delivery_id=pk, at=now, event="held", state=DeliveryState.HELD,
                           message=str(HoldReason.LATE.label)) for pk in stale]
        )  # fmt: skip
    return released, stale
