"""A real HTTP server on 127.0.0.1 for contract fakes of social networks.

Subclasses declare their routes (werkzeug rules whose endpoint names a method) and keep
their data in plain attributes; tests then poll them through the real HTTP stack. Faults
are queued: `fail(429, retry_after=30)`, `malformed()`, `slow(seconds)`, each for the next
`times` requests (optionally only those whose path starts with `path`). Every request is
recorded in `requests`. Write endpoints (publishing) add rules with `methods=["POST"]`.
`GET /_fake/stats` answers `stats()` (not recorded), so a benchmark running the fake in
another process (`python -m tribu.testing.fakes`) can read its counts.
"""

import json
import socket
import threading
import time
from dataclasses import dataclass, field

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

STATS_PATH = "/_fake/stats"


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # tests assert on `requests`; access logs would only be noise

    def log_error(self, *args, **kwargs):
        pass  # dropped connections (a fault on purpose) make werkzeug complain


@dataclass
class RecordedRequest:
    method: str
    path: str
    args: dict  # name -> list of values
    headers: dict  # lower-case names
    body: bytes = b""

    def arg(self, name, default=None):
        values = self.args.get(name)
        return values[0] if values else default


@dataclass
class Fault:
    status: int | None = None  # answer this status with the network's error body
    retry_after: str | None = None
    malformed: bool = False  # 200 with a body that is not JSON
    body: bytes | None = None  # 200 (or `status`) with exactly these bytes
    delay: float = 0.0  # sleep before answering normally
    # Process the request normally (a post is stored), then sleep this long before
    # answering: a client with a shorter timeout sees "no answer" although it worked.
    stall_after: float = 0.0
    # Process normally, then drop the connection without answering.
    drop_after: bool = False
    times: int = 1
    path: str | None = None
    headers: dict = field(default_factory=dict)


class FakeServer:
    network = "fake"

    def __init__(self):
        self.requests = []
        self.faults = []
        self.url_map = Map(self.rules())
        self._server = None
        self._thread = None
        self._lock = threading.Lock()
        # Seconds every answer takes (a network far away); faults add to it.
        self.latency = 0.0

    # --- to override ---------------------------------------------------------------
    def rules(self):
        return []

    def error_body(self, status, message):
        return {"error": message}

    def stats(self):
        """What `GET /_fake/stats` answers: counts a benchmark in another process reads."""
        return {"requests": len(self.requests)}

    # --- lifecycle -----------------------------------------------------------------
    def start(self, port=0):
        """Serve on 127.0.0.1, on a free port unless `port` is given (a standalone fake)."""
        self._server = make_server(
            "127.0.0.1", port, self.wsgi, threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(
            # A short poll interval: shutdown() waits for it, once per test.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_port}"

    def url(self, path):
        return self.base_url + path

    # --- faults --------------------------------------------------------------------
    def fail(self, status, *, retry_after=None, times=1, path=None, headers=None):
        self.faults.append(
            Fault(
                status=status,
                retry_after=retry_after,
                times=times,
                path=path,
                headers=headers or {},
            )
        )

    def malformed(self, *, times=1, path=None, body=b'{"truncated": [1, 2'):
        self.faults.append(Fault(malformed=True, body=body, times=times, path=path))

    def respond_raw(self, body, *, status=200, times=1, path=None, headers=None):
        self.faults.append(
            Fault(status=status, body=body, times=times, path=path, headers=headers or {})
        )

    def pass_through(self, *, times=1, path=None):
        """Answer the next `times` requests normally: queue it before a fault meant for a
        later request (a 429 on the second page)."""
        self.faults.append(Fault(times=times, path=path))

    def slow(self, seconds, *, times=1, path=None):
        self.faults.append(Fault(delay=seconds, times=times, path=path))

    def stall_after_processing(self, seconds, *, times=1, path=None):
        """The request is processed (the post exists) but the answer comes `seconds` late."""
        self.faults.append(Fault(stall_after=seconds, times=times, path=path))

    def drop_after_processing(self, *, times=1, path=None):
        """The request is processed, then the connection closes with no answer."""
        self.faults.append(Fault(drop_after=True, times=times, path=path))

    def _take_fault(self, path):
        with self._lock:
            for fault in self.faults:
                if fault.path is None or path.startswith(fault.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # --- helpers for subclasses ----------------------------------------------------
    def json(self, data, status=200, headers=None):
        return Response(
            json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
        )

    def error(self, status, message, headers=None):
        return self.json(self.error_body(status, message), status=status, headers=headers)

    def bearer(self, request):
        value = request.headers.get("Authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    # --- WSGI ----------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.path == STATS_PATH:
            # The fake's own admin endpoint: not recorded, no latency, no faults.
            return self.json(self.stats())(environ, start_response)
        body = request.get_data()
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                args={key: request.args.getlist(key) for key in request.args},
                headers={key.lower(): value for key, value in request.headers.items()},
                body=body,
            )
        )
        if self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(request.path)
        response = self.dispatch(request, fault)
        if fault is not None and fault.stall_after:
            time.sleep(fault.stall_after)
        if fault is not None and fault.drop_after:
            # Close the socket under werkzeug's feet: the client reads no answer at all.
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            start_response("500 Dropped", [])
            return []
        return response(environ, start_response)

    def dispatch(self, request, fault=None):
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            elif fault.body is not None:
                return Response(
                    fault.body,
                    status=fault.status or 200,
                    headers=fault.headers,
                    content_type="application/json",
                )
            elif fault.status:
                headers = dict(fault.headers)
                if fault.retry_after is not None:
                    headers["Retry-After"] = fault.retry_after
                return self.error(fault.status, self.status_message(fault.status), headers)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            return self.error(404, self.status_message(404))
        except MethodNotAllowed:
            return self.error(405, self.status_message(405))
        except HTTPException as error:  # redirects from strict slashes
            return error.get_response(request.environ)
        return getattr(self, endpoint)(request, **values)

    def status_message(self, status):
        return {
            400: "Bad request",
            401: "The access token is invalid",
            403: "Forbidden",
            404: "Record not found",
            405: "Method not allowed",
            429: "Too many requests",
            500: "Internal server error",
            503: "Service unavailable",
        }.get(status, "Error")
