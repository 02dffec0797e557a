import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tribu.core.roles import Role
from tribu.notifications.models import Delivery, Notification, NotificationPreference, Webhook
from tribu.notifications.services import notify
from tribu.notifications.services.centre import rendered


def test_members_holding_the_permission_are_notified_but_not_the_actor(team, workspace):
    created = notify(
        workspace, "tests.managers", params={"topic": "Aube"}, url="/w/acme/", actor=team["owner"]
    )
    # listening.manage: owner (the actor, skipped) and editor; not the viewer.
    assert [n.user for n in created] == [team["editor"]]
    assert Notification.objects.count() == 1


def test_default_kind_reaches_every_member(team, workspace):
    notify(workspace, "tests.spike", params={"topic": "Aube"})
    assert set(Notification.objects.values_list("user_id", flat=True)) == {
        team["owner"].pk, team["editor"].pk, team["viewer"].pk,
    }  # fmt: skip


def test_explicit_recipients_are_limited_to_members(team, workspace, make_user):
    outsider = make_user()
    created = notify(workspace, "tests.spike", recipients=[team["viewer"], outsider])
    assert [n.user for n in created] == [team["viewer"]]


def test_inactive_members_are_skipped(team, workspace):
    team["viewer"].is_active = False
    team["viewer"].save(update_fields=["is_active"])
    notify(workspace, "tests.spike")
    assert not Notification.objects.filter(user=team["viewer"]).exists()


def test_texts_are_rendered_in_each_readers_language(team, workspace):
    from django.utils import translation

    notify(workspace, "tests.spike", params={"topic": "Aube", "count": 4})
    for user, language in ((team["editor"], "en"), (team["viewer"], "fr")):
        notification = Notification.objects.get(user=user)
        with translation.override(user.language or workspace.language):
            [shown] = rendered([notification])
        assert shown.title == f"[{language}] Spike on Aube"


def test_a_muted_kind_is_not_notified(team, workspace):
    NotificationPreference.objects.create(
        user=team["editor"], workspace=workspace, muted_kinds=["tests.spike"]
    )
    notify(workspace, "tests.spike")
    assert not Notification.objects.filter(user=team["editor"]).exists()
    assert Notification.objects.filter(user=team["viewer"]).exists()


def test_unknown_kind_and_non_json_params_are_programming_errors(workspace):
    with pytest.raises(KeyError):
        notify(workspace, "no.such.kind")
    with pytest.raises(TypeError):
        notify(workspace, "tests.spike", params={"when": object()})


def test_email_is_scheduled_by_preference(team, workspace):
    NotificationPreference.objects.create(user=team["viewer"], workspace=workspace, email="off")
    notify(workspace, "tests.spike")
    assert Notification.objects.get(user=team["editor"]).email_pending
    assert not Notification.objects.get(user=team["viewer"]).email_pending
    editor_pref = NotificationPreference.objects.get(user=team["editor"], workspace=workspace)
    assert editor_pref.next_email_at is not None
    viewer_pref = NotificationPreference.objects.get(user=team["viewer"], workspace=workspace)
    assert viewer_pref.next_email_at is None


def test_webhooks_subscribed_to_the_kind_get_a_pending_delivery(workspace):
    every = Webhook.objects.create(workspace=workspace, name="all", url="https://a.example/")
    chosen = Webhook.objects.create(
        workspace=workspace, name="spikes", url="https://b.example/", kinds=["tests.spike"]
    )
    Webhook.objects.create(
        workspace=workspace, name="other", url="https://c.example/", kinds=["tests.managers"]
    )
    Webhook.objects.create(workspace=workspace, name="off", url="https://d.example/",
                           enabled=False)  # fmt: skip
    notify(workspace, "tests.spike", params={"topic": "Aube"}, url="/w/acme/listening/")
    deliveries = Delivery.objects.filter(channel="webhook").order_by("webhook_id")
    assert [d.webhook for d in deliveries] == [every, chosen]
    first, second = deliveries
    assert first.state == "pending" and first.next_attempt_at is not None
    assert first.payload["id"] == second.payload["id"]  # one event, two deliveries
    assert first.payload["params"] == {"topic": "Aube"}


def test_notify_is_a_few_queries_and_never_touches_the_network(team, workspace):
    Webhook.objects.create(workspace=workspace, name="down", url="https://127.0.0.1:9/")
    with CaptureQueriesContext(connection) as queries:
        notify(workspace, "tests.spike", params={"topic": "Aube"})
    # members, preferences (+ create), notifications, schedules per recipient, webhooks,
    # deliveries, plus the transaction.
    assert len(queries) <= 12, [q["sql"] for q in queries]
    assert Delivery.objects.get(channel="webhook").attempts == 0


def test_viewer_role_for_a_manager_kind(make_workspace, make_member):
    workspace = make_workspace()
    viewer = make_member(workspace, Role.VIEWER)
    notify(workspace, "tests.managers")
    assert not Notification.objects.filter(user=viewer).exists()
