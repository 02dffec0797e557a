import threading
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tribu.channels.models import Channel
from tribu.publishing.models import Post, PostStatus, PostVariant, Ritual
from tribu.publishing.services import rituals
from tribu.publishing.services.rituals import (
    materialize,
    materialize_due,
    occurrences,
    resync,
    skip,
    validate_rule,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
CHATHAM = zoneinfo.ZoneInfo("Pacific/Chatham")
# Zones with daylight saving in both hemispheres, a 45-minute offset (Chatham) and a
# 30-minute change (Lord Howe).
ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def ritual_of(rule, starts_on, at_time, skipped=()):
    """An unsaved ritual: occurrences() needs no database."""
    return Ritual(rule=rule, starts_on=starts_on, at_time=at_time, skipped=list(skipped))


def local_times(moments, tz):
    return [moment.astimezone(tz).replace(tzinfo=None) for moment in moments]


# validate_rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "normalised"),
    [
        ("FREQ=WEEKLY;BYDAY=TU", "FREQ=WEEKLY;BYDAY=TU"),
        ("freq=monthly;byday=1mo", "FREQ=MONTHLY;BYDAY=1MO"),
        ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"),
        (" FREQ=DAILY ", "FREQ=DAILY"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
    ],
)
def test_valid_rules_are_accepted_and_normalised(rule, normalised):
    assert validate_rule(rule, starts_on=date(2026, 5, 1)) == normalised


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("", "empty_rule"),
        ("BYDAY=TU", "invalid_rule"),  # no FREQ
        ("FREQ=FORTNIGHTLY", "invalid_rule"),
        ("FREQ=WEEKLY;BYDAY=XX", "invalid_rule"),
        ("FREQ=WEEKLY;COLOR=RED", "invalid_rule"),
        ("FREQ=WEEKLY;BYDAY=TU;FREQ=DAILY", "invalid_rule"),
        ("FREQ=WEEKLY;UNTIL=tomorrow", "invalid_rule"),
        ("FREQ=DAILY\nEXDATE:20260101T090000", "invalid_rule"),
        ("not a rule at all", "invalid_rule"),
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "dtstart_in_rule"),
        ("FREQ=DAILY;DTSTART=20260101T090000", "dtstart_in_rule"),
        ("FREQ=HOURLY", "rule_too_frequent"),
        ("FREQ=MINUTELY;INTERVAL=30", "rule_too_frequent"),
        ("FREQ=SECONDLY", "rule_too_frequent"),
        ("FREQ=DAILY;BYHOUR=9,17", "time_in_rule"),
        ("FREQ=WEEKLY;BYMINUTE=30", "time_in_rule"),
        ("FREQ=DAILY;INTERVAL=0", "invalid_interval"),
        ("FREQ=DAILY;INTERVAL=-2", "invalid_interval"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "rule_without_occurrence"),
        ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "rule_without_occurrence"),
        ("FREQ=WEEKLY;COUNT=0", "rule_without_occurrence"),
        ("FREQ=WEEKLY;UNTIL=20200101", "rule_without_occurrence"),
        ("FREQ=WEEKLY;BYDAY=TU;" + "X" * 500, "rule_too_long"),
    ],
)
def test_bad_rules_are_refused_with_an_example(rule, code):
    with pytest.raises(ValidationError) as caught:
        validate_rule(rule, starts_on=date(2026, 5, 1))
    assert caught.value.code == code
    # Every message shows how a correct rule looks.
    assert "FREQ=" in caught.value.messages[0]


def test_a_rule_that_never_happens_is_refused_quickly():
    # dateutil alone would walk day by day to the year 9999 (seconds of CPU).
    started = datetime.now()
    with pytest.raises(ValidationError):
        validate_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", starts_on=date(2026, 5, 1))
    assert datetime.now() - started < timedelta(seconds=2)


def test_rule_ending_before_its_first_day_has_no_occurrence():
    rule = "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260601"
    assert validate_rule(rule, starts_on=date(2026, 5, 1))
    with pytest.raises(ValidationError):
        validate_rule(rule, starts_on=date(2026, 6, 2))


# occurrences: examples ----------------------------------------------------------------


def test_a_weekly_ritual_stays_at_nine_local_time_across_daylight_saving():
    tuesdays = ritual_of("FREQ=WEEKLY;BYDAY=TU", date(2026, 3, 1), time(9, 0))
    found = occurrences(tuesdays, utc(2026, 3, 1), utc(2026, 4, 15), PARIS)
    assert [moment.day for moment in found] == [3, 10, 17, 24, 31, 7, 14]
    assert {moment.astimezone(PARIS).time() for moment in found} == {time(9, 0)}
    # Winter time until 29 March (UTC+1), summer time after (UTC+2).
    assert found[3] == utc(2026, 3, 24, 8, 0)
    assert found[4] == utc(2026, 3, 31, 7, 0)


def test_a_time_in_the_spring_gap_moves_forward_by_the_gap():
    # Paris skips from 02:00 to 03:00 on 29 March 2026: 02:30 does not exist that day.
    nightly = ritual_of("FREQ=DAILY", date(2026, 3, 27), time(2, 30))
    found = occurrences(nightly, utc(2026, 3, 27), utc(2026, 3, 31), PARIS)
    assert local_times(found, PARIS) == [
        datetime(2026, 3, 27, 2, 30),
        datetime(2026, 3, 28, 2, 30),
        datetime(2026, 3, 29, 3, 30),
        datetime(2026, 3, 30, 2, 30),
    ]
    assert found[2] == utc(2026, 3, 29, 1, 30)


def test_a_time_in_the_chatham_gap_moves_forward_by_the_gap():
    # Chatham (UTC+12:45) jumps from 02:45 to 03:45 on 27 September 2026.
    nightly = ritual_of("FREQ=DAILY", date(2026, 9, 26), time(3, 0))
    found = occurrences(nightly, utc(2026, 9, 25), utc(2026, 9, 28, 12), CHATHAM)
    assert local_times(found, CHATHAM) == [
        datetime(2026, 9, 26, 3, 0),
        datetime(2026, 9, 27, 4, 0),
        datetime(2026, 9, 28, 3, 0),
    ]


def test_an_ambiguous_time_is_its_first_occurrence_and_only_once():
    # New York repeats 01:00–02:00 on 1 November 2026 (EDT, then EST).
    nightly = ritual_of("FREQ=DAILY", date(2026, 10, 30), time(1, 30))
    found = occurrences(nightly, utc(2026, 10, 30), utc(2026, 11, 3), NEW_YORK)
    assert found == [
        utc(2026, 10, 30, 5, 30),
        utc(2026, 10, 31, 5, 30),
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, not 01:30 EST (06:30 UTC)
        utc(2026, 11, 2, 6, 30),
    ]


def test_the_window_is_half_open_and_starts_on_the_first_day():
    daily = ritual_of("FREQ=DAILY", date(2026, 5, 10), time(9, 0))
    found = occurrences(daily, utc(2026, 5, 1), utc(2026, 5, 12, 7, 0), PARIS)
    assert found == [utc(2026, 5, 10, 7, 0), utc(2026, 5, 11, 7, 0)]
    # An occurrence exactly at `start` is in, one exactly at `end` is out.
    assert occurrences(daily, utc(2026, 5, 11, 7), utc(2026, 5, 12, 7), PARIS) == [
        utc(2026, 5, 11, 7)
    ]


def test_skipped_occurrences_are_left_out():
    # Stored as local times without offset; an entry with an offset works too, and junk is
    # ignored.
    daily = ritual_of(
        "FREQ=DAILY",
        date(2026, 5, 1),
        time(9, 0),
        skipped=["2026-05-02T09:00:00", "2026-05-04T09:00", "2026-05-05T07:00:00+00:00", "?"],
    )
    found = occurrences(daily, utc(2026, 5, 1), utc(2026, 5, 7), PARIS)
    assert [moment.day for moment in found] == [1, 3, 6]


def test_a_skipped_gap_occurrence_matches_its_rule_time_or_its_moved_time():
    for entry in ("2026-03-29T02:30:00", "2026-03-29T03:30:00"):
        nightly = ritual_of("FREQ=DAILY", date(2026, 3, 28), time(2, 30), skipped=[entry])
        found = occurrences(nightly, utc(2026, 3, 28), utc(2026, 3, 31), PARIS)
        assert [moment.day for moment in found] == [28, 30]


def test_until_as_a_date_includes_that_day_and_a_utc_until_is_converted():
    by_date = ritual_of("FREQ=DAILY;UNTIL=20260503", date(2026, 5, 1), time(21, 0))
    found = occurrences(by_date, utc(2026, 4, 1), utc(2026, 6, 1), PARIS)
    assert [moment.astimezone(PARIS).day for moment in found] == [1, 2, 3]
    # 19:00 UTC is 21:00 in Paris in May: the 2 May occurrence is the last one.
    by_utc = ritual_of("FREQ=DAILY;UNTIL=20260502T190000Z", date(2026, 5, 1), time(21, 0))
    found = occurrences(by_utc, utc(2026, 4, 1), utc(2026, 6, 1), PARIS)
    assert [moment.astimezone(PARIS).day for moment in found] == [1, 2]


def test_monthly_and_every_other_week_rules():
    first_monday = ritual_of("FREQ=MONTHLY;BYDAY=1MO", date(2026, 1, 1), time(10, 0))
    found = occurrences(first_monday, utc(2026, 1, 1), utc(2026, 5, 1), PARIS)
    assert [moment.astimezone(PARIS).date() for moment in found] == [
        date(2026, 1, 5),
        date(2026, 2, 2),
        date(2026, 3, 2),
        date(2026, 4, 6),
    ]
    fortnight = ritual_of("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", date(2026, 5, 4), time(10, 0))
    found = occurrences(fortnight, utc(2026, 5, 1), utc(2026, 6, 1), PARIS)
    assert [moment.astimezone(PARIS).day for moment in found] == [4, 7, 18, 21]


# occurrences: properties across daylight saving changes --------------------------------

# Times near the changes (01:00–04:00 local) come up often; any other time can too.
AROUND_CHANGES = [time(hour, minute) for hour in (1, 2, 3) for minute in (0, 10, 30, 45, 50)]
rule_times = st.one_of(
    st.sampled_from(AROUND_CHANGES),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)


@st.composite
def series(draw):
    interval = draw(st.sampled_from([1, 1, 1, 2, 3]))
    if draw(st.booleans()):
        rule = "FREQ=DAILY" + (f";INTERVAL={interval}" if interval > 1 else "")
        days = set(range(7))
    else:
        days = draw(st.sets(st.integers(0, 6), min_size=1))
        byday = ",".join(WEEKDAYS[day] for day in sorted(days))
        rule = f"FREQ=WEEKLY;BYDAY={byday}" + (f";INTERVAL={interval}" if interval > 1 else "")
    return rule, days, interval


def selected(day, starts_on, days, interval, daily):
    """The rule's days computed without dateutil: on or after the first day, on one of the
    weekdays, in every `interval`-th day (daily) or week (weekly, weeks starting Monday)."""
    if day < starts_on or day.weekday() not in days:
        return False
    if daily:
        return (day - starts_on).days % interval == 0
    monday = day - timedelta(days=day.weekday())
    first_monday = starts_on - timedelta(days=starts_on.weekday())
    return ((monday - first_monday).days // 7) % interval == 0


def exists(naive, tz):
    """Whether the wall-clock time happens in `tz` (it is not in a spring-forward gap)."""
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    shape=series(),
    at_time=rule_times,
    starts_on=st.dates(date(2024, 1, 1), date(2028, 12, 31)),
    offset_days=st.integers(-30, 400),
    length_hours=st.integers(1, 24 * 400),
)
def test_occurrences_keep_the_local_time_across_changes(
    zone, shape, at_time, starts_on, offset_days, length_hours
):
    tz = zoneinfo.ZoneInfo(zone)
    rule, days, interval = shape
    daily = rule.startswith("FREQ=DAILY")
    start = datetime.combine(starts_on, time(0), tzinfo=UTC) + timedelta(days=offset_days)
    end = start + timedelta(hours=length_hours)

    found = occurrences(ritual_of(rule, starts_on, at_time), start, end, tz)

    # Strictly increasing (so no duplicate), all inside [start, end).
    assert all(earlier < later for earlier, later in zip(found, found[1:], strict=False))
    assert all(start <= moment < end for moment in found)
    produced_days = []
    for moment in found:
        wall = moment.astimezone(tz).replace(tzinfo=None)
        day = wall.date()
        produced_days.append(day)
        assert selected(day, starts_on, days, interval, daily), (rule, wall)
        naive = datetime.combine(day, at_time)
        if exists(naive, tz):
            # HH:MM local, and the first of two instants when the time happens twice.
            assert wall == naive
            assert moment <= naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
        else:
            # Inside a gap: moved forward by the length of the gap.
            gap = (
                moment.astimezone(tz).utcoffset()
                - (moment - timedelta(hours=3)).astimezone(tz).utcoffset()
            )
            assert gap > timedelta(0)
            assert wall == naive + gap
    # Every selected day strictly inside the window is there, once.
    first_day = start.astimezone(tz).date()
    last_day = end.astimezone(tz).date()
    inner = {
        first_day + timedelta(days=index)
        for index in range(1, (last_day - first_day).days)
        if selected(first_day + timedelta(days=index), starts_on, days, interval, daily)
    }
    assert len(produced_days) == len(set(produced_days))
    assert inner <= set(produced_days)


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    at_time=rule_times,
    starts_on=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    cut_hours=st.integers(1, 24 * 120),
)
def test_split_windows_give_the_same_occurrences(zone, at_time, starts_on, cut_hours):
    # A window cut in two anywhere gives the same series: nothing lost or doubled at a cut
    # (the tick materializes window after window).
    tz = zoneinfo.ZoneInfo(zone)
    daily = ritual_of("FREQ=DAILY", starts_on, at_time)
    start = datetime.combine(starts_on, time(0), tzinfo=UTC)
    end = start + timedelta(days=121)
    cut = start + timedelta(hours=cut_hours)
    whole = occurrences(daily, start, end, tz)
    assert occurrences(daily, start, cut, tz) + occurrences(daily, cut, end, tz) == whole


# materialize ---------------------------------------------------------------------------


def make_channel(workspace, name="Mastodon", account_id="1"):
    return Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        name=name,
        base_url="https://mastodon.example",
        account_id=account_id,
    )


@pytest.fixture
def channels(workspace):
    return [make_channel(workspace, "Brand", "1"), make_channel(workspace, "Team", "2")]


@pytest.fixture
def tuesdays(workspace, channels, user):
    ritual = Ritual.objects.create(
        workspace=workspace,
        name="#MardiConseil",
        rule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=date(2026, 3, 1),
        at_time=time(9, 0),
        template="Le conseil du mardi : …",
        created_by=user,
    )
    ritual.channels.set(channels)
    return ritual


NOW = utc(2026, 3, 2, 12, 0)  # a Monday


def test_materialize_creates_draft_posts_with_a_variant_per_channel(tuesdays, channels):
    created = materialize(tuesdays, NOW + timedelta(days=21), now=NOW)

    assert [post.publish_at for post in created] == [
        utc(2026, 3, 3, 8, 0),
        utc(2026, 3, 10, 8, 0),
        utc(2026, 3, 17, 8, 0),
    ]
    for post in Post.objects.filter(ritual=tuesdays):
        assert post.status == PostStatus.DRAFT
        assert post.text == tuesdays.template
        assert post.occurrence_at == post.publish_at
        assert post.workspace_id == tuesdays.workspace_id
        assert post.title == "#MardiConseil"
        assert post.created_by == tuesdays.created_by
        assert {variant.channel for variant in post.variants.all()} == set(channels)
        assert not post.deliveries.exists()  # drafts: nothing is scheduled


def test_materialize_is_idempotent_and_extends_the_horizon(tuesdays):
    first = materialize(tuesdays, NOW + timedelta(days=14), now=NOW)
    again = materialize(tuesdays, NOW + timedelta(days=14), now=NOW)
    later = materialize(tuesdays, NOW + timedelta(days=28), now=NOW + timedelta(days=1))

    assert len(first) == 2
    assert again == []
    assert [post.publish_at.day for post in later] == [17, 24]
    assert Post.objects.filter(ritual=tuesdays).count() == 4
    assert PostVariant.objects.filter(post__ritual=tuesdays).count() == 8


def test_materialize_keeps_edited_posts_and_leaves_out_skipped_and_past_ones(tuesdays):
    materialize(tuesdays, NOW + timedelta(days=14), now=NOW)
    Post.objects.filter(ritual=tuesdays).update(text="Edited by the team")
    tuesdays.skipped = ["2026-03-17T09:00:00"]
    tuesdays.save()

    created = materialize(tuesdays, NOW + timedelta(days=21), now=NOW + timedelta(days=7))

    assert created == []  # the 10th exists, the 17th is skipped, the 3rd is past
    assert set(Post.objects.filter(ritual=tuesdays).values_list("text", flat=True)) == {
        "Edited by the team"
    }


def test_materialize_ignores_inactive_rituals(tuesdays):
    tuesdays.active = False
    tuesdays.save()
    assert materialize(tuesdays, NOW + timedelta(days=14), now=NOW) == []
    assert not Post.objects.exists()


def test_creating_an_existing_occurrence_gives_none_and_keeps_the_transaction(tuesdays, channels):
    [post] = materialize(tuesdays, NOW + timedelta(days=7), now=NOW)
    # What a concurrent call meets when the other one inserted first: the unique constraint.
    assert rituals._create_post(tuesdays, post.occurrence_at, channels) is None
    # The savepoint rolled back only the failed insert: the transaction still works.
    assert Post.objects.filter(ritual=tuesdays).count() == 1
    assert post.variants.count() == 2


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    zone=st.sampled_from(ZONES),
    shape=series(),
    at_time=rule_times,
    starts_on=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    now_offset_hours=st.integers(-24 * 10, 24 * 40),
    horizons=st.lists(st.integers(1, 24 * 60), min_size=2, max_size=4),
)
def test_materialize_is_idempotent_whatever_the_rule_and_the_calls(
    make_workspace, zone, shape, at_time, starts_on, now_offset_hours, horizons
):
    rule, _days, _interval = shape
    with transaction.atomic():
        workspace = make_workspace(timezone=zone)
        ritual = Ritual.objects.create(
            workspace=workspace, name="r", rule=rule, starts_on=starts_on, at_time=at_time
        )
        ritual.channels.add(make_channel(workspace))
        now = datetime.combine(starts_on, time(0), tzinfo=UTC) + timedelta(hours=now_offset_hours)
        created = []
        for hours in horizons:
            created += materialize(ritual, now + timedelta(hours=hours), now=now)
        expected = occurrences(ritual, now, now + timedelta(hours=max(horizons)))
        stored = list(
            Post.objects.filter(ritual=ritual)
            .order_by("occurrence_at")
            .values_list("occurrence_at", flat=True)
        )
        assert stored == expected
        assert sorted(post.occurrence_at for post in created) == expected
        assert materialize(ritual, now + timedelta(hours=max(horizons)), now=now) == []
        transaction.set_rollback(True)


def test_materialize_due_fills_every_active_ritual(make_workspace, tuesdays):
    other = make_workspace(timezone="America/New_York")
    Ritual.objects.create(
        workspace=other, name="daily", rule="FREQ=DAILY", starts_on=date(2026, 1, 1),
        at_time=time(8, 0),
    )  # fmt: skip
    Ritual.objects.create(
        workspace=other, name="off", rule="FREQ=DAILY", starts_on=date(2026, 1, 1),
        at_time=time(8, 0), active=False,
    )  # fmt: skip
    # A rule stored without validation (say, by the admin) does not stop the others.
    Ritual.objects.create(
        workspace=other, name="broken", rule="FREQ=HOURLY", starts_on=date(2026, 1, 1),
        at_time=time(8, 0),
    )  # fmt: skip

    count = materialize_due(NOW, horizon=timedelta(days=7))

    assert count == 1 + 7
    assert Post.objects.filter(ritual=tuesdays).count() == 1
    assert Post.objects.filter(ritual__name="daily").count() == 7
    assert not Post.objects.filter(ritual__name__in=["off", "broken"]).exists()
    assert materialize_due(NOW, horizon=timedelta(days=7)) == 0
    # The default horizon is eight weeks: up to 27 April, 12:00 UTC (excluded).
    assert materialize_due(NOW) == (8 - 1) + (56 - 7)


@pytest.mark.postgres
@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: two connections inserting at once",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_materialize_calls_never_fail_nor_double(tuesdays):
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(len(materialize(tuesdays, NOW + timedelta(days=365), now=NOW)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(results) == 53 == Post.objects.filter(ritual=tuesdays).count()
    assert PostVariant.objects.filter(post__ritual=tuesdays).count() == 2 * 53


# skip ----------------------------------------------------------------------------------


def test_skip_records_the_local_time_and_deletes_an_untouched_draft(tuesdays):
    posts = materialize(tuesdays, NOW + timedelta(days=14), now=NOW)

    assert skip(tuesdays, posts[0].occurrence_at) is None

    tuesdays.refresh_from_db()
    assert tuesdays.skipped == ["2026-03-03T09:00:00"]
    assert not Post.objects.filter(pk=posts[0].pk).exists()
    assert Post.objects.filter(pk=posts[1].pk).exists()
    # Not created again, and skipping twice records it once.
    assert materialize(tuesdays, NOW + timedelta(days=14), now=NOW) == []
    skip(tuesdays, posts[0].occurrence_at)
    tuesdays.refresh_from_db()
    assert tuesdays.skipped == ["2026-03-03T09:00:00"]


@pytest.mark.parametrize("edit", ["text", "status", "variant"])
def test_skip_keeps_a_post_someone_worked_on(tuesdays, edit):
    [post] = materialize(tuesdays, NOW + timedelta(days=7), now=NOW)
    if edit == "text":
        Post.objects.filter(pk=post.pk).update(text="Edited")
    elif edit == "status":
        Post.objects.filter(pk=post.pk).update(status=PostStatus.IN_REVIEW)
    else:
        post.variants.filter(channel__name="Team").update(text="Only for the team")

    kept = skip(tuesdays, post.occurrence_at)

    assert kept == post
    assert Post.objects.filter(pk=post.pk).exists()
    tuesdays.refresh_from_db()
    assert tuesdays.skipped == ["2026-03-03T09:00:00"]
    # The occurrence is out of the series, even though its post stays.
    assert occurrences(tuesdays, NOW, NOW + timedelta(days=7)) == []


def test_skip_accepts_a_local_time_in_the_gap(workspace):
    assert workspace.timezone == "Europe/Paris"
    nightly = Ritual.objects.create(
        workspace=workspace, name="n", rule="FREQ=DAILY", starts_on=date(2026, 3, 28),
        at_time=time(2, 30),
    )  # fmt: skip
    now = utc(2026, 3, 28)
    materialize(nightly, utc(2026, 3, 31), now=now)
    # The rule's own local time, as a calendar page would name it: 02:30 that does not exist.
    skip(nightly, datetime(2026, 3, 29, 2, 30))
    assert [post.publish_at for post in Post.objects.filter(ritual=nightly)] == [
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]
    assert [moment.day for moment in occurrences(nightly, now, utc(2026, 3, 31))] == [28, 30]


def test_resync_brings_untouched_drafts_in_line_and_leaves_edited_ones(tuesdays, channels):
    materialize(tuesdays, NOW + timedelta(days=21), now=NOW)  # the 3rd, 10th and 17th
    edited = Post.objects.get(ritual=tuesdays, occurrence_at=utc(2026, 3, 10, 8, 0))
    Post.objects.filter(pk=edited.pk).update(text="Edited by the team")
    before = Ritual(pk=tuesdays.pk, name=tuesdays.name, template=tuesdays.template)
    # The series moves to Wednesdays, with a new template and only one channel.
    tuesdays.rule = "FREQ=WEEKLY;BYDAY=WE"
    tuesdays.template = "Le conseil du mercredi"
    tuesdays.save()
    tuesdays.channels.set(channels[:1])

    resync(tuesdays, before, NOW, horizon=timedelta(days=21))

    remaining = Post.objects.filter(ritual=tuesdays)
    # Untouched Tuesday drafts left the series; the edited one is kept as it is.
    assert list(remaining.values_list("text", flat=True)) == ["Edited by the team"]
    created = materialize(tuesdays, NOW + timedelta(days=21), now=NOW)
    assert [post.publish_at for post in created] == [
        utc(2026, 3, 4, 8, 0),
        utc(2026, 3, 11, 8, 0),
        utc(2026, 3, 18, 8, 0),
    ]
    assert all(post.text == "Le conseil du mercredi" for post in created)
    assert {v.channel for post in created for v in post.variants.all()} == {channels[0]}
