import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest

from tribu.channels.models import Channel
from tribu.publishing.models import (
    Delivery,
    DeliveryState,
    Post,
    PostStatus,
    PostVariant,
    QueueSlot,
)
from tribu.publishing.services.slots import next_free_slot, next_free_slots, slot_instants

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MONDAY, THURSDAY, SUNDAY = 0, 3, 6


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def make_channel(workspace, name="Brand", account_id="1"):
    return Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        name=name,
        base_url="https://mastodon.example",
        account_id=account_id,
    )


@pytest.fixture
def brand(workspace):
    channel = make_channel(workspace)
    QueueSlot.objects.create(channel=channel, weekday=MONDAY, at_time=time(9, 0))
    QueueSlot.objects.create(channel=channel, weekday=THURSDAY, at_time=time(14, 30))
    return channel


@pytest.fixture
def team(workspace):
    return make_channel(workspace, "Team", "2")


def plan_post(channel, at, status=PostStatus.SCHEDULED):
    post = Post.objects.create(workspace=channel.workspace, text="x", status=status, publish_at=at)
    PostVariant.objects.create(post=post, channel=channel)
    return post


def plan_delivery(channel, at, state=DeliveryState.SCHEDULED):
    # A published post keeps its delivery: the slot it used stays taken.
    post = Post.objects.create(
        workspace=channel.workspace, text="x", status=PostStatus.PUBLISHED, publish_at=at
    )
    return Delivery.objects.create(
        workspace=channel.workspace, post=post, channel=channel, state=state, due_at=at,
        next_attempt_at=at,
    )  # fmt: skip


WEDNESDAY = utc(2026, 3, 11, 10, 0)
THURSDAY_SLOT = utc(2026, 3, 12, 13, 30)  # 14:30 in Paris, winter time
MONDAY_SLOT = utc(2026, 3, 16, 8, 0)


def test_the_first_slot_after_the_given_time(brand):
    assert next_free_slot(brand, after=WEDNESDAY, tz=PARIS) == THURSDAY_SLOT
    # The workspace's zone is the default, and a zone name works too.
    assert next_free_slot(brand, after=WEDNESDAY) == THURSDAY_SLOT
    assert next_free_slot(brand, after=WEDNESDAY, tz="Europe/Paris") == THURSDAY_SLOT


def test_a_slot_exactly_at_after_is_not_free_strictly_after(brand):
    assert next_free_slot(brand, after=THURSDAY_SLOT, tz=PARIS) == MONDAY_SLOT
    just_before = THURSDAY_SLOT - timedelta(microseconds=1)
    assert next_free_slot(brand, after=just_before, tz=PARIS) == THURSDAY_SLOT


@pytest.mark.parametrize(
    "status", [PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED]
)
def test_a_planned_post_on_the_channel_takes_the_slot(brand, status):
    plan_post(brand, THURSDAY_SLOT, status)
    assert next_free_slot(brand, after=WEDNESDAY, tz=PARIS) == MONDAY_SLOT


@pytest.mark.parametrize(
    "state",
    [DeliveryState.SCHEDULED, DeliveryState.PUBLISHED, DeliveryState.HELD, DeliveryState.FAILED],
)
def test_a_delivery_on_the_channel_takes_the_slot(brand, state):
    plan_delivery(brand, THURSDAY_SLOT, state)
    assert next_free_slot(brand, after=WEDNESDAY, tz=PARIS) == MONDAY_SLOT


def test_what_does_not_take_a_slot(brand, team):
    plan_delivery(brand, THURSDAY_SLOT, DeliveryState.CANCELLED)
    plan_post(team, THURSDAY_SLOT)  # another channel
    plan_post(brand, THURSDAY_SLOT + timedelta(minutes=1))  # another time
    Post.objects.create(  # no variant on any channel
        workspace=brand.workspace, status=PostStatus.SCHEDULED, publish_at=THURSDAY_SLOT
    )
    assert next_free_slot(brand, after=WEDNESDAY, tz=PARIS) == THURSDAY_SLOT


def test_slots_keep_their_local_time_across_daylight_saving(brand):
    # Paris moves to summer time on 29 March 2026: Monday 9:00 is 08:00 UTC, then 07:00.
    before = next_free_slot(brand, after=utc(2026, 3, 27), tz=PARIS)
    after = next_free_slot(brand, after=utc(2026, 4, 1), tz=PARIS)
    assert before == utc(2026, 3, 30, 7, 0)
    assert after == utc(2026, 4, 2, 12, 30)
    assert {before.astimezone(PARIS).time(), after.astimezone(PARIS).time()} == {
        time(9, 0),
        time(14, 30),
    }


def test_a_slot_in_the_spring_gap_moves_forward_by_the_gap(workspace):
    night = make_channel(workspace, "Night", "3")
    QueueSlot.objects.create(channel=night, weekday=SUNDAY, at_time=time(2, 30))
    found = next_free_slot(night, after=utc(2026, 3, 28), tz=PARIS)
    assert found == utc(2026, 3, 29, 1, 30)  # 03:30 summer time
    assert found.astimezone(PARIS).time() == time(3, 30)


def test_no_slot_configured_gives_none(team):
    assert next_free_slot(team, after=WEDNESDAY, tz=PARIS) is None
    assert next_free_slots([], WEDNESDAY, PARIS) is None


def test_the_search_stops_after_twelve_weeks(workspace):
    weekly = make_channel(workspace, "Weekly", "4")
    QueueSlot.objects.create(channel=weekly, weekday=MONDAY, at_time=time(9, 0))
    after = utc(2026, 3, 10)  # a Tuesday: twelve Mondays follow within twelve weeks
    mondays = [utc(2026, 3, 16, 8) + timedelta(weeks=index) for index in range(12)]
    mondays = [moment - timedelta(hours=1) if moment >= utc(2026, 3, 29) else moment
               for moment in mondays]  # fmt: skip
    for moment in mondays[:-1]:
        plan_post(weekly, moment)
    assert next_free_slot(weekly, after=after, tz=PARIS) == mondays[-1]
    plan_post(weekly, mondays[-1])
    assert next_free_slot(weekly, after=after, tz=PARIS) is None


def test_several_channels_need_an_instant_free_on_all(brand, team):
    QueueSlot.objects.create(channel=team, weekday=THURSDAY, at_time=time(14, 30))
    # Thursday 14:30 is a slot of both; a post on the team channel takes it for both.
    assert next_free_slots([brand, team], WEDNESDAY, PARIS) == THURSDAY_SLOT
    plan_post(team, THURSDAY_SLOT)
    assert next_free_slots([brand, team], WEDNESDAY, PARIS) == MONDAY_SLOT
    assert next_free_slot(brand, after=WEDNESDAY, tz=PARIS) == THURSDAY_SLOT


def test_several_channels_use_the_slots_of_each(brand, team):
    # The team channel's own slot (Wednesday 18:00) comes first.
    QueueSlot.objects.create(channel=team, weekday=2, at_time=time(18, 0))
    assert next_free_slots([brand, team], WEDNESDAY, PARIS) == utc(2026, 3, 11, 17, 0)


def test_slot_instants_are_sorted_and_within_the_window():
    slots = [(MONDAY, time(9, 0)), (MONDAY, time(9, 0)), (SUNDAY, time(23, 59))]
    after = utc(2026, 3, 1, 22, 59)  # Sunday 23:59 in Paris: excluded (strictly after)
    found = slot_instants(slots, after, after + timedelta(weeks=2), PARIS)
    assert found == [
        utc(2026, 3, 2, 8, 0),
        utc(2026, 3, 8, 22, 59),
        utc(2026, 3, 9, 8, 0),
        utc(2026, 3, 15, 22, 59),  # exactly the end: included
    ]
