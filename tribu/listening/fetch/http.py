"""Fetch one URL politely and safely: the only way listening code reaches the network.

- SSRF guard: the host is resolved here, every resolved address is checked (loopback,
  private, link-local, unique-local, multicast, reserved, unspecified, CGNAT, cloud
  metadata, and the IPv4 addresses hidden inside IPv6 forms), on the first URL and on every
  redirect hop; the connection then goes to the address that was checked (pinned), so DNS
  rebinding cannot swap it between the check and the connect. The Host header, TLS SNI and
  certificate check still use the host name.
- Limits: bytes read from the wire, bytes after decompression (gzip bombs), total time
  (servers that trickle bytes), redirects.
- Politeness: conditional GET (ETag, Last-Modified), Retry-After on 429/503, a User-Agent
  that says who we are.
"""

import email.utils
import ipaddress
import socket
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import urllib3
from django.utils.translation import gettext as _

from tribu import __version__

# Addresses that are never fetched, even when the operator allows private addresses:
# cloud metadata services hand out credentials.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024  # on the wire and after decompression
    max_seconds: float = 20.0  # the whole fetch, redirects included
    connect_timeout: float = 5.0
    max_redirects: int = 5


@dataclass(slots=True)
class FetchResult:
    status: int
    url: str  # final URL, after redirects
    headers: dict = field(default_factory=dict)  # lower-case keys
    body: bytes = b""  # decompressed, capped
    not_modified: bool = False
    retry_after: int | None = None  # seconds
    etag: str | None = None
    last_modified: str | None = None
    elapsed: float = 0.0  # seconds


class FetchError(Exception):
    """A fetch that failed. `code` is stable (for programs), `message` is translated and
    says what to do. `status` and `retry_after` are set when the server answered."""

    def __init__(self, code, message, *, status=None, retry_after=None, url=""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.url = url
        # For writes (`send`): whether the request may have reached the server.
        self.sent = False

    def __str__(self):
        return self.message


def user_agent():
    from django.conf import settings

    base_url = getattr(settings, "TRIBU_BASE_URL", "") if settings.configured else ""
    return f"Tribu/{__version__} (+{base_url})" if base_url else f"Tribu/{__version__}"


def private_addresses_allowed(allow_private):
    if allow_private is not None:
        return bool(allow_private)
    from django.conf import settings

    return bool(getattr(settings, "TRIBU_ALLOW_PRIVATE_ADDRESSES", False))


def embedded_ipv4(address):
    """The IPv4 address carried inside an IPv6 one (mapped, 6to4, NAT64, Teredo), if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_blocked(address, *, allow_private=False):
    """True when `address` (an ipaddress object) must not be contacted."""
    inner = embedded_ipv4(address)
    if inner is not None and address_is_blocked(inner, allow_private=allow_private):
        return True
    if address in METADATA_ADDRESSES:
        return True
    if allow_private:
        return False
    if address.version == 4 and address in CGNAT:
        return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )


def blocked_error(url, host):
    return FetchError(
        "blocked_address",
        _(
            "%(host)s points to a private or reserved network address, which Tribu does "
            "not contact. Use a public address; an operator can allow intranet addresses "
            "with TRIBU_ALLOW_PRIVATE_ADDRESSES=1."
        )
        % {"host": host},
        url=url,
    )


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # IDNA-encoded, lower case, no brackets
    port: int
    path: str  # path and query, sent in the request line
    address: str  # the validated IP we connect to


def check_url(url):
    """Split and validate a URL's form (scheme, userinfo, host). Returns (scheme, host, port,
    path) or raises FetchError."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise FetchError(
            "invalid_url",
            _("“%(url)s” is not a valid URL. Check it and try again.") % {"url": url},
            url=url,
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(
            "invalid_url",
            _("Only http:// and https:// addresses can be fetched; “%(url)s” is not one.")
            % {"url": url},
            url=url,
        )
    if parts.username is not None or parts.password is not None:
        raise FetchError(
            "invalid_url",
            _(
                "The address “%(url)s” contains a user name or password. Remove them: "
                "credentials are never sent inside URLs."
            )
            % {"url": url},
            url=url,
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError(
            "invalid_url",
            _("The address “%(url)s” has no host name. Write the full address, with the site.")
            % {"url": url},
            url=url,
        )
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FetchError(
            "invalid_url",
            _("The host name in “%(url)s” is not valid. Check its spelling.") % {"url": url},
            url=url,
        ) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(url, *, allow_private):
    """Check the URL, resolve its host, validate every address, and pick one to connect to."""
    scheme, host, port, path = check_url(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            raise FetchError(
                "dns",
                _(
                    "The host name %(host)s could not be found. Check the address for typos, "
                    "or try again later if the site is new or down."
                )
                % {"host": host},
                url=url,
            ) from None
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
    # Every address must pass: a name resolving to one public and one private address is
    # refused, so we never depend on which one the resolver happens to list first.
    if not addresses or any(
        address_is_blocked(address, allow_private=allow_private) for address in addresses
    ):
        raise blocked_error(url, host)
    return Target(scheme, host, port, path, str(addresses[0]))


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0, int((when - now).total_seconds() + 0.999))


class Decoder:
    """Decompresses a body chunk by chunk, refusing to grow past `limit` bytes."""

    def __init__(self, encoding, limit):
        self.encoding = encoding
        self.limit = limit
        self.size = 0
        self.first = True
        if encoding in ("gzip", "x-gzip"):
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.inflater = None  # zlib or raw deflate: decided on the first bytes
        else:
            self.inflater = False  # identity

    def feed(self, data):
        if self.inflater is False:
            out = data
        else:
            if self.inflater is None:
                # "deflate" should be zlib-wrapped; some servers send raw deflate.
                raw = len(data) >= 2 and (data[0] & 0x0F != 8 or (data[0] << 8 | data[1]) % 31)
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            # max_length caps what one call may produce: a bomb never expands in memory
            # beyond the limit (plus one byte to detect the overflow).
            room = self.limit - self.size + 1
            out = self.inflater.decompress(data, room)
            if self.inflater.unconsumed_tail:
                raise OverflowError
        self.size += len(out)
        if self.size > self.limit:
            raise OverflowError
        return out

    def flush(self):
        if self.inflater in (None, False):
            return b""
        out = self.inflater.flush()
        self.size += len(out)
        if self.size > self.limit:
            raise OverflowError
        return out


def too_large_error(url, limits):
    return FetchError(
        "too_large",
        _(
            "The response from %(url)s is larger than %(size)s MB, the limit per fetch. Use "
            "a feed or page that lists fewer items, or ask the site for a smaller one."
        )
        % {"url": url, "size": f"{limits.max_bytes / 1_000_000:g}"},
        url=url,
    )


def timeout_error(url, limits):
    return FetchError(
        "timeout",
        _(
            "%(url)s took longer than %(seconds)s seconds to answer, so Tribu gave up. The "
            "site may be slow or overloaded; it will be tried again later."
        )
        % {"url": url, "seconds": f"{limits.max_seconds:g}"},
        url=url,
    )


def open_pool(target, timeout):
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,  # SNI on the name
            assert_hostname=target.host,  # certificate checked against the name
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=timeout, retries=False, maxsize=1
    )


def host_header(target):
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def fetch(url, *, etag=None, last_modified=None, limits=None, allow_private=None, headers=None):
    """GET `url` and return a FetchResult; raise FetchError with a translated message."""
    limits = limits or Limits()
    allow_private = private_addresses_allowed(allow_private)
    started = time.monotonic()
    deadline = started + limits.max_seconds
    current = url
    for _hop in range(limits.max_redirects + 1):
        target = resolve(current, allow_private=allow_private)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise timeout_error(url, limits)
        request_headers = {
            "Host": host_header(target),
            "User-Agent": user_agent(),
            "Accept-Encoding": "gzip, deflate",
            "Accept": "*/*",
        }
        if headers:
            request_headers.update(headers)
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        timeout = urllib3.Timeout(connect=min(limits.connect_timeout, remaining), read=remaining)
        pool = open_pool(target, timeout)
        response = None
        try:
            response = request(pool, target, request_headers, current, limits)
            status = response.status
            response_headers = {key.lower(): value for key, value in response.headers.items()}
            if status in REDIRECT_STATUSES and response_headers.get("location"):
                current = urljoin(current, response_headers["location"].strip())
                continue
            body = b""
            if status != 304:
                body = read_body(response, response_headers, current, limits, deadline)
        finally:
            # Close the socket itself: a body left unread (a redirect, a refused size)
            # must not keep the connection, or the server, waiting.
            if response is not None:
                response.close()
            pool.close()
        return finish(url, current, status, response_headers, body, started)
    raise FetchError(
        "too_many_redirects",
        _(
            "%(url)s redirected more than %(count)s times. Open it in a browser to find its "
            "final address and use that one."
        )
        % {"url": url, "count": limits.max_redirects},
        url=url,
    )


def request(pool, target, request_headers, url, limits):
    try:
        return pool.urlopen(
            "GET",
            target.path,
            headers=request_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
            assert_same_host=False,
        )
    except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError):
        raise timeout_error(url, limits) from None
    except urllib3.exceptions.SSLError as error:
        raise FetchError(
            "tls",
            _(
                "The secure connection to %(url)s failed (%(reason)s). The site's certificate "
                "may be expired or for another name; check the address or ask the site owner."
            )
            % {"url": url, "reason": error},
            url=url,
        ) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise FetchError(
            "connection",
            _(
                "Could not connect to %(url)s (%(reason)s). Check the address; if it is "
                "right, the site may be down: it will be tried again later."
            )
            % {"url": url, "reason": getattr(error, "reason", None) or error},
            url=url,
        ) from None


def broken_while_reading(url, error):
    return FetchError(
        "connection",
        _(
            "The connection to %(url)s broke while reading (%(reason)s). It will be "
            "tried again later."
        )
        % {"url": url, "reason": error},
        url=url,
    )


def read_body(response, response_headers, url, limits, deadline):
    declared = response_headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large_error(url, limits)
    encoding = response_headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise FetchError(
            "bad_encoding",
            _(
                "%(url)s answered with a compression Tribu cannot read (%(encoding)s). Ask "
                "the site to serve gzip or uncompressed content."
            )
            % {"url": url, "encoding": encoding},
            url=url,
        )
    decoder = Decoder(encoding, limits.max_bytes)
    parts = []
    wire = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise timeout_error(url, limits)
            # read1 returns as soon as some bytes arrive, so the deadline is checked
            # between every trickle of a slow server.
            chunk = response.read1(CHUNK, decode_content=False)
            if not chunk:
                break
            wire += len(chunk)
            if wire > limits.max_bytes:
                raise too_large_error(url, limits)
            parts.append(decoder.feed(chunk))
        parts.append(decoder.flush())
    except OverflowError:
        raise too_large_error(url, limits) from None
    except zlib.error:
        raise FetchError(
            "bad_encoding",
            _(
                "%(url)s sent compressed content that is corrupt. Try again later; if it "
                "persists, tell the site owner."
            )
            % {"url": url},
            url=url,
        ) from None
    except urllib3.exceptions.ReadTimeoutError:
        raise timeout_error(url, limits) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise broken_while_reading(url, error) from None
    return b"".join(parts)


def finish(url, final_url, status, response_headers, body, started):
    retry_after = parse_retry_after(response_headers.get("retry-after"))
    elapsed = time.monotonic() - started
    if status in (429, 503):
        wait = retry_after if retry_after is not None else 0
        raise FetchError(
            "rate_limited",
            _(
                "%(url)s asked Tribu to slow down (HTTP %(status)s). Polling resumes "
                "automatically after %(seconds)s seconds."
            )
            % {"url": final_url, "status": status, "seconds": wait},
            status=status,
            retry_after=retry_after,
            url=final_url,
        )
    if status >= 400:
        if status in (401, 403):
            hint = _(
                "The site refuses access: check that the address is public or that the "
                "credentials are right."
            )
        elif status in (404, 410):
            hint = _("The page does not exist (any more): check the address.")
        elif status >= 500:
            hint = _("The site has a problem on its side; it will be tried again later.")
        else:
            hint = _("Check the address and the source settings.")
        raise FetchError(
            "http_error",
            _("%(url)s answered HTTP %(status)s. %(hint)s")
            % {"url": final_url, "status": status, "hint": hint},
            status=status,
            retry_after=retry_after,
            url=final_url,
        )
    return FetchResult(
        status=status,
        url=final_url,
        headers=response_headers,
        body=body,
        not_modified=status == 304,
        retry_after=retry_after,
        etag=response_headers.get("etag"),
        last_modified=response_headers.get("last-modified"),
        elapsed=elapsed,
    )


# Writes ----------------------------------------------------------------------------------
#
# Publishing and webhooks send requests that change something on the other side. `send`
# goes through the same guard as `fetch` (resolved, checked and pinned addresses, bounded
# time and bytes) but never follows redirects, returns whatever status came back, and says
# on failure whether the request may have reached the server: a refused connection never
# did, a read timeout may have, and a caller must not blindly repeat a write that may have
# succeeded.


@dataclass(slots=True)
class SendResult:
    status: int
    url: str
    headers: dict = field(default_factory=dict)  # lower-case keys
    body: bytes = b""
    elapsed: float = 0.0  # seconds

    @property
    def retry_after(self):
        return parse_retry_after(self.headers.get("retry-after"))

    def json(self):
        """The body as JSON, or None when it is not JSON."""
        import json

        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


def send(method, url, *, body=None, headers=None, limits=None, allow_private=None, excerpt=None):
    """Send one request and return a SendResult whatever its status. Raises FetchError with
    `sent` False when the request certainly never reached the server (bad address, DNS,
    blocked address, refused connection, TLS handshake), True when it may have.

    `excerpt`: read only the first that many bytes of the answer, uncompressed, and drop the
    rest (a webhook receiver's answer is only logged)."""
    limits = limits or Limits()
    allow_private = private_addresses_allowed(allow_private)
    started = time.monotonic()
    try:
        target = resolve(url, allow_private=allow_private)
    except FetchError as error:
        error.sent = False
        raise
    request_headers = {
        "Host": host_header(target),
        "User-Agent": user_agent(),
        "Accept": "application/json, */*;q=0.5",
        "Accept-Encoding": "identity" if excerpt is not None else "gzip, deflate",
        **(headers or {}),
    }
    timeout = urllib3.Timeout(connect=limits.connect_timeout, read=limits.max_seconds)
    pool = open_pool(target, timeout)
    response = None
    deadline = started + limits.max_seconds
    try:
        response = _send_request(pool, target, method, body, request_headers, url, limits)
        response_headers = {key.lower(): value for key, value in response.headers.items()}
        try:
            if excerpt is not None:
                data = _read_excerpt(response, excerpt, url, limits)
            else:
                data = read_body(response, response_headers, url, limits, deadline)
        except FetchError as error:
            error.sent = True
            error.status = response.status
            raise
        status = response.status
    finally:
        if response is not None:
            response.close()
        pool.close()
    return SendResult(status, url, response_headers, data, time.monotonic() - started)


def _read_excerpt(response, size, url, limits):
    try:
        return response.read(size, decode_content=False) or b""
    except urllib3.exceptions.ReadTimeoutError:
        raise timeout_error(url, limits) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise broken_while_reading(url, error) from None


def _send_request(pool, target, method, body, request_headers, url, limits):
    try:
        return pool.urlopen(
            method,
            target.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.NewConnectionError as error:
        # Caught first: urllib3 makes it a subclass of ConnectTimeoutError. Nothing was sent.
        error = FetchError(
            "connection",
            _(
                "Could not connect to %(url)s (%(reason)s). Check the address; if it is "
                "right, the server may be down: it will be tried again later."
            )
            % {"url": url, "reason": getattr(error, "reason", None) or error},
            url=url,
        )
        error.sent = False
        raise error from None
    except urllib3.exceptions.ConnectTimeoutError:
        error = timeout_error(url, limits)
        error.sent = False
        raise error from None
    except urllib3.exceptions.SSLError as error:
        error = FetchError(
            "tls",
            _(
                "The secure connection to %(url)s failed (%(reason)s). The server's "
                "certificate may be expired or for another name; check the address."
            )
            % {"url": url, "reason": error},
            url=url,
        )
        error.sent = False
        raise error from None
    except urllib3.exceptions.ReadTimeoutError:
        error = timeout_error(url, limits)
        error.sent = True
        raise error from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        error = FetchError(
            "connection",
            _(
                "The connection to %(url)s broke before an answer came (%(reason)s). The "
                "request may have been received."
            )
            % {"url": url, "reason": getattr(error, "reason", None) or error},
            url=url,
        )
        error.sent = True
        raise error from None
