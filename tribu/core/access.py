"""The one door to workspace pages: membership (404 otherwise), then the role matrix (403)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tribu.core.roles import PERMISSIONS, has_permission
from tribu.core.services.workspaces import membership_or_404


def workspace_view(permission):
    """Decorate a view taking `ws` (the workspace slug) as its first URL argument.

    Sets request.workspace and request.membership. The permission is kept on the view so
    that tests can check every URL against the role matrix.
    """
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r}")

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, ws, *args, **kwargs):
            membership = membership_or_404(request.user, ws)
            if not has_permission(membership.role, permission):
                raise PermissionDenied
            request.workspace = membership.workspace
            request.membership = membership
            timezone.activate(membership.workspace.tzinfo)
            if request.user.last_workspace_id != membership.workspace_id:
                request.user.last_workspace = membership.workspace
                request.user.save(update_fields=["last_workspace"])
            return view(request, *args, **kwargs)

        wrapper.tribu_permission = permission
        return wrapper

    return decorator


def can(request, permission):
    membership = getattr(request, "membership", None)
    return membership is not None and has_permission(membership.role, permission)
