from functools import wraps

from django.http import Http404
from django.urls import URLPattern, path, re_path
from django.utils.translation import gettext as _

from tribu.api.v1.api import api
from tribu.api.v1.errors import error_response, not_found_view


def json_errors(view):
    """Ninja answers a wrong method with a bare text 405, and its root address with an HTML
    404; give them the API's error shape."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found_view(request)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            json_response = error_response(
                405,
                "method_not_allowed",
                _("This address does not accept %(method)s; it accepts: %(allowed)s.")
                % {"method": request.method, "allowed": allowed},
            )
            json_response["Allow"] = allowed
            return json_response
        return response

    return wrapper


def api_urls():
    patterns, app_name, namespace = api.urls
    wrapped = [
        URLPattern(
            pattern.pattern,
            json_errors(pattern.callback),
            pattern.default_args,
            pattern.name,
        )
        for pattern in patterns
    ]
    return wrapped, app_name, namespace


urlpatterns = [
    path("", api_urls()),
    re_path(r"^.*$", not_found_view, name="api-v1-not-found"),
]
