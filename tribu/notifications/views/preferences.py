"""My notification preferences for this workspace, and a test notification to myself."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tribu.core.access import workspace_view
from tribu.notifications.forms import PreferenceForm
from tribu.notifications.models import NotificationPreference
from tribu.notifications.services import notify
from tribu.notifications.services import preferences as service


@workspace_view("workspace.view")
@require_http_methods(["GET", "POST"])
def preferences(request):
    pref = service.get(request.user, request.workspace)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            service.save(pref, **form.cleaned_data)
            messages.success(request, _("Your notification preferences are saved."))
            return redirect("notifications:preferences", request.workspace.slug)
        status = 400
    else:
        form = PreferenceForm(
            initial={
                "email": pref.email,
                "quiet_start": pref.quiet_start,
                "quiet_end": pref.quiet_end,
                "muted_kinds": pref.muted_kinds,
            }
        )
        status = 200
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "pref": pref,
            "email_off": pref.email == NotificationPreference.Email.OFF,
            "timezone_name": request.workspace.timezone,
        },
        status=status,
    )


@workspace_view("workspace.view")
@require_POST
def send_test(request):
    created = notify(
        request.workspace,
        "notifications.test",
        params={"actor": request.user.display_name},
        url=reverse("notifications:centre", kwargs={"ws": request.workspace.slug}),
        recipients=[request.user],
    )
    if not created:
        messages.warning(
            request,
            _("You muted test notifications, so none was sent. Unmute them below to try."),
        )
        return redirect("notifications:preferences", request.workspace.slug)
    messages.success(
        request,
        _(
            "A test notification was added to your notifications; it is emailed to you "
            "according to your preferences."
        ),
    )
    return redirect("notifications:preferences", request.workspace.slug)
