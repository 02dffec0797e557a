"""The tick's token-refresh claimer: channels whose access token expires soon."""

from huey.contrib.djhuey import db_task

from tribu.channels.models import Channel, ChannelState
from tribu.channels.services import channels
from tribu.core.tick import claim_leases, claimer


@claimer
def claim_token_refreshes(now):
    due = (
        Channel.objects.filter(state=ChannelState.ACTIVE, next_refresh_at__lte=now)
        .order_by("next_refresh_at")
        .values_list("id", "next_refresh_at")
    )
    lease = now + channels.REFRESH_LEASE
    return claim_leases(due, Channel, "next_refresh_at", lease, now, refresh_task)


@db_task(retries=1, retry_delay=60)
def refresh_task(channel_id, lease):
    channels.refresh(channel_id, lease)
