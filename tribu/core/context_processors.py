from django.conf import settings

from tribu.core.roles import PERMISSIONS, has_permission
from tribu.core.services.workspaces import workspaces_for


def shell(request):
    """What the layout needs: the current workspace, the switcher, and what the role allows."""
    membership = getattr(request, "membership", None)
    context = {"tribu_version": settings.VERSION, "workspace": getattr(request, "workspace", None)}
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        context["my_workspaces"] = workspaces_for(request.user).only("slug", "name")
    if membership is not None:
        context["perms_ws"] = {
            permission.replace(".", "_"): has_permission(membership.role, permission)
            for permission in PERMISSIONS
        }
    return context
