from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tribu.core.access import workspace_view
from tribu.core.forms import WorkspaceCreateForm
from tribu.core.roles import MATRIX, ROLE_DESCRIPTIONS, has_permission
from tribu.core.services.workspaces import create_workspace, workspaces_for


@login_required
def home(request):
    """Send the user to the workspace they used last, or let them pick or create one."""
    workspaces = list(workspaces_for(request.user))
    last = request.user.last_workspace_id
    for workspace in workspaces:
        if workspace.id == last or len(workspaces) == 1:
            return redirect("core:workspace_home", workspace.slug)
    return render(request, "core/home.html", {"workspaces": workspaces})


@login_required
@require_http_methods(["GET", "POST"])
def workspace_create(request):
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = create_workspace(owner=request.user, request=request, **form.cleaned_data)
        messages.success(request, _("Workspace “%(name)s” created.") % {"name": workspace.name})
        return redirect("core:workspace_home", workspace.slug)
    return render(request, "core/workspace_create.html", {"form": form})


@workspace_view("workspace.view")
def workspace_home(request):
    role = request.membership.role
    allowed = [
        description
        for permission, (description, _row) in MATRIX.items()
        if has_permission(role, permission)
    ]
    return render(
        request,
        "core/workspace_home.html",
        {
            "member_count": request.workspace.memberships.count(),
            "role_label": request.membership.get_role_display(),
            "role_description": ROLE_DESCRIPTIONS[role],
            "allowed": allowed,
        },
    )
