"""`tribu serve` as a real process: migrate, web + worker, healthy, static files, clean stop.

It always runs on SQLite in its own data directory (also on the PostgreSQL leg): what is
tested here is the process model, not the database."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TRIBU = str(Path(sys.executable).parent / "tribu")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def children_of(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def group_is_gone(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def serve(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(TRIBU_DATA_DIR=str(tmp_path / "data"), TRIBU_EMAIL_URL="console://")
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [TRIBU, "serve", "--port", str(port), "--workers", "1", "--threads", "1"]
        + ["--tick-seconds", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: nothing may outlive it
    )
    process.base_url = f"http://127.0.0.1:{port}"
    process.log = log
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def wait_until_healthy(process, timeout=60):
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        assert process.poll() is None, "tribu serve exited early:\n" + read_log(process)
        try:
            status, _, raw = fetch(process.base_url + "/healthz")
        except OSError:
            status = None
        else:
            body = json.loads(raw)
            if status == 200:
                return body
        time.sleep(0.3)
    pytest.fail(f"/healthz never answered 200 (last: {body}):\n{read_log(process)}")


def read_log(process):
    process.log.flush()
    process.log.seek(0)
    return process.log.read()


def test_serve_runs_web_and_worker_and_stops_cleanly_on_sigterm(serve):
    health = wait_until_healthy(serve)  # healthy = the worker's heartbeat reached the web
    assert health["worker"] == "ok"

    status, headers, body = fetch(serve.base_url + "/accounts/login/")
    assert status == 200
    assert b"<form" in body
    assert "gunicorn" in headers.get("Server", "")

    status, headers, _ = fetch(serve.base_url + "/static/tribu/tribu.css")
    assert status == 200, "tribu.css is not served (WhiteNoise finders)"
    assert headers["Content-Type"].startswith("text/css")
    status, _, _ = fetch(serve.base_url + "/static/django_htmx/htmx-2.min.js")
    assert status == 200

    children = children_of(serve.pid)
    assert len(children) == 2  # gunicorn's master and the worker

    started = time.monotonic()
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=15) == 0, read_log(serve)
    assert time.monotonic() - started < 10
    deadline = time.monotonic() + 5
    while not group_is_gone(serve.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_is_gone(serve.pid), "a web or worker process outlived tribu serve"
    log = read_log(serve)
    assert "Consumer exiting" in log
    assert "Shutting down: Master" in log


def test_wrong_environment_value_stops_start_up_with_exit_2(tmp_path):
    env = {**os.environ, "TRIBU_DATA_DIR": str(tmp_path), "TRIBU_DEBUG": "maybe"}
    result = subprocess.run(
        [TRIBU, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "TRIBU_DEBUG" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_and_help(tmp_path):
    version = subprocess.run([TRIBU, "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and version.stdout.startswith("tribu ")
    help_ = subprocess.run([TRIBU, "--help"], capture_output=True, text=True, timeout=30)
    assert help_.returncode == 0
    assert "serve" in help_.stdout and "worker" in help_.stdout
