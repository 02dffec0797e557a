"""The client approval page: someone without an account opens the link the team sent, sees
the post as each channel will show it, and approves it or asks for changes, with their name
and a comment.

The token in the address is 256 random bits (services/approvals.py keeps only its hash), so
it cannot be guessed; addresses that try many unknown tokens are still slowed down
(MISS_LIMIT per MISS_WINDOW, counted in the cache). Unknown tokens answer 404; used, expired
or outdated links 410 with the reason.

The page speaks the workspace's language, unless the visitor chose another one with the
language switcher (its cookie); times are in the workspace's time zone.
"""

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from tribu.core.services.audit import client_ip
from tribu.publishing.forms import ClientDecisionForm
from tribu.publishing.models import ApprovalLink
from tribu.publishing.services import approvals
from tribu.publishing.services.approvals import LinkProblem
from tribu.publishing.services.posts import PostError
from tribu.publishing.views.compose import previews_for_post

MISS_LIMIT = 30
MISS_WINDOW = 10 * 60  # seconds


def _miss_key(request):
    return f"publishing:approval-miss:{client_ip(request) or 'unknown'}"


def _too_many_misses(request):
    return (cache.get(_miss_key(request)) or 0) >= MISS_LIMIT


def _count_miss(request):
    key = _miss_key(request)
    if not cache.add(key, 1, MISS_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, MISS_WINDOW)


def _language(request, workspace):
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return translation.get_language_from_request(request)
    return workspace.language


def _page(request, context, status=200):
    response = render(request, "publishing/client.html", context, status=status)
    response.headers["Content-Language"] = translation.get_language()
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def client_approval(request, token):
    if request.method not in ("GET", "POST"):
        return _page(request, {"problem": _("This page only answers GET and POST.")}, 405)
    if _too_many_misses(request):
        return _page(
            request,
            {"problem": _("Too many invalid links were tried from your address. Wait a few "
                          "minutes, then open the link you received again.")},
            429,
        )  # fmt: skip
    link = (
        ApprovalLink.objects.select_related("post__workspace")
        .filter(token_hash=approvals.token_hash(token))
        .first()
    )
    if link is None:
        _count_miss(request)
        return _page(request, {"problem": _("This approval link is not valid. Ask for a new one.")},
                     404)  # fmt: skip
    workspace = link.post.workspace
    with translation.override(_language(request, workspace)), timezone.override(workspace.tzinfo):
        return _approval(request, token, workspace)


def _approval(request, token, workspace):
    context = {"client_workspace": workspace}
    try:
        link = approvals.link_for_token(token)
    except LinkProblem as problem:
        return _page(request, {**context, "problem": str(problem)}, 410)
    post = link.post
    form = ClientDecisionForm(initial={"name": link.reviewer_name})
    if request.method == "POST":
        form = ClientDecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                approvals.decide(token, data["decision"], name=data["name"],
                                 comment=data["comment"], request=request)  # fmt: skip
            except LinkProblem as problem:
                return _page(request, {**context, "problem": str(problem)}, 410)
            except PostError as error:
                target = error.field if error.field in form.fields else None
                form.add_error(target, error.message)
            else:
                return _page(
                    request, {**context, "decided": data["decision"], "name": data["name"]}
                )
    context.update(
        {
            "post": post,
            "link": link,
            "form": form,
            "previews": previews_for_post(post),
        }
    )
    return _page(request, context, status=400 if form.errors else 200)


urlpatterns = [path("a/<str:token>/", client_approval, name="client_approval")]
