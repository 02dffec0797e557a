"""The tick's claimer: rules created lazily for every topic, claimed by one worker only."""

from datetime import timedelta

from tribu.alerts import tasks
from tribu.alerts.models import AlertRule
from tribu.alerts.services.detection import LEASE, next_check_after
from tribu.core import tick
from tribu.listening.models import Topic

from .conftest import NOW


def test_the_claimer_is_registered():
    assert tasks.claim_due_rules in tick.CLAIMERS


def test_every_topic_gets_a_rule_and_is_checked_once_per_step(topic, workspace, time_machine):
    time_machine.move_to(NOW, tick=False)
    other = Topic.objects.create(workspace=workspace, name="Concurrent", query="rival")
    assert tasks.claim_due_rules(NOW) == 2
    rules = AlertRule.objects.order_by("topic_id")
    assert [rule.topic_id for rule in rules] == [topic.id, other.id]
    # Huey runs the check inline in tests: each rule is now due at the next step.
    for rule in rules:
        assert rule.last_checked_at == NOW
        assert rule.next_check_at == next_check_after(NOW) > NOW
    assert tasks.claim_due_rules(NOW) == 0
    time_machine.move_to(next_check_after(NOW), tick=False)
    assert tasks.claim_due_rules(next_check_after(NOW)) == 2


def test_two_workers_never_both_win_a_rule(topic):
    rule = AlertRule.objects.create(topic=topic, workspace=topic.workspace, next_check_at=NOW)
    # Both workers read the same due value, then race to claim it.
    first = tasks.claim(rule.pk, NOW, NOW)
    second = tasks.claim(rule.pk, NOW, NOW)
    assert first == NOW + LEASE and second is None
    # A rule never scheduled yet is claimed once too.
    AlertRule.objects.filter(pk=rule.pk).update(next_check_at=None)
    assert tasks.claim(rule.pk, None, NOW) is not None
    assert tasks.claim(rule.pk, None, NOW) is None


def test_rules_turned_off_are_not_claimed(topic):
    AlertRule.objects.create(topic=topic, workspace=topic.workspace, sensitivity="off")
    assert tasks.claim_due_rules(NOW) == 0
    AlertRule.objects.update(sensitivity="normal", watch_volume=False, watch_negative=False)
    assert tasks.claim_due_rules(NOW) == 0
    AlertRule.objects.update(watch_negative=True)
    assert tasks.claim_due_rules(NOW) == 1


def test_an_expired_lease_is_claimed_again(topic):
    rule = AlertRule.objects.create(topic=topic, workspace=topic.workspace, next_check_at=NOW)
    lease = tasks.claim(rule.pk, NOW, NOW)  # this worker then dies without checking
    assert tasks.claim_due_rules(NOW + timedelta(minutes=1)) == 0
    assert tasks.claim_due_rules(lease) == 1
