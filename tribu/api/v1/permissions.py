"""One check for every operation: the token's effective role against the role matrix.

`@require(permission)` sits right under the router decorator. It records the permission in
the operation's OpenAPI entry (`x-tribu-permission`), which is the registry that the
isolation tests enumerate, and that API clients can read.
"""

from functools import wraps

from tribu.api.v1.errors import ApiError, forbidden_message
from tribu.core.roles import PERMISSIONS, has_permission

PERMISSION_KEY = "x-tribu-permission"


def require(permission):
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r}: see MATRIX in core/roles.py")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_permission(request.auth.role, permission):
                raise ApiError(403, "forbidden", forbidden_message())
            return view(request, *args, **kwargs)

        def contribute(operation):
            operation.openapi_extra = {
                **(operation.openapi_extra or {}),
                PERMISSION_KEY: permission,
            }

        wrapper.tribu_permission = permission
        wrapper._ninja_contribute_to_operation = [contribute]
        return wrapper

    return decorator


def operation_permissions(api):
    """{(METHOD, path relative to the API root): permission or None} for every operation."""
    schema = api.get_openapi_schema(path_prefix="")
    registry = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            registry[(method.upper(), path)] = operation.get(PERMISSION_KEY)
    return registry
