from datetime import time

from tribu.notifications.models import Notification, NotificationPreference


def test_preferences_are_saved(owner_client, workspace, user):
    response = owner_client.get("/w/acme/notifications/preferences/")
    assert response.status_code == 200
    assert "Test notifications" in response.content.decode()
    response = owner_client.post(
        "/w/acme/notifications/preferences/",
        {"email": "daily", "quiet_start": "22:00", "quiet_end": "07:00",
         "muted_kinds": ["tests.managers"]},
    )  # fmt: skip
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=user, workspace=workspace)
    assert (pref.email, pref.quiet_start, pref.quiet_end) == ("daily", time(22), time(7))
    assert pref.muted_kinds == ["tests.managers"]


def test_half_quiet_hours_are_refused_with_an_explanation(owner_client, workspace):
    response = owner_client.post(
        "/w/acme/notifications/preferences/", {"email": "immediate", "quiet_start": "22:00"}
    )
    assert response.status_code == 400
    assert "Give both the start and the end of your quiet hours" in response.content.decode()


def test_send_me_a_test(owner_client, workspace, user, mailoutbox):
    response = owner_client.post("/w/acme/notifications/preferences/test/", follow=True)
    assert "A test notification was added" in response.content.decode()
    [notification] = Notification.objects.filter(user=user)
    assert notification.kind == "notifications.test"


def test_a_muted_test_says_so(owner_client, workspace, user):
    NotificationPreference.objects.create(
        user=user, workspace=workspace, muted_kinds=["notifications.test"]
    )
    response = owner_client.post("/w/acme/notifications/preferences/test/", follow=True)
    assert "You muted test notifications" in response.content.decode()
    assert not Notification.objects.exists()


def test_a_viewer_sets_their_own_preferences(client_for, workspace, team):
    client = client_for(team["viewer"])
    response = client.post("/w/acme/notifications/preferences/", {"email": "off"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=team["viewer"]).email == "off"
