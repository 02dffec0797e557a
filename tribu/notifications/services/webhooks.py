"""Outgoing webhooks: what is sent (generic signed JSON, Slack, Mattermost, Teams), how it
is POSTed (through the listening SSRF guard, no redirects), and their management."""

import hashlib
import hmac
import ipaddress
import json
import time
import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tribu.core.services.audit import record
from tribu.listening.fetch.http import (
    Limits,
    address_is_blocked,
    blocked_error,
    check_url,
    parse_retry_after,
    private_addresses_allowed,
    send,
)
from tribu.notifications.kinds import render
from tribu.notifications.models import Delivery, Webhook, new_secret

# A webhook receiver must answer quickly; we only keep the start of what it says.
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
EXCERPT_BYTES = 2048


def absolute_url(url):
    if url.startswith("/"):
        return settings.TRIBU_BASE_URL.rstrip("/") + url
    return url


# Payloads ------------------------------------------------------------------------------


def event_texts(workspace, event):
    """(title, body) of a webhook event, in the workspace's language."""
    with translation.override(workspace.language or settings.LANGUAGE_CODE):
        return render(event.get("kind", ""), event.get("params") or {})


def slack_escape(text):
    # Slack's mrkdwn control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escape(text):
    return "".join("\\" + char if char in "\\`*_[]()<>#|~" else char for char in text)


def build_payload(webhook, workspace, event):
    """The JSON document POSTed for `event` in the webhook's format."""
    title, body = event_texts(workspace, event)
    url = absolute_url(event.get("url") or "")
    if webhook.format == Webhook.Format.SLACK:
        head = f"<{url}|{slack_escape(title)}>" if url else f"*{slack_escape(title)}*"
        return {"text": head + (f"\n{slack_escape(body)}" if body else "")}
    if webhook.format == Webhook.Format.MATTERMOST:
        head = f"[{markdown_escape(title)}]({url})" if url else f"**{markdown_escape(title)}**"
        return {"text": head + (f"\n{markdown_escape(body)}" if body else "")}
    if webhook.format == Webhook.Format.TEAMS:
        return teams_payload(workspace, title, body, url)
    return {
        "id": event.get("id", ""),
        "kind": event.get("kind", ""),
        "workspace": workspace.slug,
        "title": title,
        "body": body,
        "url": url,
        "params": event.get("params") or {},
        "created_at": event.get("created_at", ""),
    }


def teams_payload(workspace, title, body, url):
    """A message for a Teams Workflows "post to a channel when a webhook request is
    received" flow: one Adaptive Card attachment."""
    card_body = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True}
    ]
    if body:
        card_body.append({"type": "TextBlock", "text": body, "wrap": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": card_body,
    }
    if url:
        with translation.override(workspace.language or settings.LANGUAGE_CODE):
            label = _("Open in Tribu")
        card["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": url}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def sign(secret, timestamp, body):
    """Hex HMAC-SHA256 of "<timestamp>.<body>" (body as bytes)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def request_for(delivery, timestamp=None):
    """(body bytes, headers) for one attempt of a webhook delivery."""
    webhook = delivery.webhook
    payload = build_payload(webhook, delivery.workspace, delivery.payload)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Tribu-Event": delivery.kind,
        "X-Tribu-Delivery": str(delivery.pk),
        "X-Tribu-Timestamp": str(timestamp),
        "X-Tribu-Signature": "sha256=" + sign(webhook.secret, timestamp, body),
    }
    return body, headers


# HTTP ----------------------------------------------------------------------------------


class PostResult:
    def __init__(self, status, headers, excerpt, elapsed):
        self.status = status
        self.headers = headers
        self.excerpt = excerpt
        self.elapsed = elapsed

    @property
    def retry_after(self):
        return parse_retry_after(self.headers.get("retry-after"))


def post(url, body, headers, *, allow_private=None):
    """POST `body` to `url` through the guarded `send` of tribu.listening.fetch.http (every
    resolved address checked and the connection pinned to it, no redirects, bounded time),
    reading only an excerpt of the answer. Returns a PostResult whatever the status; raises
    FetchError when no answer came."""
    result = send(
        "POST",
        url,
        body=body,
        headers={"Accept": "*/*", **headers},
        limits=Limits(max_seconds=TOTAL_TIMEOUT, connect_timeout=CONNECT_TIMEOUT),
        allow_private=allow_private,
        excerpt=EXCERPT_BYTES,
    )
    return PostResult(
        result.status, result.headers, result.body.decode("utf-8", "replace"), result.elapsed
    )


# Management ----------------------------------------------------------------------------


def check_address(url):
    """Refuse at once what the worker would refuse anyway: a malformed address, or an IP
    literal on a private network (host names are checked at every delivery)."""
    _scheme, host, _port, _path = check_url(url)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if address_is_blocked(address, allow_private=private_addresses_allowed(None)):
        raise blocked_error(url, host)


def create_webhook(workspace, *, name, url, format, kinds, actor=None, request=None):
    check_address(url)
    webhook = Webhook.objects.create(
        workspace=workspace,
        name=name,
        url=url,
        format=format,
        kinds=sorted(set(kinds)),
        created_by=actor,
    )
    record(workspace, "webhook.created", actor=actor, request=request, target=name,
           url=url, format=format)  # fmt: skip
    return webhook


def set_enabled(webhook, enabled, *, actor=None, request=None):
    Webhook.objects.filter(pk=webhook.pk).update(enabled=enabled)
    webhook.enabled = enabled
    action = "webhook.enabled" if enabled else "webhook.disabled"
    record(webhook.workspace, action, actor=actor, request=request, target=webhook.name)


def delete_webhook(webhook, *, actor=None, request=None):
    record(webhook.workspace, "webhook.deleted", actor=actor, request=request,
           target=webhook.name, url=webhook.url)  # fmt: skip
    webhook.delete()


def reveal_secret(webhook, *, actor=None, request=None):
    record(webhook.workspace, "webhook.secret_revealed", actor=actor, request=request,
           target=webhook.name)  # fmt: skip
    return webhook.secret


def rotate_secret(webhook, *, actor=None, request=None):
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret"])
    record(webhook.workspace, "webhook.secret_rotated", actor=actor, request=request,
           target=webhook.name)  # fmt: skip
    return webhook.secret


def send_test(webhook, *, actor=None):
    """Queue a "notifications.test" event to this webhook only; the worker sends it
    within a tick, and the delivery log shows the outcome."""
    from tribu.notifications.services.notify import webhook_delivery

    params = {"actor": getattr(actor, "display_name", "")}
    url = reverse("notifications:centre", kwargs={"ws": webhook.workspace.slug})
    delivery = webhook_delivery(
        webhook, "notifications.test", params, url, uuid.uuid4(), timezone.now()
    )
    delivery.save()
    return delivery


def recent_deliveries(webhook, limit=50):
    return list(
        Delivery.objects.filter(webhook=webhook)
        .order_by("-created_at", "-id")
        .prefetch_related("log")[:limit]
    )
