import pytest
from django.utils import translation

from tribu.notifications import kinds


def test_register_refuses_an_unknown_permission():
    with pytest.raises(KeyError):
        kinds.register_kind("x.y", title=str, body=str, permission="no.such")


def test_render_uses_the_active_language():
    with translation.override("fr"):
        title, body = kinds.render("tests.spike", {"topic": "Aube", "count": 3})
    assert title == "[fr] Spike on Aube"
    assert body == "3 mentions\nlanguage fr"


def test_an_unregistered_kind_still_renders_something():
    assert kinds.render("gone.kind", {"a": 1}) == ("gone.kind", "")


def test_a_kind_whose_texts_fail_shows_its_label():
    kinds.register_kind("tests.broken", title=lambda p: p["missing"], body=str, label="Broken")
    assert kinds.render("tests.broken", {}) == ("Broken", "")


def test_the_test_kind_is_registered_and_offered():
    assert ("notifications.test", "Test notifications") in kinds.choices()
    title, body = kinds.render("notifications.test", {"actor": "Alice"})
    assert title == "Test notification from Tribu"
    assert "Alice" in body
