"""The REST API, version 1, mounted at /api/v1/ (OpenAPI at /api/v1/openapi.json).

Every operation authenticates with a workspace API token and reaches that workspace only.
To add endpoints, write a Router whose operations carry `@require(permission)`, and add it
below; tests/api/test_api_isolation.py then checks it for isolation and roles.
"""

from ninja import NinjaAPI

from tribu import __version__
from tribu.api.v1 import errors, me, members, workspaces
from tribu.api.v1.auth import TokenBearer
from tribu.listening import api as listening_api
from tribu.publishing import api as publishing_api

api = NinjaAPI(
    title="Tribu API",
    version="1",
    description=(
        f"Tribu {__version__}. Authenticate with a workspace API token: "
        "`Authorization: Bearer tribu_…`."
    ),
    auth=TokenBearer(),
    urls_namespace="api-v1",
    # Ninja's interactive docs need its static assets through INSTALLED_APPS, otherwise it
    # loads Swagger from a CDN, which our Content-Security-Policy forbids.
    docs_url=None,
)
errors.install(api)

api.add_router("", me.router)
api.add_router("", workspaces.router)
api.add_router("", members.router)
api.add_router("", listening_api.router)
api.add_router("", publishing_api.router)
