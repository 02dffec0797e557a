"""Short links: the public redirect (`/l/<code>`) and the workspace's list of links, with a
form to shorten an address by hand.

The redirect needs no account: it counts the click (bots apart, services/links.py) and
answers 302 to the target. A counting failure (a locked database) never keeps a reader from
the page they asked for.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from tribu.core.access import can, workspace_view
from tribu.publishing.forms_links import ShortenForm
from tribu.publishing.models import ShortLink
from tribu.publishing.services import links as service

logger = logging.getLogger(__name__)

PER_PAGE = 50


@require_safe
def short_link(request, code):
    link = ShortLink.objects.select_related("workspace").filter(code=code).first()
    if link is None:
        raise Http404
    try:
        # A HEAD request fetches no page: a preview or a checker, not a reader.
        service.record_click(
            link,
            user_agent=request.headers.get("User-Agent", ""),
            when=timezone.now(),
            bot=True if request.method == "HEAD" else None,
        )
    except DatabaseError:
        logger.exception("Could not count a click on short link %s", link.code)
    response = HttpResponseRedirect(link.target_url)
    # The UTM parameters say where the click came from; the reader's previous page stays
    # theirs. no-store: every click reaches Tribu, none is replayed from a cache.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def absolute(request, link):
    """The link's address: on TRIBU_BASE_URL, else on the host the page was asked from."""
    path_ = service.short_url(link, base="")
    base = (getattr(settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    return base + path_ if base else request.build_absolute_uri(path_)


def _page(request, form=None, status=200):
    workspace = request.workspace
    links = (
        ShortLink.objects.filter(workspace=workspace)
        .select_related("post", "channel")
        .order_by("-created_at", "-id")
    )
    page = Paginator(links, PER_PAGE).get_page(request.GET.get("page"))
    for link in page:
        link.short_url = absolute(request, link)
    can_draft = can(request, "content.draft")
    context = {
        "page": page,
        "links": list(page),
        "form": form or (ShortenForm(workspace=workspace) if can_draft else None),
        "can_draft": can_draft,
        "created": request.GET.get("created", ""),
    }
    return render(request, "publishing/links.html", context, status=status)


@workspace_view("workspace.view")
@require_GET
def link_list(request):
    return _page(request)


@workspace_view("content.draft")
@require_POST
def link_create(request):
    form = ShortenForm(request.POST, workspace=request.workspace)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    data = form.cleaned_data
    try:
        link = service.shorten(
            request.workspace, data["url"], channel=data["channel"], campaign=data["campaign"]
        )
    except service.LinkError as error:
        form.add_error(error.field, error.message)
        return _page(request, form=form, status=400)
    messages.success(
        request,
        _("Short link ready: %(url)s") % {"url": absolute(request, link)},
    )
    page = reverse("publishing:links", args=[request.workspace.slug])
    return redirect(f"{page}?created={link.code}")


W = "w/<slug:ws>/publishing/links/"

urlpatterns = [
    path("l/<str:code>", short_link, name="short_link"),
    path(W, link_list, name="links"),
    path(f"{W}new/", link_create, name="link_create"),
]
