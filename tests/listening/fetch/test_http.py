"""tribu.listening.fetch.http against real HTTP servers on loopback (pytest-httpserver)."""

import gzip
import ipaddress
import socket
import time
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tribu.listening.fetch.http import (
    FetchError,
    Limits,
    address_is_blocked,
    fetch,
    parse_retry_after,
)


@pytest.fixture
def slow_server():
    """A threaded server of its own for handlers that sleep, so they never hold up the
    shared one that the other tests use."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


def test_get_sends_user_agent_and_host_and_returns_body(httpserver):
    seen = {}

    def handler(request):
        seen.update(request.headers)
        return Response(
            FEED, headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        )

    httpserver.expect_request("/feed").respond_with_handler(handler)
    result = fetch(httpserver.url_for("/feed"), allow_private=True)
    assert result.status == 200
    assert result.body == FEED
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert result.not_modified is False
    assert result.headers["content-length"] == str(len(FEED))
    assert seen["User-Agent"].startswith("Tribu/")
    assert seen["Host"] == f"{httpserver.host}:{httpserver.port}"


def test_conditional_get_returns_not_modified(httpserver):
    httpserver.expect_request(
        "/feed",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"},
    ).respond_with_data("", status=304, headers={"ETag": '"v1"'})
    result = fetch(
        httpserver.url_for("/feed"),
        etag='"v1"',
        last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
        allow_private=True,
    )
    assert result.not_modified is True
    assert result.status == 304
    assert result.body == b""


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limited_with_retry_after_seconds(httpserver, status):
    httpserver.expect_request("/feed").respond_with_data(
        "slow down", status=status, headers={"Retry-After": "120"}
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/feed"), allow_private=True)
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 120
    assert caught.value.status == status
    assert "120 seconds" in caught.value.message


def test_retry_after_http_date():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(later, now=now) == 300
    assert parse_retry_after("0") == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_http_error_says_what_to_do(httpserver):
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/gone"), allow_private=True)
    assert caught.value.code == "http_error"
    assert caught.value.status == 404
    assert "check the address" in caught.value.message


@pytest.mark.parametrize(
    "encoding, compress",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
)
def test_compressed_bodies_are_decompressed(httpserver, encoding, compress):
    httpserver.expect_request("/feed").respond_with_data(
        compress(FEED * 10), headers={"Content-Encoding": encoding}
    )
    result = fetch(httpserver.url_for("/feed"), allow_private=True)
    assert result.body == FEED * 10


def test_gzip_bomb_is_refused_on_decompressed_size(httpserver):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/bomb"), allow_private=True, limits=Limits(max_bytes=1_000_000))
    assert caught.value.code == "too_large"
    assert "1 MB" in caught.value.message


def test_50_mb_feed_is_refused_by_declared_length(httpserver):
    httpserver.expect_request("/big").respond_with_handler(
        lambda request: Response(b"<rss>" + b" " * (50 * 1024 * 1024))
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/big"), allow_private=True)
    assert caught.value.code == "too_large"
    assert "10.4858 MB" in caught.value.message or "MB" in caught.value.message


def test_streamed_body_without_length_is_capped_while_reading(httpserver):
    chunks_sent = []

    def body():
        for _ in range(50):
            chunks_sent.append(1)
            yield b"x" * (1024 * 1024)

    httpserver.expect_request("/stream").respond_with_handler(
        lambda request: Response(body(), direct_passthrough=True)
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/stream"), allow_private=True, limits=Limits(max_bytes=2_000_000))
    assert caught.value.code == "too_large"
    assert len(chunks_sent) < 50  # we stopped reading, the server did not finish


def test_slow_server_trickling_bytes_hits_the_time_cap(slow_server):
    def trickle():
        for _ in range(100):
            time.sleep(0.1)
            yield b"<"

    slow_server.expect_request("/slow").respond_with_handler(
        lambda request: Response(trickle(), direct_passthrough=True)
    )
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(slow_server.url_for("/slow"), allow_private=True, limits=Limits(max_seconds=1))
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 2.5


def test_server_that_never_answers_hits_the_time_cap(slow_server):
    def silent(request):
        time.sleep(3)
        return Response(FEED)

    slow_server.expect_request("/silent").respond_with_handler(silent)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(slow_server.url_for("/silent"), allow_private=True, limits=Limits(max_seconds=0.5))
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 2


def test_redirects_are_followed_and_the_final_url_returned(httpserver):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data(FEED)
    result = fetch(httpserver.url_for("/old"), allow_private=True)
    assert result.url == httpserver.url_for("/new")
    assert result.body == FEED


def test_too_many_redirects(httpserver):
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/loop"), allow_private=True, limits=Limits(max_redirects=3))
    assert caught.value.code == "too_many_redirects"


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
    ],
)
def test_redirect_to_cloud_metadata_is_refused_even_when_private_is_allowed(httpserver, location):
    httpserver.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": location}
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/feed"), allow_private=True)
    assert caught.value.code == "blocked_address"


def test_loopback_is_refused_unless_allowed(httpserver, settings):
    httpserver.expect_request("/feed").respond_with_data(FEED)
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/feed"))
    assert caught.value.code == "blocked_address"
    assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in caught.value.message
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    assert fetch(httpserver.url_for("/feed")).body == FEED


def test_dns_name_resolving_to_loopback_is_refused(httpserver):
    with pytest.raises(FetchError) as caught:
        fetch(f"http://localhost:{httpserver.port}/feed", allow_private=False)
    assert caught.value.code == "blocked_address"


def test_name_with_any_private_address_is_refused(monkeypatch):
    def resolver(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(FetchError) as caught:
        fetch("http://mixed.example/feed", allow_private=False)
    assert caught.value.code == "blocked_address"


def test_connection_goes_to_the_checked_address_with_the_name_as_host(httpserver, monkeypatch):
    """The address is resolved once, checked, and connected to: a resolver that would
    answer differently on a second lookup (DNS rebinding) is never asked again."""
    real = socket.getaddrinfo
    lookups = []

    def resolver(host, port, *args, **kwargs):
        if host == "feeds.example":
            lookups.append(host)
            if len(lookups) > 1:  # a rebinding attacker's second answer
                return real("169.254.169.254", port, *args, **kwargs)
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    seen = {}

    def handler(request):
        seen["host"] = request.headers["Host"]
        return Response(FEED)

    httpserver.expect_request("/feed").respond_with_handler(handler)
    result = fetch(f"http://feeds.example:{httpserver.port}/feed", allow_private=True)
    assert result.body == FEED
    assert lookups == ["feeds.example"]
    assert seen["host"] == f"feeds.example:{httpserver.port}"


@pytest.mark.parametrize(
    "url, code",
    [
        ("ftp://example.com/feed", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
        ("http://user:secret@example.com/feed", "invalid_url"),
        ("http:///feed", "invalid_url"),
        ("http://example.com:99999/", "invalid_url"),
        ("http://0.0.0.0/", "blocked_address"),
        ("http://[::1]/", "blocked_address"),
        ("http://2130706433/", "dns"),  # not an address to us, and not a resolvable name
    ],
)
def test_refused_urls(url, code, monkeypatch):
    def resolver(host, *args, **kwargs):
        raise socket.gaierror("no network in tests")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(FetchError) as caught:
        fetch(url, allow_private=False)
    assert caught.value.code == code
    assert caught.value.message


@pytest.mark.parametrize(
    "address, allow_private, blocked",
    [
        ("127.0.0.1", False, True),
        ("10.1.2.3", False, True),
        ("172.16.0.1", False, True),
        ("192.168.1.1", False, True),
        ("100.64.0.1", False, True),
        ("169.254.1.1", False, True),
        ("224.0.0.1", False, True),
        ("240.0.0.1", False, True),
        ("0.0.0.0", False, True),  # noqa: S104 (an address we refuse, not a bind)
        ("::1", False, True),
        ("::", False, True),
        ("fe80::1", False, True),
        ("fc00::1", False, True),
        ("ff02::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("::ffff:10.0.0.1", False, True),
        ("64:ff9b::a00:1", False, True),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", False, True),  # 6to4 of 127.0.0.1
        ("93.184.216.34", False, False),
        ("2606:4700::1111", False, False),
        ("127.0.0.1", True, False),
        ("10.1.2.3", True, False),
        ("169.254.169.254", True, True),
        ("fd00:ec2::254", True, True),
        ("::ffff:169.254.169.254", True, True),
        ("100.100.100.200", True, True),
    ],
)
def test_address_classification(address, allow_private, blocked):
    assert address_is_blocked(ipaddress.ip_address(address), allow_private=allow_private) is blocked
