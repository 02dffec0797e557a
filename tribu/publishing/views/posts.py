"""The post page: the post as each channel will show it, where it stands (approval, schedule,
each channel's delivery with its visible log), the team's discussion and approval history,
and the moves: send for review, approve or ask for changes, schedule, unschedule, send to a
client for approval, duplicate, delete.

Actions are POST endpoints that call services/posts.py and come back to the page; a refusal
is shown as a message (or next to its field), in the user's language.
"""

from datetime import timedelta

from django.conf import settings as django_settings
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tribu.core.access import can, workspace_view
from tribu.publishing.forms import (
    ApprovalLinkForm,
    MarkPublishedForm,
    PostCommentForm,
    RescheduleForm,
    ReviewForm,
    ScheduleForm,
)
from tribu.publishing.models import DeliveryLog, DeliveryState, HoldReason, PostStatus
from tribu.publishing.services import approvals
from tribu.publishing.services import posts as service
from tribu.publishing.services.deliveries import settings_for
from tribu.publishing.services.posts import PostError
from tribu.publishing.views.compose import _post, editable, grouped_problems, previews_for_post

W = "w/<slug:ws>/publishing/posts/<int:post_id>/"
# The session key holding a new client link's address until the post page shows it once.
NEW_LINK_KEY = "publishing_new_approval_link"


def delivery_actions(delivery):
    """Which decisions the page offers for a delivery, by state."""
    late = delivery.state == DeliveryState.HELD and delivery.hold_reason == HoldReason.LATE
    if late or delivery.state == DeliveryState.FAILED:
        return {"publish_now", "reschedule", "drop"}
    if delivery.state == DeliveryState.UNKNOWN:
        return {"mark_published", "publish_again"}
    return set()


def _deliveries(post):
    log = DeliveryLog.objects.select_related("actor").order_by("at", "id")
    rows = list(
        post.deliveries.select_related("channel").prefetch_related(Prefetch("log", queryset=log))
    )
    for delivery in rows:
        delivery.actions = delivery_actions(delivery)
    return rows


def approval_link_state(link, post, now):
    if link.used_at is not None:
        if link.decision == "approved":
            return _("approved")
        return _("changes requested")
    if link.expires_at <= now:
        return _("expired")
    if link.revision != post.revision or post.status != PostStatus.IN_REVIEW:
        return _("outdated: the post changed since")
    return _("waiting")


def absolute(request, path_):
    base = (getattr(django_settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    return base + path_ if base else request.build_absolute_uri(path_)


def render_post(request, post, *, status=200, **extra):
    workspace = request.workspace
    now = timezone.now()
    links = list(post.approval_links.select_related("created_by"))
    for link in links:
        link.state_label = approval_link_state(link, post, now)
    deliveries = _deliveries(post)
    delivered = {delivery.channel_id for delivery in deliveries}
    context = {
        "post": post,
        "previews": previews_for_post(post),
        "deliveries": deliveries,
        "waiting_channels": [
            variant.channel
            for variant in post.variants.select_related("channel")
            if variant.channel_id not in delivered
        ],
        "comments": post.comments.select_related("author"),
        "approval_links": links,
        "media": list(post.media.all()),
        "settings": settings_for(workspace),
        "editable": editable(post),
        "can_draft": can(request, "content.draft"),
        "can_schedule": can(request, "content.schedule"),
        "can_approve": can(request, "content.approve"),
        "review_form": ReviewForm(),
        "comment_form": PostCommentForm(),
        "schedule_form": ScheduleForm(initial={"publish_at": post.publish_at}),
        "reschedule_form": RescheduleForm(),
        "mark_form": MarkPublishedForm(),
        "link_form": ApprovalLinkForm(),
        "content_problems": [],
        "new_link": None,
        **extra,
    }
    return render(request, "publishing/post.html", context, status=status)


@workspace_view("workspace.view")
def post_page(request, post_id):
    # The post is looked up before the method is checked: another workspace's id is a 404.
    post = _post(request, post_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    new_link = None
    fresh = request.session.get(NEW_LINK_KEY)
    if fresh and fresh.get("post") == post.pk:
        new_link = request.session.pop(NEW_LINK_KEY)["url"]
    return render_post(request, post, new_link=new_link)


def _back(request, post):
    return redirect("publishing:post", request.workspace.slug, post.pk)


def _refused(request, post, error, **forms):
    """A service refusal: next to its field when the page has that form, else a message."""
    if error.problems:
        return render_post(request, post, status=400,
                           content_problems=grouped_problems(error.problems))  # fmt: skip
    for name, form in forms.items():
        if error.field and error.field in form.fields:
            form.add_error(error.field, error.message)
            return render_post(request, post, status=400, **{name: form})
    messages.error(request, error.message)
    return _back(request, post)


def _action(view):
    """A POST-only action on one post of the workspace (looked up first: 404 otherwise)."""

    def wrapper(request, post_id):
        post = _post(request, post_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, post)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@workspace_view("content.draft")
@_action
def post_submit(request, post):
    form = ReviewForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        service.submit(post, request.user, request.membership.role, comment=comment,
                       request=request)  # fmt: skip
    except PostError as error:
        return _refused(request, post, error)
    messages.success(request, _("Sent for review: the reviewers have been notified."))
    return _back(request, post)


@workspace_view("content.approve")
@_action
def post_approve(request, post):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return render_post(request, post, status=400, review_form=form)
    try:
        service.approve(post, request.user, request.membership.role,
                        comment=form.cleaned_data["comment"], request=request)  # fmt: skip
    except PostError as error:
        return _refused(request, post, error, review_form=form)
    post.refresh_from_db()
    if post.status == PostStatus.SCHEDULED:
        messages.success(request, _("Approved and scheduled."))
    else:
        messages.success(request, _("Approved. Choose a time to schedule it."))
    return _back(request, post)


@workspace_view("content.approve")
@_action
def post_reject(request, post):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return render_post(request, post, status=400, review_form=form)
    try:
        service.reject(post, request.user, request.membership.role,
                       comment=form.cleaned_data["comment"], request=request)  # fmt: skip
    except PostError as error:
        if error.field == "comment":
            form.add_error("comment", error.message)
            return render_post(request, post, status=400, review_form=form)
        return _refused(request, post, error)
    messages.success(request, _("Changes requested: the post is back to draft with your comment."))
    return _back(request, post)


@workspace_view("content.schedule")
@_action
def post_schedule(request, post):
    """Schedule at the chosen time (now when empty); on a scheduled post, move its time."""
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return render_post(request, post, status=400, schedule_form=form)
    publish_at = form.cleaned_data["publish_at"]
    role = request.membership.role
    try:
        if post.status == PostStatus.SCHEDULED:
            if publish_at is None:
                form.add_error("publish_at", _("Choose the new date and time."))
                return render_post(request, post, status=400, schedule_form=form)
            post = service.update_post(post, request.user, role, publish_at=publish_at,
                                       request=request)  # fmt: skip
        else:
            post = service.schedule(post, request.user, role, publish_at=publish_at,
                                    request=request)  # fmt: skip
    except PostError as error:
        return _refused(request, post, error, schedule_form=form)
    post.refresh_from_db()
    if post.status == PostStatus.SCHEDULED:
        when = date_format(timezone.localtime(post.publish_at), "SHORT_DATETIME_FORMAT")
        messages.success(request, _("Scheduled for %(when)s.") % {"when": when})
    else:
        messages.success(request, _("Sent for review: it is scheduled once approved."))
    return _back(request, post)


@workspace_view("content.schedule")
@_action
def post_unschedule(request, post):
    try:
        service.unschedule(post, request.user, request.membership.role, request=request)
    except PostError as error:
        return _refused(request, post, error)
    messages.success(request, _("Unscheduled: nothing will be published until you schedule it."))
    return _back(request, post)


@workspace_view("workspace.view")
@_action
def post_comment(request, post):
    form = PostCommentForm(request.POST)
    if not form.is_valid():
        return render_post(request, post, status=400, comment_form=form)
    try:
        service.add_comment(post, request.user, request.membership.role, form.cleaned_data["text"])
    except PostError as error:
        return _refused(request, post, error, comment_form=form)
    page = reverse("publishing:post", args=[request.workspace.slug, post.pk])
    return redirect(page + "#comments")


@workspace_view("content.draft")
@_action
def post_duplicate(request, post):
    try:
        copy = service.duplicate(post, request.user, request.membership.role, request=request)
    except PostError as error:
        return _refused(request, post, error)
    messages.success(request, _("A copy was created as a draft: change it, then schedule it."))
    return redirect("publishing:edit", request.workspace.slug, copy.pk)


def _after_delete(request):
    try:
        return reverse("publishing:calendar", args=[request.workspace.slug])
    except NoReverseMatch:
        return reverse("publishing:compose", args=[request.workspace.slug])


@workspace_view("content.draft")
@_action
def post_delete(request, post):
    try:
        service.delete_post(post, request.user, request.membership.role, request=request)
    except PostError as error:
        return _refused(request, post, error)
    messages.success(request, _("Post deleted."))
    return redirect(_after_delete(request))


@workspace_view("content.draft")
@_action
def post_approval_link(request, post):
    """Create a client approval link; its address is shown once, on the post page."""
    form = ApprovalLinkForm(request.POST)
    if not form.is_valid():
        return render_post(request, post, status=400, link_form=form)
    try:
        _link, token = approvals.create_link(
            post, request.user, request.membership.role,
            reviewer_name=form.cleaned_data["reviewer_name"],
            lifetime=timedelta(days=form.cleaned_data["days"]), request=request,
        )  # fmt: skip
    except PostError as error:
        return _refused(request, post, error, link_form=form)
    # Shown once, on the page this redirects to (a reload must not create another link).
    url = absolute(request, reverse("publishing:client_approval", args=[token]))
    request.session[NEW_LINK_KEY] = {"post": post.pk, "url": url}
    return _back(request, post)


urlpatterns = [
    path(W, post_page, name="post"),
    path(f"{W}submit/", post_submit, name="post_submit"),
    path(f"{W}approve/", post_approve, name="post_approve"),
    path(f"{W}reject/", post_reject, name="post_reject"),
    path(f"{W}schedule/", post_schedule, name="post_schedule"),
    path(f"{W}unschedule/", post_unschedule, name="post_unschedule"),
    path(f"{W}comment/", post_comment, name="post_comment"),
    path(f"{W}duplicate/", post_duplicate, name="post_duplicate"),
    path(f"{W}delete/", post_delete, name="post_delete"),
    path(f"{W}approval-link/", post_approval_link, name="post_approval_link"),
]
