"""Security-relevant settings: headers, cookies, CSRF, CSP-compatible templates, SQLite."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

TEMPLATES = Path(__file__).resolve().parent.parent / "tribu"


def test_security_headers_on_every_page(client, db):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_csrf_is_enforced(db, user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"email": user.email, "password": "x"})
    assert response.status_code == 403
    assert b"This form has expired" in response.content


def load_settings(**environ):
    """Import the settings in a fresh interpreter with this environment."""
    code = (
        "import json; from tribu import settings as s; print(json.dumps({name: getattr(s, name, "
        "None) for name in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'ALLOWED_HOSTS', "
        "'CSRF_TRUSTED_ORIGINS']}))"
    )
    env = {**os.environ, **environ}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_https_base_url_turns_on_secure_cookies_and_hsts(tmp_path):
    loaded = load_settings(TRIBU_DATA_DIR=str(tmp_path), TRIBU_BASE_URL="https://tribu.example.com")
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_HSTS_SECONDS"] >= 31536000
    assert "tribu.example.com" in loaded["ALLOWED_HOSTS"]
    assert loaded["CSRF_TRUSTED_ORIGINS"] == ["https://tribu.example.com"]


def test_plain_http_keeps_cookies_usable_on_localhost(tmp_path):
    loaded = load_settings(TRIBU_DATA_DIR=str(tmp_path))
    assert loaded["SESSION_COOKIE_SECURE"] is False
    assert loaded["SECURE_HSTS_SECONDS"] is None
    assert loaded["SECURE_PROXY_SSL_HEADER"] is None


def test_proxy_header_is_only_trusted_when_asked(tmp_path):
    loaded = load_settings(
        TRIBU_DATA_DIR=str(tmp_path),
        TRIBU_BASE_URL="https://tribu.example.com",
        TRIBU_TRUST_PROXY="1",
    )
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.glob("**/templates/**/*.html")), ids=lambda path: path.name
)
def test_templates_need_no_unsafe_inline(template):
    """The CSP forbids inline scripts, handlers and style attributes: templates must not
    rely on them (HTML emails are not served pages and may style inline)."""
    if "/email/" in str(template):
        pytest.skip("email templates are not subject to the site's CSP")
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text), f"inline <script> in {template}"
    assert not EVENT_HANDLER.search(text), f"event-handler attribute in {template}"
    assert not STYLE_ATTRIBUTE.search(text), f"style attribute in {template}"


def test_sqlite_runs_in_wal_with_a_busy_timeout(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragmas only apply on the SQLite leg")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_the_sqlite_database_file_uses_wal(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode'); "
        "print(cursor.fetchone()[0])"
    )
    env = {
        **os.environ,
        "TRIBU_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tribu.settings",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "wal"
    assert (tmp_path / "tribu.sqlite3").exists()
