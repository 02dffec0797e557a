"""The notification centre: my notifications in this workspace, newest first."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tribu.core.access import can, workspace_view
from tribu.notifications.services import centre as service

PER_PAGE = 30


@workspace_view("workspace.view")
@require_GET
def centre(request):
    notifications = service.for_user(request.user, request.workspace).order_by("-created_at", "-id")
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    service.rendered(page.object_list)
    return render(
        request,
        "notifications/centre.html",
        {
            "page": page,
            "has_unread": service.for_user(request.user, request.workspace)
            .filter(read_at__isnull=True)
            .exists(),
            "can_manage_webhooks": can(request, "workspace.edit"),
        },
    )


@workspace_view("workspace.view")
def open_notification(request, notification_id):
    """Mark the notification read and go where it points (only on this site)."""
    notification = get_object_or_404(
        service.for_user(request.user, request.workspace), pk=notification_id
    )
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    service.mark_read(notification)
    target = service.safe_target(notification.url, {request.get_host()})
    if target:
        return redirect(target)
    return redirect("notifications:centre", request.workspace.slug)


@workspace_view("workspace.view")
@require_POST
def read_all(request):
    count = service.mark_all_read(request.user, request.workspace)
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                count,
            )
            % {"count": count},
        )
    return redirect("notifications:centre", request.workspace.slug)
