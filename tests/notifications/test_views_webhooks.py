import pytest

from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.notifications.models import Delivery, DeliveryAttempt, Webhook

ADD = {"name": "Slack #community", "url": "https://hooks.example/T1", "format": "slack",
       "kinds": ["tests.spike"]}  # fmt: skip


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_only_admins_manage_webhooks(client_for, workspace, make_member, role):
    client = client_for(make_member(workspace, role))
    assert client.get("/w/acme/notifications/webhooks/").status_code == 403
    assert client.post("/w/acme/notifications/webhooks/add/", ADD).status_code == 403
    assert not Webhook.objects.exists()


def test_adding_shows_the_secret_once(owner_client, workspace):
    response = owner_client.post("/w/acme/notifications/webhooks/add/", ADD)
    assert response.status_code == 200
    webhook = Webhook.objects.get()
    assert (webhook.name, webhook.format, webhook.kinds) == (
        "Slack #community", "slack", ["tests.spike"],
    )  # fmt: skip
    assert webhook.secret in response.content.decode()
    detail = owner_client.get(f"/w/acme/notifications/webhooks/{webhook.pk}/")
    assert webhook.secret not in detail.content.decode()
    assert AuditEvent.objects.filter(action="webhook.created").count() == 1


def test_a_private_address_is_refused_on_the_form(owner_client, workspace, settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    response = owner_client.post(
        "/w/acme/notifications/webhooks/add/", {**ADD, "url": "http://192.168.1.10/hook"}
    )
    assert response.status_code == 400
    assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in response.content.decode()
    assert not Webhook.objects.exists()


def test_reveal_toggle_test_and_delete(owner_client, workspace):
    webhook = Webhook.objects.create(workspace=workspace, name="hook", url="https://a.example/")
    base = f"/w/acme/notifications/webhooks/{webhook.pk}/"
    response = owner_client.post(base + "secret/")
    assert webhook.secret in response.content.decode()
    owner_client.post(base + "toggle/")
    webhook.refresh_from_db()
    assert not webhook.enabled
    owner_client.post(base + "test/")
    delivery = Delivery.objects.get(webhook=webhook)
    assert delivery.kind == "notifications.test" and delivery.state == "pending"
    assert owner_client.get(base + "delete/").status_code == 200
    response = owner_client.post(base + "delete/")
    assert response.status_code == 302
    assert not Webhook.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="webhook.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["webhook.secret_revealed", "webhook.disabled", "webhook.deleted"]


def test_the_log_shows_every_attempt(owner_client, workspace):
    webhook = Webhook.objects.create(workspace=workspace, name="hook", url="https://a.example/")
    delivery = Delivery.objects.create(
        workspace=workspace, channel="webhook", webhook=webhook, kind="tests.spike",
        state="failed", attempts=2, last_error="Gave up after 2 attempts.",
    )  # fmt: skip
    DeliveryAttempt.objects.create(delivery=delivery, number=1, status=500, error="Boom one")
    DeliveryAttempt.objects.create(delivery=delivery, number=2, status=503, error="Boom two",
                                   response_excerpt="maintenance")  # fmt: skip
    html = owner_client.get(f"/w/acme/notifications/webhooks/{webhook.pk}/").content.decode()
    for text in ("Gave up after 2 attempts.", "Boom one", "Boom two", "503", "maintenance"):
        assert text in html


def test_another_workspaces_webhook_is_not_found(owner_client, workspace, make_workspace):
    other = make_workspace()
    webhook = Webhook.objects.create(workspace=other, name="x", url="https://a.example/")
    response = owner_client.post(f"/w/acme/notifications/webhooks/{webhook.pk}/delete/")
    assert response.status_code == 404
    assert Webhook.objects.filter(pk=webhook.pk).exists()
