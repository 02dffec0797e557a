import pytest
from django.utils.translation import get_language

from tribu.core.roles import Role
from tribu.notifications.kinds import KINDS, register_kind


def _title(params):
    # The active language is part of the text, so tests see whose language rendered it.
    return f"[{get_language()}] Spike on {params.get('topic', '?')}"


def _body(params):
    return f"{params.get('count', 0)} mentions\nlanguage {get_language()}"


@pytest.fixture(autouse=True)
def test_kinds():
    """Two kinds for the tests: one for every member, one for listening managers only."""
    before = dict(KINDS)
    register_kind("tests.spike", title=_title, body=_body, label="Test spikes")
    register_kind(
        "tests.managers", title=_title, body=_body, permission="listening.manage",
        label="Test managers",
    )  # fmt: skip
    yield
    KINDS.clear()
    KINDS.update(before)


@pytest.fixture
def team(workspace, make_member, user):
    """acme (French, Europe/Paris) with its owner alice, an English editor and a viewer
    without a language (reads the workspace's French)."""
    editor = make_member(workspace, Role.EDITOR)
    editor.language = "en"
    editor.save(update_fields=["language"])
    viewer = make_member(workspace, Role.VIEWER)
    return {"owner": user, "editor": editor, "viewer": viewer}
