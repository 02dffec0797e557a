"""Sources page: health of each source, adding feeds (with discovery) and network searches,
pause/resume, delete, poll now, OPML import and export."""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tribu.core.access import can, workspace_view
from tribu.listening.forms import FeedSourceForm, NetworkSourceForm, OpmlImportForm
from tribu.listening.models import Source
from tribu.listening.services import polling
from tribu.listening.services import sources as service

NETWORK_KINDS = [Source.Kind.MASTODON, Source.Kind.BLUESKY, Source.Kind.REDDIT,
                 Source.Kind.HACKERNEWS]  # fmt: skip


def _context(request, **overrides):
    rows = [
        {"source": source, "health": service.health(source)}
        for source in Source.objects.filter(workspace=request.workspace).order_by("name", "id")
    ]
    context = {
        "rows": rows,
        "can_manage": can(request, "listening.manage"),
        "feed_form": FeedSourceForm(prefix="feed"),
        "network_forms": [NetworkSourceForm(kind=kind) for kind in NETWORK_KINDS],
        "import_form": OpmlImportForm(),
        "discovered": None,
    }
    context.update(overrides)
    if "network_form" in overrides:  # replace the one form that was submitted
        submitted = overrides.pop("network_form")
        context["network_forms"] = [
            submitted if form.kind == submitted.kind else form for form in context["network_forms"]
        ]
    return context


@workspace_view("workspace.view")
@require_GET
def source_list(request):
    return render(request, "listening/sources.html", _context(request))


def _created(request, source):
    messages.success(
        request,
        _("“%(name)s” added. Its first poll happens within a few minutes.") % {"name": source.name},
    )
    return redirect("listening:sources", request.workspace.slug)


def _apply_error(form, error, fields):
    """Show a SourceError on the form field it names (config.query → query)."""
    field = error.field.removeprefix("config.")
    form.add_error(field if field in fields else None, error.message)


@workspace_view("listening.manage")
@require_POST
def source_add_feed(request):
    """A feed by its URL, or a site's URL whose feeds are offered to choose from. A chosen
    feed comes back with `chosen=1` and is created without discovering again."""
    form = FeedSourceForm(request.POST, prefix="feed")
    if not form.is_valid():
        return render(request, "listening/sources.html", _context(request, feed_form=form),
                      status=400)  # fmt: skip
    url, name = form.cleaned_data["url"], form.cleaned_data["name"]
    kwargs = {"kind": Source.Kind.FEED, "name": name, "actor": request.user, "request": request}
    try:
        if request.POST.get("chosen"):
            return _created(request, service.create_source(request.workspace, url=url, **kwargs))
        found = service.discover_feeds(url)
        if not found:
            form.add_error(
                "url",
                _(
                    "No feed was found at this address. Give the address of the feed itself "
                    "(often ending in /feed, /rss or .xml), or of a page that links to it."
                ),
            )
        elif len(found) == 1:
            return _created(
                request, service.create_source(request.workspace, url=found[0].url, **kwargs)
            )
        else:
            return render(
                request,
                "listening/sources.html",
                _context(request, feed_form=form, discovered=found),
            )
    except service.SourceError as error:
        _apply_error(form, error, form.fields)
    return render(request, "listening/sources.html", _context(request, feed_form=form), status=400)


@workspace_view("listening.manage")
@require_POST
def source_add_network(request):
    kind = request.POST.get("kind", "")
    if kind not in NETWORK_KINDS:
        messages.error(request, _("Choose which network to follow."))
        return redirect("listening:sources", request.workspace.slug)
    form = NetworkSourceForm(request.POST, kind=kind)
    if form.is_valid():
        data = form.cleaned_data
        try:
            source = service.create_source(
                request.workspace,
                kind=kind,
                name=data["name"],
                config={"base_url": data["base_url"], "mode": data["mode"], "query": data["query"]},
                actor=request.user,
                request=request,
            )
        except service.SourceError as error:
            _apply_error(form, error, form.fields)
        else:
            return _created(request, source)
    return render(
        request, "listening/sources.html", _context(request, network_form=form), status=400
    )


def _source(request, source_id):
    # Scoped to the workspace, and looked up before the method check: another workspace's
    # source is a 404 whatever the method.
    return get_object_or_404(Source, pk=source_id, workspace=request.workspace)


@workspace_view("listening.manage")
def source_pause(request, source_id):
    source = _source(request, source_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    service.update_source(source, paused=True, actor=request.user, request=request)
    messages.success(request, _("“%(name)s” is paused.") % {"name": source.name})
    return redirect("listening:sources", request.workspace.slug)


@workspace_view("listening.manage")
def source_resume(request, source_id):
    source = _source(request, source_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    service.update_source(source, paused=False, enabled=True, actor=request.user, request=request)
    messages.success(
        request, _("“%(name)s” is resumed and will be polled shortly.") % {"name": source.name}
    )
    return redirect("listening:sources", request.workspace.slug)


@workspace_view("listening.manage")
def source_poll(request, source_id):
    source = _source(request, source_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if source.paused_at is not None or not source.enabled:
        messages.error(
            request,
            _("“%(name)s” is paused: resume it to poll it again.") % {"name": source.name},
        )
        return redirect("listening:sources", request.workspace.slug)
    lease = polling.claim_now(source.id)
    if lease is None:
        messages.info(request, _("“%(name)s” is being polled right now.") % {"name": source.name})
    else:
        # A worker polls it (inline when huey runs immediately); the page shows the outcome.
        polling.poll_source_task(source.id, lease)
        messages.success(
            request,
            _("“%(name)s” is being polled: reload this page in a moment to see the result.")
            % {"name": source.name},
        )
    return redirect("listening:sources", request.workspace.slug)


@workspace_view("listening.manage")
def source_delete(request, source_id):
    source = _source(request, source_id)
    if request.method == "POST":
        name = source.name
        service.delete_source(source, actor=request.user, request=request)
        messages.success(
            request,
            _("“%(name)s” is deleted. The mentions it found stay in the stream.") % {"name": name},
        )
        return redirect("listening:sources", request.workspace.slug)
    return render(
        request,
        "listening/source_delete.html",
        {"source": source, "mentions": source.mentions.count()},
    )


@workspace_view("listening.manage")
def source_import(request):
    """GET shows the upload form; POST imports and reports each line of the file."""
    lines = None
    if request.method == "POST":
        form = OpmlImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                lines = service.import_opml(
                    request.workspace,
                    form.cleaned_data["file"].read(),
                    actor=request.user,
                    request=request,
                )
            except service.SourceError as error:
                form.add_error("file", error.message)
            else:
                created = sum(1 for line in lines if line.status == "created")
                messages.success(
                    request,
                    ngettext(
                        "%(count)s feed imported.", "%(count)s feeds imported.", created
                    ) % {"count": created},
                )  # fmt: skip
        status = 200 if form.is_valid() and lines is not None else 400
    else:
        form, status = OpmlImportForm(), 200
    return render(
        request, "listening/source_import.html", {"form": form, "lines": lines}, status=status
    )


@workspace_view("workspace.view")
@require_GET
def source_export(request):
    response = HttpResponse(
        service.export_opml(request.workspace), content_type="text/x-opml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-feeds.opml"'
    return response
