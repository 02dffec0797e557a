"""The OpenAPI document: served, valid, complete, and documenting each permission."""

import json

from api.helpers import ApiClient
from tribu.api.v1.api import api
from tribu.api.v1.permissions import PERMISSION_KEY, operation_permissions
from tribu.core.roles import PERMISSIONS

EXPECTED = {
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/workspaces"),
    ("GET", "/api/v1/workspaces/{slug}"),
    ("PATCH", "/api/v1/workspaces/{slug}"),
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/members/{member_id}"),
    ("PATCH", "/api/v1/members/{member_id}"),
    ("DELETE", "/api/v1/members/{member_id}"),
    ("GET", "/api/v1/invitations"),
    ("POST", "/api/v1/invitations"),
    ("DELETE", "/api/v1/invitations/{invitation_id}"),
    ("GET", "/api/v1/sources"),
    ("POST", "/api/v1/sources"),
    ("GET", "/api/v1/sources/{source_id}"),
    ("PATCH", "/api/v1/sources/{source_id}"),
    ("DELETE", "/api/v1/sources/{source_id}"),
    ("GET", "/api/v1/topics"),
    ("POST", "/api/v1/topics"),
    ("POST", "/api/v1/topics/backtest"),
    ("GET", "/api/v1/topics/{topic_id}"),
    ("PATCH", "/api/v1/topics/{topic_id}"),
    ("DELETE", "/api/v1/topics/{topic_id}"),
    ("GET", "/api/v1/mentions"),
    ("GET", "/api/v1/mentions/{mention_id}"),
    ("PATCH", "/api/v1/mentions/{mention_id}"),
    ("GET", "/api/v1/channels"),
    ("POST", "/api/v1/channels"),
    ("GET", "/api/v1/channels/{channel_id}"),
    ("DELETE", "/api/v1/channels/{channel_id}"),
    ("GET", "/api/v1/posts"),
    ("POST", "/api/v1/posts"),
    ("GET", "/api/v1/posts/{post_id}"),
    ("PATCH", "/api/v1/posts/{post_id}"),
    ("DELETE", "/api/v1/posts/{post_id}"),
    ("POST", "/api/v1/posts/{post_id}/schedule"),
    ("POST", "/api/v1/posts/{post_id}/unschedule"),
    ("POST", "/api/v1/posts/{post_id}/submit"),
    ("POST", "/api/v1/posts/{post_id}/approve"),
    ("POST", "/api/v1/posts/{post_id}/reject"),
    ("GET", "/api/v1/deliveries/{delivery_id}"),
    ("GET", "/api/v1/publishing/pause"),
    ("POST", "/api/v1/publishing/pause"),
    ("POST", "/api/v1/publishing/resume"),
}


def fetch_schema():
    response = ApiClient(None).get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_openapi_lists_every_endpoint(db):
    schema = fetch_schema()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Tribu API"
    operations = {
        (method.upper(), path) for path, methods in schema["paths"].items() for method in methods
    }
    assert operations == EXPECTED


def test_every_operation_requires_a_bearer_token_and_a_known_permission(db):
    schema = fetch_schema()
    schemes = schema["components"]["securitySchemes"]
    assert [scheme["scheme"] for scheme in schemes.values()] == ["bearer"]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert operation.get("security"), f"{method} {path} is open to anyone"
            assert operation.get(PERMISSION_KEY) in PERMISSIONS, (
                f"{method.upper()} {path}: decorate its view with @require(permission)"
            )


def test_references_resolve(db):
    """Every $ref points at a schema that exists: a cheap structural validation."""
    schema = fetch_schema()
    components = schema["components"]["schemas"]

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                assert ref.startswith("#/components/schemas/")
                assert ref.rsplit("/", 1)[1] in components, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert operation["responses"], f"{method} {path} documents no response"


def test_registry_matches_the_schema():
    registry = operation_permissions(api)
    assert {(method, "/api/v1" + path) for method, path in registry} == EXPECTED
    assert registry[("PATCH", "/workspaces/{slug}")] == "workspace.edit"
    assert registry[("DELETE", "/members/{member_id}")] == "members.manage"
    assert registry[("POST", "/invitations")] == "members.invite"


def test_the_interactive_docs_are_off(db):
    """Ninja's docs page would load Swagger from a CDN, which the CSP forbids."""
    assert ApiClient(None).get("/api/v1/docs").status_code == 404
