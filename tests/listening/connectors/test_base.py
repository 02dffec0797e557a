from datetime import UTC, datetime

import pytest

from tribu.listening.connectors import base


def test_parse_links():
    header = (
        '<https://m.example/api/v1/timelines/tag/x?max_id=7>; rel="next", '
        '<https://m.example/api/v1/timelines/tag/x?min_id=9>; rel="prev"'
    )
    assert base.parse_links(header) == {
        "next": "https://m.example/api/v1/timelines/tag/x?max_id=7",
        "prev": "https://m.example/api/v1/timelines/tag/x?min_id=9",
    }
    assert base.parse_links(None) == {}


def test_same_origin():
    assert base.same_origin("https://m.example/a?b", "https://M.example")
    assert not base.same_origin("https://evil.example/a", "https://m.example")
    assert not base.same_origin("http://m.example/a", "https://m.example")


def test_html_to_text():
    assert base.html_to_text("<p>a&amp;b</p><p>c<br>d</p><style>x{}</style>") == "a&b c d"
    assert base.html_to_text("") == ""


def test_sanitize_html():
    cleaned = base.sanitize_html('<a href="javascript:x" onclick="y">l</a><img src=x onerror=z>')
    assert "javascript" not in cleaned and "onclick" not in cleaned and "onerror" not in cleaned


def test_parse_datetime():
    expected = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert base.parse_datetime("2024-05-01T10:00:00.123456789Z") == expected
    assert base.parse_datetime("2024-05-01T12:00:00.123456+02:00") == expected
    with pytest.raises(base.BadItem):
        base.parse_datetime("tomorrow")
    with pytest.raises(base.BadItem):
        base.parse_datetime(None)


def test_limits_and_pages_are_clamped():
    assert base.limits_for({"timeout": 999}).max_seconds == 60
    assert base.limits_for({}).max_bytes == base.LIMITS.max_bytes
    assert base.max_pages_for({"max_pages": 1000}) == base.MAX_PAGES
    assert base.max_pages_for({"max_pages": "x"}) == base.DEFAULT_MAX_PAGES
