"""Run the whole suite on SQLite, then on PostgreSQL.

PostgreSQL comes from DATABASE_URL when it is set; otherwise, when PostgreSQL's server
binaries are installed, from a throwaway cluster in a temporary directory that is removed
afterwards. TRIBU_REQUIRE_POSTGRES=1 (set by CI) turns a missing PostgreSQL into a failure.

Usage: python scripts/run_tests.py [--sqlite-only] [pytest arguments...]
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest"]


def run_leg(name, extra_env, pytest_args):
    print(f"\n=== {name} leg ===", flush=True)
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(extra_env)
    with tempfile.TemporaryDirectory(prefix=f"tribu-test-{name.lower()}-") as data_dir:
        env["TRIBU_DATA_DIR"] = data_dir
        return subprocess.call(PYTEST + pytest_args, cwd=ROOT, env=env)


def postgres_bin_dir():
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def throwaway_cluster(bin_dir):
    """A private PostgreSQL cluster on a free loopback port, deleted on exit."""
    directory = Path(tempfile.mkdtemp(prefix="tribu-pg-"))
    run_as = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: use the postgres (or nobody) account.
        account = "postgres" if _user_exists("postgres") else "nobody"
        entry = pwd.getpwnam(account)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        run_as = ["runuser", "-u", account, "--"]
    data = directory / "data"
    port = free_port()
    log = directory / "server.log"
    try:
        subprocess.run(
            run_as
            + [str(bin_dir / "initdb"), "-D", str(data), "-U", "tribu", "--auth=trust"]
            + ["--encoding=UTF8", "--locale=C.UTF-8"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        subprocess.run(
            run_as
            + [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w"]
            + ["start"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "tribu"]
            + ["tribu"],
            check=True,
        )
        yield f"postgresql://tribu@127.0.0.1:{port}/tribu"
    finally:
        if data.exists():
            subprocess.run(
                run_as + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        time.sleep(0.2)
        shutil.rmtree(directory, ignore_errors=True)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def main(argv):
    sqlite_only = "--sqlite-only" in argv
    pytest_args = [arg for arg in argv if arg != "--sqlite-only"]
    required = os.environ.get("TRIBU_REQUIRE_POSTGRES", "").lower() in {"1", "true", "yes"}

    results = {"SQLite": run_leg("SQLite", {}, pytest_args)}

    if not sqlite_only:
        url = os.environ.get("DATABASE_URL", "")
        bin_dir = postgres_bin_dir()
        if url.startswith(("postgres://", "postgresql://")):
            results["PostgreSQL"] = run_leg("PostgreSQL", {"DATABASE_URL": url}, pytest_args)
        elif bin_dir is not None:
            try:
                with throwaway_cluster(bin_dir) as cluster_url:
                    env = {"DATABASE_URL": cluster_url, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
                    results["PostgreSQL"] = run_leg("PostgreSQL", env, pytest_args)
            except (subprocess.CalledProcessError, OSError) as error:
                print(f"PostgreSQL leg: could not start a throwaway cluster: {error}")
                results["PostgreSQL"] = 1 if required else None
        else:
            print(
                "\nPostgreSQL leg skipped: set DATABASE_URL or install postgresql "
                "(apt-get install postgresql)."
            )
            results["PostgreSQL"] = 1 if required else None

    print("\n=== summary ===")
    for name, code in results.items():
        verdict = "skipped" if code is None else ("passed" if code == 0 else f"FAILED ({code})")
        print(f"{name}: {verdict}")
    return 0 if all(code in (0, None) for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
