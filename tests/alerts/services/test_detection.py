"""Detection end to end: mention series in the database, checks every five minutes, alerts
with their explanation, notifications and audit events."""

import random
from datetime import timedelta

from tribu.alerts.models import Alert, AlertKind, AlertRule, AlertState
from tribu.alerts.services import detection
from tribu.alerts.services.alerts import close
from tribu.alerts.services.explanation import summary
from tribu.alerts.services.series import counts, step_floor
from tribu.core.models import AuditEvent
from tribu.listening.models import Mention
from tribu.notifications.models import Notification

from ..conftest import NOW, add_mentions, spread, steady_times


def small_brand(topic, days=8, end=NOW, seed=3):
    """Three mentions a day at random hours."""
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    times = [start + timedelta(days=day, seconds=rng.uniform(0, 86400))
             for day in range(days) for _ in range(3)]  # fmt: skip
    return add_mentions(topic, [moment for moment in times if moment < end])


def run_checks(rule, start, end):
    """Check the rule every ten minutes from `start` to `end`, like a busy tick would."""
    opened = []
    moment = start
    while moment <= end:
        opened += detection.check_rule(rule.pk, now=moment) or []
        moment += timedelta(minutes=10)
    return opened


def in_window(topic, alert, sentiment=None):
    mentions = Mention.objects.filter(
        topic_links__topic=topic,
        published_at__gte=alert.window_start,
        published_at__lt=alert.window_end,
    )
    if sentiment:
        mentions = mentions.filter(sentiment=sentiment)
    return mentions.count()


def test_the_series_counts_each_five_minute_step(topic):
    start = step_floor(NOW) - timedelta(minutes=15)
    add_mentions(topic, [start + timedelta(minutes=1), start + timedelta(minutes=2)])
    add_mentions(topic, [start + timedelta(minutes=11)], sentiment="negative")
    add_mentions(topic, [start - timedelta(seconds=1), start + timedelta(minutes=15)])  # outside
    volumes, negatives = counts(topic.id, start, start + timedelta(minutes=15))
    assert (volumes, negatives) == ([2, 0, 1], [0, 0, 1])
    assert counts(topic.id, start, start + timedelta(minutes=15), negative=False) == (
        [2, 0, 1],
        None,
    )


def test_a_small_brand_burst_opens_one_alert_that_explains_itself(topic, workspace, make_member):
    """A volume and a negative surge together are one incident: one alert."""
    viewer = make_member(workspace, role="viewer")
    small_brand(topic)
    burst_start = NOW - timedelta(hours=2)
    add_mentions(topic, spread(burst_start, 18, minutes=60), text="Rappel produit lampe")
    add_mentions(
        topic, spread(burst_start + timedelta(seconds=20), 42, minutes=60),
        sentiment="negative", text="Rappel produit lampe dangereuse", author="@colere",
    )  # fmt: skip
    rule = detection.rule_for(topic)

    opened = run_checks(rule, burst_start, NOW)

    assert len(opened) == 1
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.VOLUME and alert.state == AlertState.OPEN
    assert burst_start < alert.window_end <= burst_start + timedelta(hours=1)
    facts = alert.explanation
    # The figures are those of the hour judged, read from the stored mentions.
    assert facts["observed"] == facts["volume"] == in_window(topic, alert) >= 10
    assert facts["negative"] == in_window(topic, alert, "negative")
    assert facts["negative_share"] == round(100 * facts["negative"] / facts["volume"])
    assert facts["expected"] < 1  # three a day: well under one mention an hour
    assert facts["sources"][0].startswith("news")
    assert "rappel" in facts["terms"] and "produit" in facts["terms"]
    assert facts["authors"] == ["@colere"]
    assert len(facts["mention_ids"]) == 5
    text = summary(facts)
    assert text.startswith(f"{facts['observed']} mentions in the last hour against ")
    assert f"{facts['negative_share']} % negative" in text
    # Everyone who can see the workspace is told; the audit log has it.
    notified = Notification.objects.filter(kind="alert.opened")
    assert {n.user_id for n in notified} == {workspace.memberships.get(role="owner").user_id,
                                             viewer.id}  # fmt: skip
    assert notified.first().url.endswith(f"/alerts/{alert.pk}/")
    assert AuditEvent.objects.filter(action="alert.opened", target_label=topic.name).count() == 1


def test_a_burst_seen_late_still_alerts(topic):
    """Mentions of a step arrive after it was checked (feeds are polled every 15 minutes)."""
    small_brand(topic)
    rule = detection.rule_for(topic)
    detection.check_rule(rule.pk, now=NOW - timedelta(minutes=20))
    add_mentions(topic, spread(NOW - timedelta(minutes=40), 60, minutes=15))
    assert len(detection.check_rule(rule.pk, now=NOW)) == 1


def test_a_steady_large_brand_gets_no_alert_until_it_surges(topic):
    add_mentions(topic, steady_times(2000, 8, step_floor(NOW), seed=7))
    rule = detection.rule_for(topic)
    # Decide on the whole week at once: the detector must stay quiet all along.
    AlertRule.objects.filter(pk=rule.pk).update(examined_until=NOW - timedelta(days=8))
    assert detection.check_rule(rule.pk, now=NOW) == []
    rule.refresh_from_db()
    assert rule.examined_until == step_floor(NOW)
    # 400 more mentions in 40 minutes: that stands out even at 2000 a day.
    add_mentions(topic, spread(NOW + timedelta(minutes=10), 400, minutes=40))
    opened = run_checks(rule, NOW + timedelta(minutes=10), NOW + timedelta(hours=1))
    assert [alert.kind for alert in opened] == [AlertKind.VOLUME]
    assert opened[0].explanation["expected"] > 30  # about 2000 a day: dozens an hour


def test_one_incident_gives_one_alert(topic):
    small_brand(topic, days=13, end=NOW + timedelta(days=5))
    rule = detection.rule_for(topic)
    first = NOW - timedelta(hours=3)
    # Two bursts two hours apart: the detector's refractory period keeps it to one alert.
    add_mentions(topic, spread(first, 60))
    add_mentions(topic, spread(first + timedelta(hours=2), 60))
    assert len(run_checks(rule, first, NOW)) == 1
    # Two days later, the first alert still open: a new burst does not open a second one.
    # (Another hour of the day: the baseline is per hour of the day.)
    later = first + timedelta(days=2, hours=4)
    add_mentions(topic, spread(later, 80))
    assert run_checks(rule, later, later + timedelta(hours=1)) == []
    assert Alert.objects.count() == 1
    rule.refresh_from_db()
    assert later < rule.volume_fired_at <= later + timedelta(hours=1)  # it did fire
    # Once the team has closed it, the next incident opens a new alert (bigger: the week
    # now holds three busy hours, and a bad buzz must stand out from the week).
    close(Alert.objects.get(), user=None)
    last = first + timedelta(days=4, hours=7)
    add_mentions(topic, spread(last, 160))
    assert len(run_checks(rule, last, last + timedelta(hours=1))) == 1
    assert Alert.objects.filter(state=AlertState.OPEN).count() == 1


def test_rechecking_the_same_moment_opens_nothing_new(topic):
    small_brand(topic)
    add_mentions(topic, spread(NOW - timedelta(minutes=50), 60, minutes=30))
    rule = detection.rule_for(topic)
    assert len(detection.check_rule(rule.pk, now=NOW)) == 1
    close(Alert.objects.get(), user=None)
    # The same replay fires on the same step: already acted upon.
    assert detection.check_rule(rule.pk, now=NOW) == []
    assert detection.check_rule(rule.pk, now=NOW + timedelta(minutes=5)) == []


def test_a_negative_surge_opens_a_negative_alert(topic):
    """A brand of 800 mentions a day, ten of them negative, gets 60 negative ones in an hour."""
    add_mentions(topic, steady_times(800, 8, step_floor(NOW), seed=11))
    add_mentions(topic, steady_times(10, 8, step_floor(NOW), seed=12), sentiment="negative")
    add_mentions(topic, spread(NOW - timedelta(minutes=50), 60, minutes=40), sentiment="negative")
    rule = detection.rule_for(topic)
    AlertRule.objects.filter(pk=rule.pk).update(watch_volume=False)
    opened = detection.check_rule(rule.pk, now=NOW)
    assert [alert.kind for alert in opened] == [AlertKind.NEGATIVE]
    topic = opened[0].topic
    facts = opened[0].explanation
    assert facts["observed"] == facts["negative"] == in_window(topic, opened[0], "negative") >= 10
    assert summary(facts).startswith(f"{facts['observed']} negative mentions in the last hour")


def test_sensitivity_off_and_unwatched_kinds_open_nothing(topic):
    small_brand(topic)
    add_mentions(topic, spread(NOW - timedelta(minutes=50), 60, minutes=30), sentiment="negative")
    rule = detection.rule_for(topic)
    AlertRule.objects.filter(pk=rule.pk).update(sensitivity="off")
    assert detection.check_rule(rule.pk, now=NOW) == []
    AlertRule.objects.filter(pk=rule.pk).update(
        sensitivity="normal", watch_volume=False, examined_until=None
    )
    assert [alert.kind for alert in detection.check_rule(rule.pk, now=NOW)] == [AlertKind.NEGATIVE]


def test_no_alert_while_the_workspace_has_just_started_listening(topic):
    # A new workspace's first mentions all arrive at once: no history, no buzz.
    add_mentions(topic, spread(NOW - timedelta(minutes=50), 80, minutes=30))
    rule = detection.rule_for(topic)
    assert detection.check_rule(rule.pk, now=NOW) == []


def test_a_stale_lease_does_nothing(topic):
    rule = detection.rule_for(topic)
    AlertRule.objects.filter(pk=rule.pk).update(next_check_at=NOW)
    assert detection.check_rule(rule.pk, lease=NOW - timedelta(minutes=1), now=NOW) is None
    rule.refresh_from_db()
    assert rule.last_checked_at is None and rule.next_check_at == NOW


def test_a_small_brand_burst_of_30_in_an_hour_alerts_at_normal_sensitivity(topic):
    small_brand(topic)
    add_mentions(topic, spread(NOW - timedelta(minutes=65), 30, minutes=60))
    rule = detection.rule_for(topic)
    opened = detection.check_rule(rule.pk, now=NOW)
    assert len(opened) == 1 and opened[0].sensitivity == "normal"
