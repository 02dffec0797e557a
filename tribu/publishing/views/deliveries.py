"""A person's decisions on one delivery (one post on one channel), from the post page:

- held because it became too late, or failed: publish now, reschedule, or drop;
- outcome unknown (the network may have the post): "it was published" (with its address,
  if known) or "publish again" (after checking it is not there: a duplicate otherwise).

Each is a POST that calls services/deliveries.py and comes back to the post page.
"""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tribu.core.access import workspace_view
from tribu.publishing.forms import MarkPublishedForm, RescheduleForm
from tribu.publishing.models import Delivery, DeliveryState
from tribu.publishing.services import deliveries as service
from tribu.publishing.services.deliveries import DeliveryError
from tribu.publishing.views.posts import delivery_actions, render_post

W = "w/<slug:ws>/publishing/deliveries/<int:delivery_id>/"


def _delivery(request, delivery_id):
    return get_object_or_404(
        Delivery.objects.select_related("post", "channel", "workspace"),
        pk=delivery_id,
        workspace=request.workspace,
    )


def _decision(view):
    """A POST-only decision on one delivery of the workspace (looked up first: 404
    otherwise); a refused move comes back as a message on the post page."""

    def wrapper(request, delivery_id):
        delivery = _delivery(request, delivery_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            response = view(request, delivery)
        except DeliveryError as error:
            messages.error(request, str(error))
            response = None
        return response or _back(request, delivery)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _require_unknown(delivery):
    # The service's move would say "someone else changed it" for a delivery that simply is
    # not unknown (its conditional UPDATE matches nothing): say what is true instead.
    if delivery.state != DeliveryState.UNKNOWN:
        raise DeliveryError(
            _("This delivery is %(state)s; that action is not possible now.")
            % {"state": delivery.get_state_display().lower()}
        )


def _back(request, delivery):
    return redirect("publishing:post", request.workspace.slug, delivery.post_id)


@workspace_view("content.schedule")
@_decision
def delivery_publish_now(request, delivery):
    service.publish_now(delivery, request.user, request=request)
    messages.success(
        request,
        _("Publishing on %(channel)s now.") % {"channel": delivery.channel.name},
    )


@workspace_view("content.schedule")
@_decision
def delivery_publish_again(request, delivery):
    _require_unknown(delivery)
    service.publish_again(delivery, request.user, request=request)
    messages.success(
        request,
        _("Publishing again on %(channel)s.") % {"channel": delivery.channel.name},
    )


@workspace_view("content.schedule")
@_decision
def delivery_mark_published(request, delivery):
    form = MarkPublishedForm(request.POST)
    if not form.is_valid():
        return render_post(request, delivery.post, status=400, mark_form=form,
                           mark_form_for=delivery.pk)  # fmt: skip
    _require_unknown(delivery)
    service.mark_published(delivery, request.user, url=form.cleaned_data["url"], request=request)
    messages.success(
        request,
        _("Noted: the post is published on %(channel)s.") % {"channel": delivery.channel.name},
    )


@workspace_view("content.schedule")
@_decision
def delivery_drop(request, delivery):
    service.drop(delivery, request.user, request=request)
    messages.success(
        request,
        _("Dropped: the post will not be published on %(channel)s.")
        % {"channel": delivery.channel.name},
    )


@workspace_view("content.schedule")
@_decision
def delivery_reschedule(request, delivery):
    """A delivery held as too late, or failed, goes back to the queue at a new time."""
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return render_post(request, delivery.post, status=400, reschedule_form=form,
                           reschedule_form_for=delivery.pk)  # fmt: skip
    if "reschedule" not in delivery_actions(delivery):
        raise DeliveryError(
            _(
                "Only a delivery that failed or was held as too late can be rescheduled "
                "here. To move a scheduled post, change its time on the post."
            )
        )
    at = form.cleaned_data["publish_at"]
    when = date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")
    delivery = service.reschedule_one(delivery, request.user, at, request=request)
    messages.success(
        request,
        _("Rescheduled on %(channel)s for %(when)s.")
        % {"channel": delivery.channel.name, "when": when},
    )


urlpatterns = [
    path(f"{W}publish-now/", delivery_publish_now, name="delivery_publish_now"),
    path(f"{W}publish-again/", delivery_publish_again, name="delivery_publish_again"),
    path(f"{W}mark-published/", delivery_mark_published, name="delivery_mark_published"),
    path(f"{W}drop/", delivery_drop, name="delivery_drop"),
    path(f"{W}reschedule/", delivery_reschedule, name="delivery_reschedule"),
]
