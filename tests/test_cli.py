import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tribu import __version__, cli

TRIBU = str(Path(sys.executable).parent / "tribu")


def run_tribu(*args, env=None, timeout=60):
    return subprocess.run([TRIBU, *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_version_from_the_console_script():
    result = run_tribu("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"tribu {__version__}"


def test_help_lists_every_command_with_one_line_each(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    for name in ["serve", "web", "worker", "manage", *cli.ROUTED]:
        [line] = [line for line in lines if line.strip().split(" ")[0] == name]
        assert len(line.split()) > 2, f"{name} has no one-line help: {line!r}"


@pytest.mark.parametrize("name", ["serve", "web", "worker"])
def test_process_commands_have_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tribu {name}")
    assert "--tick-seconds" in out if name != "web" else "--port" in out


@pytest.mark.parametrize("name", sorted(cli.ROUTED))
def test_routed_commands_show_their_management_help_as_tribu_x(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([name, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: tribu {name}")


def test_manage_runs_django_management_commands(capsys):
    cli.main(["manage", "check"])
    assert "System check identified no issues" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "serve" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_a_wrong_port_is_refused(port, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--port", port])
    assert exit_info.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_configuration_errors_print_the_report_and_exit_2(tmp_path):
    env = {**os.environ, "TRIBU_DATA_DIR": str(tmp_path), "TRIBU_BASE_URL": "ftp://nope"}
    result = run_tribu("worker", env=env)
    assert result.returncode == 2
    assert "TRIBU_BASE_URL" in result.stderr
    assert "Fix:" in result.stderr
    assert "Traceback" not in result.stderr


def test_ipv6_hosts_are_bracketed_for_gunicorn():
    assert cli.gunicorn_options("::1", 8000, 1)["bind"] == "[::1]:8000"
    assert cli.gunicorn_options("127.0.0.1", 8000, 1)["bind"] == "127.0.0.1:8000"


# The supervisor behind `tribu serve`, with small real child processes ------------------

SUPERVISE = textwrap.dedent(
    """
    import logging, sys
    from tribu.cli import Supervisor
    logging.basicConfig(level=logging.INFO)
    web, worker = sys.argv[1], sys.argv[2]
    code = Supervisor(
        [sys.executable, "-c", web], [sys.executable, "-c", worker],
        stop_timeout=5, first_backoff=0.1,
    ).run()
    sys.exit(code)
    """
)


def supervise(tmp_path, web_code, worker_code):
    return subprocess.Popen(
        [sys.executable, "-c", SUPERVISE, web_code, worker_code],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )


def test_a_crashing_worker_is_restarted_with_back_off_and_logged(tmp_path):
    starts = tmp_path / "starts"
    crash = f"open({str(starts)!r}, 'a').write('start\\n'); raise SystemExit(3)"
    idle_web = "import time; time.sleep(60)"
    process = supervise(tmp_path, idle_web, crash)
    time.sleep(2.0)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)

    assert process.returncode == 0
    # Back-off 0.1, 0.2, 0.4, 0.8 s...: a handful of restarts in 2 s, not a busy loop.
    assert 3 <= len(starts.read_text().splitlines()) <= 7
    assert "The worker exited with code 3" in err
    assert "restarting it in" in err


def test_when_the_web_server_dies_serve_stops_the_worker_and_fails(tmp_path):
    pid_file = tmp_path / "worker.pid"
    worker = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    dying_web = "import time; time.sleep(1); raise SystemExit(4)"
    process = supervise(tmp_path, dying_web, worker)
    _, err = process.communicate(timeout=15)

    assert process.returncode == 4
    assert "The web server exited with code 4" in err
    worker_pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
