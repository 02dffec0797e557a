import os
import secrets

import pytest
from django.test import Client
from huey.contrib.djhuey import HUEY

from tribu.accounts.models import User
from tribu.core.models import Membership
from tribu.core.roles import Role
from tribu.core.services.workspaces import create_workspace
from tribu.testing import PASSWORD

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True, scope="session")
def huey_immediate():
    """Tasks run inline in tests, as the issue asks; worker tests start real processes."""
    HUEY.immediate = True
    yield
    HUEY.immediate = False


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: pre-computed dashboard panels are keyed by
    database ids, which a rolled-back test hands out again."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.4 s per hash; tests only need hashing to work, not to be slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    def make(email=None, password=PASSWORD, **fields):
        email = email or f"user-{secrets.token_hex(4)}@example.com"
        return User.objects.create_user(email, password, **fields)

    return make


@pytest.fixture
def make_workspace(db, make_user):
    def make(slug=None, name=None, owner=None, **fields):
        slug = slug or f"ws-{secrets.token_hex(4)}"
        owner = owner or make_user()
        return create_workspace(slug=slug, name=name or slug.title(), owner=owner, **fields)

    return make


@pytest.fixture
def make_member(db, make_user):
    def make(workspace, role=Role.EDITOR, user=None):
        user = user or make_user()
        Membership.objects.create(workspace=workspace, user=user, role=role)
        return user

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice@example.com")


@pytest.fixture
def workspace(make_workspace, user):
    return make_workspace(slug="acme", name="Acme", owner=user)


@pytest.fixture
def client_for():
    """A Django test client signed in as the given user."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def owner_client(client_for, user, workspace):
    return client_for(user)


# Browser tests -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # tests themselves are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def mastodon_fake(settings):
    """The Mastodon contract fake on 127.0.0.1 (loopback allowed for the test)."""
    from tribu.testing.fakes.mastodon import MastodonPublishFake

    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    with MastodonPublishFake() as fake:
        yield fake


@pytest.fixture
def bluesky_fake(settings):
    """The Bluesky PDS contract fake on 127.0.0.1 (loopback allowed for the test)."""
    from tribu.testing.fakes.bluesky import BlueskyPdsFake

    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    with BlueskyPdsFake() as fake:
        yield fake
