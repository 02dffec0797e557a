"""Workspace settings and deletion."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tribu.core.access import can, workspace_view
from tribu.core.forms import WorkspaceDeleteForm, WorkspaceSettingsForm
from tribu.core.services.workspace_settings import delete_workspace, update_workspace


@workspace_view("workspace.edit")
@require_http_methods(["GET", "POST"])
def workspace_settings(request):
    workspace = request.workspace
    bound = request.method == "POST"
    form = WorkspaceSettingsForm(
        request.POST if bound else None, request.FILES if bound else None, instance=workspace
    )
    if request.method == "POST":
        if form.is_valid():
            update_workspace(form, request=request)
            messages.success(request, _("Settings saved."))
            return redirect("core:settings", workspace.slug)
        # The form changed the instance while validating; show the saved name in the layout.
        workspace.refresh_from_db()
    return render(
        request,
        "core/settings.html",
        {"form": form, "can_delete": can(request, "workspace.delete")},
        status=400 if form.is_bound and form.errors else 200,
    )


@workspace_view("workspace.delete")
@require_http_methods(["GET", "POST"])
def workspace_delete(request):
    workspace = request.workspace
    form = WorkspaceDeleteForm(
        request.POST if request.method == "POST" else None, workspace=workspace
    )
    if request.method == "POST" and form.is_valid():
        name = workspace.name
        delete_workspace(workspace, actor=request.user, request=request)
        messages.success(request, _("The workspace “%(name)s” was deleted.") % {"name": name})
        return redirect("core:home")
    return render(
        request,
        "core/workspace_delete.html",
        {"form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
