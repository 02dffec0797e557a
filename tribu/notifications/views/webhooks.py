"""Outgoing webhooks of the workspace (workspace.edit): list, add, turn on/off, send a
test, reveal the signing secret, delete, and the delivery log with every attempt."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tribu.core.access import workspace_view
from tribu.listening.fetch.http import FetchError
from tribu.notifications import kinds
from tribu.notifications.forms import WebhookForm
from tribu.notifications.models import Webhook
from tribu.notifications.services import webhooks as service


def _webhook(request, webhook_id, method):
    """The workspace's webhook (404 otherwise, before anything else: another workspace's
    object must not even reveal which methods it accepts), then the method check."""
    webhook = get_object_or_404(Webhook, workspace=request.workspace, pk=webhook_id)
    if request.method not in method:
        return webhook, HttpResponseNotAllowed(method)
    return webhook, None


def _list(request, form=None, status=200):
    labels = dict(kinds.choices())
    hooks = list(Webhook.objects.filter(workspace=request.workspace).order_by("name", "id"))
    for hook in hooks:
        hook.kind_names = [labels.get(name, name) for name in hook.kinds]
    return render(
        request,
        "notifications/webhooks.html",
        {"webhooks": hooks, "form": form or WebhookForm()},
        status=status,
    )


def _detail(request, webhook, secret=None, created=False):
    labels = dict(kinds.choices())
    return render(
        request,
        "notifications/webhook.html",
        {
            "webhook": webhook,
            "deliveries": service.recent_deliveries(webhook),
            "kind_names": [labels.get(name, name) for name in webhook.kinds],
            "secret": secret,
            "created": created,
        },
    )


@workspace_view("workspace.edit")
@require_GET
def webhook_list(request):
    return _list(request)


@workspace_view("workspace.edit")
@require_POST
def webhook_add(request):
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    try:
        webhook = service.create_webhook(
            request.workspace, **form.cleaned_data, actor=request.user, request=request
        )
    except FetchError as error:
        form.add_error("url", error.message)
        return _list(request, form, status=400)
    # The secret is shown in this response only; later, "Show the secret" asks again.
    return _detail(request, webhook, secret=webhook.secret, created=True)


@workspace_view("workspace.edit")
def webhook_detail(request, webhook_id):
    webhook, refused = _webhook(request, webhook_id, ["GET", "HEAD"])
    return refused or _detail(request, webhook)


@workspace_view("workspace.edit")
def webhook_toggle(request, webhook_id):
    webhook, refused = _webhook(request, webhook_id, ["POST"])
    if refused:
        return refused
    service.set_enabled(webhook, not webhook.enabled, actor=request.user, request=request)
    if webhook.enabled:
        messages.success(request, _("“%(name)s” is on.") % {"name": webhook.name})
    else:
        messages.success(
            request,
            _("“%(name)s” is off: it receives nothing until you turn it back on.")
            % {"name": webhook.name},
        )
    return redirect("notifications:webhook", request.workspace.slug, webhook.pk)


@workspace_view("workspace.edit")
def webhook_test(request, webhook_id):
    webhook, refused = _webhook(request, webhook_id, ["POST"])
    if refused:
        return refused
    service.send_test(webhook, actor=request.user)
    messages.success(
        request,
        _(
            "A test event is on its way to “%(name)s”. Reload this page in a few seconds "
            "to see how the receiver answered."
        )
        % {"name": webhook.name},
    )
    return redirect("notifications:webhook", request.workspace.slug, webhook.pk)


@workspace_view("workspace.edit")
def webhook_secret(request, webhook_id):
    webhook, refused = _webhook(request, webhook_id, ["POST"])
    if refused:
        return refused
    if request.POST.get("rotate"):
        secret = service.rotate_secret(webhook, actor=request.user, request=request)
        messages.success(
            request,
            _("A new signing secret replaces the old one: update the receiver now."),
        )
    else:
        secret = service.reveal_secret(webhook, actor=request.user, request=request)
    return _detail(request, webhook, secret=secret)


@workspace_view("workspace.edit")
def webhook_delete(request, webhook_id):
    webhook, refused = _webhook(request, webhook_id, ["GET", "HEAD", "POST"])
    if refused:
        return refused
    if request.method == "POST":
        name = webhook.name
        service.delete_webhook(webhook, actor=request.user, request=request)
        messages.success(request, _("The webhook “%(name)s” is deleted.") % {"name": name})
        return redirect("notifications:webhooks", request.workspace.slug)
    return render(request, "notifications/webhook_delete.html", {"webhook": webhook})
