"""Publishing settings: approval, the "too late" limit, the editorial line, the calendar's
ICS address, and the crisis switch (pause and resume every delivery of the workspace).

Reading is for every member; each change is its own URL with its own permission (the role
matrix test checks each URL against one permission): settings and the ICS address need
workspace.edit, the crisis switch publishing.pause.
"""

from django.conf import settings as django_settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tribu.core.access import can, workspace_view
from tribu.core.services.audit import record
from tribu.publishing.forms import PauseForm, PublishingSettingsForm
from tribu.publishing.models import Delivery, DeliveryState, HoldReason
from tribu.publishing.services import ics
from tribu.publishing.services import pause as pause_service
from tribu.publishing.services.deliveries import settings_for

# The resume's outcome, shown once on the next settings page: {"workspace", "released", "stale"}.
RESUMED_KEY = "publishing_resumed"
LIST_LIMIT = 100


def ics_url(request, token):
    try:
        feed = reverse("publishing:ics", args=[token])
    except NoReverseMatch:
        feed = f"/ics/{token}.ics"
    base = (getattr(django_settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    return base + feed if base else request.build_absolute_uri(feed)


def _deliveries(workspace, **filters):
    return (
        Delivery.objects.filter(workspace=workspace, **filters)
        .select_related("post", "channel")
        .order_by("due_at", "id")
    )


def _resumed(request):
    """What the last resume released, once, for this workspace."""
    outcome = request.session.pop(RESUMED_KEY, None)
    if not outcome or outcome.get("workspace") != request.workspace.pk:
        return None
    return {
        "released": list(_deliveries(request.workspace, pk__in=outcome["released"])),
        "stale_count": len(outcome["stale"]),
    }


def _page(request, form=None, status=200):
    workspace = request.workspace
    publishing = settings_for(workspace)
    late = _deliveries(workspace, state=DeliveryState.HELD, hold_reason=HoldReason.LATE)
    held = pause_service.held_by_pause(workspace).order_by("due_at", "id")
    context = {
        "publishing": publishing,
        "form": form or PublishingSettingsForm(instance=publishing),
        "can_edit": can(request, "workspace.edit"),
        "can_pause": can(request, "publishing.pause"),
        "pause_form": PauseForm(),
        "ics_url": ics_url(request, ics.ensure_token(publishing)),
        "late": list(late[:LIST_LIMIT]),
        "late_count": late.count(),
        "held": list(held[:LIST_LIMIT]) if publishing.paused else [],
        "held_count": held.count() if publishing.paused else 0,
        "resumed": _resumed(request),
    }
    return render(request, "publishing/settings.html", context, status=status)


@workspace_view("workspace.view")
@require_GET
def settings_page(request):
    return _page(request)


@workspace_view("workspace.edit")
@require_POST
def settings_save(request):
    publishing = settings_for(request.workspace)
    form = PublishingSettingsForm(request.POST, instance=publishing)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    if form.has_changed():
        form.save()
        record(request.workspace, "publishing.settings_updated", actor=request.user,
               request=request, target=request.workspace.name,
               changed=sorted(form.changed_data))  # fmt: skip
    messages.success(request, _("Publishing settings saved."))
    return redirect("publishing:settings", request.workspace.slug)


@workspace_view("workspace.edit")
@require_POST
def ics_rotate(request):
    ics.rotate_token(settings_for(request.workspace))
    messages.success(
        request,
        _(
            "The calendar has a new address: the old one stopped working. Subscribe again "
            "with the address below."
        ),
    )
    return redirect("publishing:settings", request.workspace.slug)


def _next(request):
    """A same-site address to go back to (the alert the switch was pulled from), else None."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@workspace_view("publishing.pause")
@require_POST
def pause(request):
    workspace = request.workspace
    back = _next(request) or reverse("publishing:settings", args=[workspace.slug])
    form = PauseForm(request.POST)
    reason = form.cleaned_data["reason"].strip() if form.is_valid() else ""
    if settings_for(workspace).paused:
        messages.info(request, _("Publishing was already paused."))
        return redirect(back)
    held = pause_service.pause(workspace, request.user, reason=reason, request=request)
    messages.warning(
        request,
        ngettext(
            "Publishing is paused: %(count)s scheduled post is held. Nothing goes out until "
            "someone resumes.",
            "Publishing is paused: %(count)s scheduled posts are held. Nothing goes out until "
            "someone resumes.",
            held,
        )
        % {"count": held},
    )
    return redirect(back)


@workspace_view("publishing.pause")
@require_POST
def resume(request):
    workspace = request.workspace
    if not settings_for(workspace).paused:
        messages.info(request, _("Publishing was not paused."))
        return redirect("publishing:settings", workspace.slug)
    released, stale = pause_service.resume(workspace, request.user, request=request)
    request.session[RESUMED_KEY] = {
        "workspace": workspace.pk,
        "released": released[:LIST_LIMIT],
        "stale": stale,
    }
    message = ngettext(
        "Publishing resumed: %(count)s post goes out at its time.",
        "Publishing resumed: %(count)s posts go out at their time.",
        len(released),
    ) % {"count": len(released)}
    if stale:
        message += " " + ngettext(
            "%(count)s post is now too late to publish without a decision: decide below.",
            "%(count)s posts are now too late to publish without a decision: decide below.",
            len(stale),
        ) % {"count": len(stale)}
    messages.success(request, message)
    return redirect("publishing:settings", workspace.slug)


W = "w/<slug:ws>/publishing/"

urlpatterns = [
    path(f"{W}settings/", settings_page, name="settings"),
    path(f"{W}settings/save/", settings_save, name="settings_save"),
    path(f"{W}settings/ics/rotate/", ics_rotate, name="ics_rotate"),
    path(f"{W}pause/", pause, name="pause"),
    path(f"{W}resume/", resume, name="resume"),
]
