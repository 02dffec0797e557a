"""Every API error is JSON: {"code": "<machine code>", "message": "<for a human>"}, plus
"errors": {"<field>": ["<message>", ...]} when the input is invalid (422).

Messages are in the token user's language (activated by the auth), else Accept-Language.
"""

import logging

import pydantic
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import HttpError, ValidationError

from tribu.api.services.tokens import TokenAuthError, TokenError, how_to_get_a_token
from tribu.core.services.members import MemberError
from tribu.core.services.workspaces import WorkspaceError

logger = logging.getLogger(__name__)

# Services refuse a change by raising a ValueError subclass whose text is for the user.
# Refusals that depend on the current state (last owner, already invited) are conflicts;
# the rest are invalid input. An unlisted ValueError subclass is treated as invalid input.
SERVICE_ERRORS = {
    MemberError: (409, "conflict"),
    TokenError: (422, "invalid"),
    WorkspaceError: (422, "invalid"),
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "throttled",
}


class ApiError(Exception):
    def __init__(self, status, code, message, errors=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


def error_response(status, code, message, errors=None, headers=None):
    body = {"code": code, "message": str(message)}
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def not_found_message():
    return _(
        "Nothing here: the address is wrong, or the object does not exist in this token's "
        "workspace."
    )


def forbidden_message():
    return _("This token's role does not allow this operation.")


def unauthorized_response(message):
    return error_response(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="tribu"'}
    )


# Field-level messages for the pydantic error types clients meet most, so that they read
# well in French too; other types fall back to pydantic's English text.
def _field_message(error):
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "string_too_long":
        return _("At most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("At least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind in ("int_parsing", "int_type"):
        return _("Enter a whole number.")
    if kind in ("string_type",):
        return _("Enter a text value.")
    if kind == "enum" or kind == "literal_error":
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "extra_forbidden":
        return _("Unknown field: remove it.")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return error.get("msg", "")
    return error.get("msg", _("This value is not valid."))


SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc):
    parts = [str(part) for part in loc]
    if parts and parts[0] in SOURCES:
        source, parts = parts[0], parts[1:]
        # A JSON body is read into one named parameter: its name means nothing to clients.
        if source in ("body", "form") and len(parts) > 1:
            parts = parts[1:]
    return ".".join(parts) or "__all__"


def validation_errors(errors):
    fields = {}
    for error in errors:
        fields.setdefault(_field_name(error.get("loc", ())), []).append(_field_message(error))
    return fields


def install(api):
    """Replace ninja's default handlers so that no error escapes in another shape."""

    def on_api_error(request, exc):
        return error_response(exc.status, exc.code, exc.message, exc.errors)

    def on_token_auth_error(request, exc):
        return unauthorized_response(str(exc))

    def on_validation_error(request, exc):
        return error_response(
            422,
            "invalid",
            _("Some fields are not valid: see “errors” for each field."),
            validation_errors(exc.errors),
        )

    def on_http_error(request, exc):
        status = exc.status_code
        if status == 401:
            return unauthorized_response(
                _("This request needs an API token. %(how)s") % {"how": how_to_get_a_token()}
            )
        if status == 400:
            message = _(
                "The request body could not be read: send a JSON object with "
                "“Content-Type: application/json”."
            )
        elif status == 403:
            message = forbidden_message()
        elif status == 404:
            message = not_found_message()
        else:
            message = str(exc)
        return error_response(status, HTTP_CODES.get(status, "error"), message)

    def on_not_found(request, exc):
        return error_response(404, "not_found", not_found_message())

    def on_permission_denied(request, exc):
        return error_response(403, "forbidden", forbidden_message())

    def on_value_error(request, exc):
        if isinstance(exc, pydantic.ValidationError):
            # Our own output failed its schema: a bug, not the client's fault.
            return on_unexpected(request, exc)
        for cls in type(exc).__mro__:
            if cls in SERVICE_ERRORS:
                status, code = SERVICE_ERRORS[cls]
                break
        else:
            if type(exc) is ValueError:
                # A bare ValueError is a bug, not a message written for users.
                return on_unexpected(request, exc)
            status, code = 422, "invalid"
        return error_response(status, code, str(exc))

    def on_unexpected(request, exc):
        logger.exception("Unexpected error in %s %s", request.method, request.path, exc_info=exc)
        return error_response(
            500,
            "server_error",
            _("Something went wrong on our side. The error was logged; try again later."),
        )

    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(TokenAuthError, on_token_auth_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(PermissionDenied, on_permission_denied)
    api.add_exception_handler(ValueError, on_value_error)
    api.add_exception_handler(Exception, on_unexpected)


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Unknown addresses under /api/v1/ answer in the API's own shape (no CSRF: the API
    has no session)."""
    return error_response(404, "not_found", not_found_message())
