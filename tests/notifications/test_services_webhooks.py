"""What webhooks send: generic signed JSON, Slack, Mattermost and Teams payloads, and the
signature a receiver verifies (the snippet of docs/notifications.md)."""

import hashlib
import hmac
import json

import pytest

from tribu.core.models import AuditEvent
from tribu.core.services.audit import describe
from tribu.listening.fetch.http import FetchError
from tribu.notifications.models import Delivery, Webhook
from tribu.notifications.services import notify, webhooks


def verify(secret, headers, body):
    """What a receiver does (docs/notifications.md)."""
    timestamp = headers["X-Tribu-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest("sha256=" + expected, headers["X-Tribu-Signature"])


def delivery_for(workspace, format):
    webhook = Webhook.objects.create(
        workspace=workspace, name=format, url="https://hooks.example/", format=format
    )
    notify(workspace, "tests.spike", params={"topic": "<Aube & co>", "count": 5},
           url="/w/acme/listening/")  # fmt: skip
    return Delivery.objects.get(webhook=webhook)


def test_generic_payload_is_signed_and_in_the_workspace_language(workspace, settings):
    settings.TRIBU_BASE_URL = "https://tribu.example"
    delivery = delivery_for(workspace, "generic")
    body, headers = webhooks.request_for(delivery, timestamp=1700000000)
    payload = json.loads(body)
    assert payload == {
        "id": delivery.payload["id"],
        "kind": "tests.spike",
        "workspace": "acme",
        "title": "[fr] Spike on <Aube & co>",  # acme is French
        "body": "5 mentions\nlanguage fr",
        "url": "https://tribu.example/w/acme/listening/",
        "params": {"topic": "<Aube & co>", "count": 5},
        "created_at": delivery.payload["created_at"],
    }
    assert headers["X-Tribu-Event"] == "tests.spike"
    assert headers["X-Tribu-Delivery"] == str(delivery.pk)
    assert headers["X-Tribu-Timestamp"] == "1700000000"
    assert verify(delivery.webhook.secret, headers, body)
    assert not verify("another secret", headers, body)
    assert not verify(delivery.webhook.secret, headers, body + b" ")


def test_slack_text_links_the_title_and_escapes_control_characters(workspace, settings):
    settings.TRIBU_BASE_URL = "https://tribu.example"
    payload = json.loads(webhooks.request_for(delivery_for(workspace, "slack"))[0])
    assert payload == {
        "text": "<https://tribu.example/w/acme/listening/|[fr] Spike on &lt;Aube &amp; co&gt;>"
        "\n5 mentions\nlanguage fr"
    }


def test_mattermost_text_is_markdown(workspace, settings):
    settings.TRIBU_BASE_URL = "https://tribu.example"
    payload = json.loads(webhooks.request_for(delivery_for(workspace, "mattermost"))[0])
    assert payload["text"].startswith(
        "[\\[fr\\] Spike on \\<Aube & co\\>](https://tribu.example/w/acme/listening/)\n"
    )


def test_teams_gets_an_adaptive_card(workspace, settings):
    settings.TRIBU_BASE_URL = "https://tribu.example"
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    payload = json.loads(webhooks.request_for(delivery_for(workspace, "teams"))[0])
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "[en] Spike on <Aube & co>"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Tribu",
                                "url": "https://tribu.example/w/acme/listening/"}]  # fmt: skip


def test_creating_refuses_a_private_address_and_a_bad_one(workspace, settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    for url in ("http://127.0.0.1:8000/hook", "http://[::1]/", "http://10.0.0.5/"):
        with pytest.raises(FetchError) as error:
            webhooks.create_webhook(workspace, name="x", url=url, format="generic", kinds=[])
        assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in error.value.message
    with pytest.raises(FetchError):
        webhooks.create_webhook(workspace, name="x", url="ftp://a.example/", format="generic",
                                kinds=[])  # fmt: skip
    assert not Webhook.objects.exists()


def test_changes_are_audited_with_sentences(workspace, user):
    hook = webhooks.create_webhook(
        workspace, name="Slack", url="https://hooks.example/x", format="slack", kinds=[],
        actor=user,
    )  # fmt: skip
    webhooks.set_enabled(hook, False, actor=user)
    webhooks.reveal_secret(hook, actor=user)
    old = hook.secret
    assert webhooks.rotate_secret(hook, actor=user) != old
    webhooks.delete_webhook(hook, actor=user)
    sentences = [describe(e) for e in AuditEvent.objects.filter(
        action__startswith="webhook.").order_by("id")]  # fmt: skip
    assert sentences == [
        "alice@example.com added the webhook “Slack” (https://hooks.example/x).",
        "alice@example.com turned off the webhook “Slack”.",
        "alice@example.com displayed the signing secret of the webhook “Slack”.",
        "alice@example.com replaced the signing secret of the webhook “Slack”.",
        "alice@example.com deleted the webhook “Slack”.",
    ]


def test_the_secret_is_encrypted_at_rest(workspace):
    from django.db import connection

    hook = Webhook.objects.create(workspace=workspace, name="x", url="https://a.example/")
    assert hook.secret.startswith("whsec_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_webhook WHERE id = %s", [hook.pk])
        stored = cursor.fetchone()[0]
    assert hook.secret not in stored
