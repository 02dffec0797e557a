"""Helpers shared by the API tests."""

import json

from django.test import Client


class ApiClient:
    """Speaks to /api/v1 with a bearer token, as a script would."""

    def __init__(self, raw_token, **headers):
        if raw_token is not None:
            headers["Authorization"] = f"Bearer {raw_token}"
        self.client = Client(headers=headers, enforce_csrf_checks=True)

    def request(self, method, path, body=None, **extra):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        data = json.dumps(body) if body is not None else ""
        return self.client.generic(
            method.upper(), url, data, content_type="application/json", **extra
        )

    def get(self, path, **extra):
        return self.request("GET", path, **extra)

    def post(self, path, body=None, **extra):
        return self.request("POST", path, body, **extra)

    def patch(self, path, body=None, **extra):
        return self.request("PATCH", path, body, **extra)

    def delete(self, path, **extra):
        return self.request("DELETE", path, **extra)
