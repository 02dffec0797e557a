from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribu.notifications.models import Notification
from tribu.notifications.services import notify


def test_the_centre_lists_my_notifications_newest_first(owner_client, workspace, team):
    notify(workspace, "tests.spike", params={"topic": "Aube"})
    notify(workspace, "tests.spike", params={"topic": "Rotin"})
    Notification.objects.filter(params__topic="Aube").update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    response = owner_client.get("/w/acme/notifications/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    html = response.content.decode()
    # Texts follow the reader's interface language (here her browser's), newest first.
    assert html.index("[fr] Spike on Rotin") < html.index("[fr] Spike on Aube")
    assert html.count("notification-unread") == 2
    assert 'class="bell-count">2<' in html
    english = owner_client.get("/w/acme/notifications/", HTTP_ACCEPT_LANGUAGE="en")
    assert "[en] Spike on Rotin" in english.content.decode()


def test_the_centre_shows_only_my_own(client_for, workspace, team):
    notify(workspace, "tests.spike", params={"topic": "Aube"}, recipients=[team["editor"]])
    response = client_for(team["viewer"]).get("/w/acme/notifications/")
    assert "Spike on Aube" not in response.content.decode()


def test_opening_marks_read_and_follows_the_link(owner_client, workspace, user):
    [notification] = notify(workspace, "tests.spike", url="/w/acme/listening/",
                            recipients=[user])  # fmt: skip
    response = owner_client.get(f"/w/acme/notifications/{notification.pk}/open/")
    assert response.status_code == 302 and response.url == "/w/acme/listening/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    html = owner_client.get("/w/acme/notifications/").content.decode()
    assert "notification-unread" not in html and "bell-count" not in html


def test_an_outside_link_is_not_followed(owner_client, workspace, user):
    [notification] = notify(workspace, "tests.spike", url="https://evil.example/",
                            recipients=[user])  # fmt: skip
    response = owner_client.get(f"/w/acme/notifications/{notification.pk}/open/")
    assert response.url == "/w/acme/notifications/"


def test_someone_elses_notification_is_not_found(owner_client, workspace, team):
    [notification] = notify(workspace, "tests.spike", recipients=[team["editor"]])
    response = owner_client.get(f"/w/acme/notifications/{notification.pk}/open/")
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read(owner_client, workspace, team):
    notify(workspace, "tests.spike")
    notify(workspace, "tests.spike")
    response = owner_client.post("/w/acme/notifications/read-all/", follow=True)
    assert "2 notifications marked as read." in response.content.decode()
    assert not Notification.objects.filter(user=team["owner"], read_at__isnull=True).exists()
    assert Notification.objects.filter(user=team["editor"], read_at__isnull=True).count() == 2


def test_the_badge_costs_one_query(owner_client, workspace, user):
    notify(workspace, "tests.spike", recipients=[user])
    with CaptureQueriesContext(connection) as queries:
        owner_client.get("/w/acme/")
    counts = [q["sql"] for q in queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1 and "COUNT" in counts[0].upper()
