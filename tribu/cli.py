"""The `tribu` command.

    tribu serve     web server + job worker in one command (the embedded install)
    tribu web       web server only (gunicorn)
    tribu worker    job worker only (huey consumer + the tick)
    tribu manage    any Django management command
    tribu demo | createuser | workspace | check | backup | restore | rotate-keys | token
                    shortcuts to Tribu's own management commands

Operator-facing, so its messages are English: they can appear before settings (and thus
translations) load.
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
import time

from tribu import __version__
from tribu.config import ConfigurationError

logger = logging.getLogger("tribu.cli")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WEB_WORKERS = 2
DEFAULT_WORKER_THREADS = 4

# Subcommand -> (management command, one-line help). `tribu X ARGS` runs the management
# command with ARGS, and `tribu X --help` shows that command's own help as "tribu X".
ROUTED = {
    "demo": ("demo", "create the demo workspace if needed and print its login"),
    "createuser": ("createuser", "create a user: createuser --email E [--password P]"),
    "workspace": ("workspace", "workspaces: workspace create --slug S --name N --owner EMAIL"),
    "check": ("tribu_check", "explain every configuration problem in one report"),
    "backup": ("backup", "online backup of the database, job store and media to FILE"),
    "restore": ("restore", "restore a backup FILE (refuses to overwrite without --force)"),
    "rotate-keys": ("rotate_keys", "re-encrypt stored secrets with the newest encryption key"),
    "token": ("token", "API tokens: token create --user EMAIL --workspace SLUG [--role ROLE]"),
    "listen": ("listen", "listening sources: listen poll [--source ID] [--once]"),
    "nlp": ("nlp", "language and sentiment of texts read on stdin: nlp sentiment | nlp lang"),
    "alerts": ("alerts", "spike alerts: alerts backtest --csv FILE [--sensitivity S]"),
    "query": ("query", 'topic queries: query check "QUERY" | query match --queries Q --docs D'),
}

# serve: a crashed worker is restarted after 1, 2, 4 ... seconds, at most this many; a
# worker that stayed up this long counts as healthy again and resets the back-off.
WORKER_MAX_BACKOFF = 60
WORKER_HEALTHY_AFTER = 60
# serve: how long the children get to finish after SIGTERM before being killed.
STOP_TIMEOUT = 20


def setup_django():
    """Load settings (ConfigurationError on a bad environment) and the apps."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    import django

    django.setup()


def port_number(raw):
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 1 and 65535")
    return port


def positive(raw):
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("give 1 or more")
    return value


def positive_seconds(raw):
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("give a number of seconds above 0")
    return value


def add_web_options(parser, workers_help):
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port to listen on (%(default)s)"
    )
    parser.add_argument("--workers", type=positive, default=DEFAULT_WEB_WORKERS, help=workers_help)


def add_worker_options(parser):
    parser.add_argument(
        "--threads",
        type=positive,
        default=DEFAULT_WORKER_THREADS,
        help="threads running background tasks (%(default)s)",
    )
    parser.add_argument(
        "--tick-seconds",
        type=positive_seconds,
        default=None,
        help="seconds between two ticks (default: settings.TRIBU_TICK_SECONDS, 5)",
    )


class OneLineHelpFormatter(argparse.HelpFormatter):
    """Keeps each command and its help on one line. argparse measures sub-commands without
    their extra indent, which pushes long names (rotate-keys) onto a line of their own."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=24, width=100)

    def add_argument(self, action):
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS and hasattr(action, "_get_subactions"):
            self._action_max_length += 2


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tribu",
        description="Tribu: a self-hosted, bilingual platform for community managers.",
        epilog="Run `tribu COMMAND --help` for the options of a command.",
        formatter_class=OneLineHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tribu {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    serve = commands.add_parser(
        "serve",
        help="migrate, then run the web server and the job worker together",
        description="Apply pending migrations, then run the web server (gunicorn) and the "
        "job worker as supervised child processes. SIGTERM or Ctrl-C stops both. A crashed "
        "worker is restarted with back-off; if the web server dies, serve stops and exits "
        "non-zero.",
    )
    add_web_options(serve, "web server processes (%(default)s)")
    add_worker_options(serve)

    web = commands.add_parser(
        "web",
        help="run the web server only (gunicorn)",
        description="Run the web server only. Run `tribu manage migrate` first after an "
        "upgrade, and at least one `tribu worker` against the same database.",
    )
    add_web_options(web, "web server processes (%(default)s)")

    worker = commands.add_parser(
        "worker",
        help="run the job worker only (background tasks and the tick)",
        description="Run the huey consumer for background tasks and the periodic tick that "
        "claims due work and writes this worker's heartbeat. Any number of workers may run "
        "against one PostgreSQL database.",
    )
    add_worker_options(worker)

    commands.add_parser(
        "manage", help="run a Django management command (tribu manage help)", add_help=False
    )
    for name, (_command, one_line) in ROUTED.items():
        commands.add_parser(name, help=one_line, add_help=False)
    return parser


def run_management_command(subcommand, command_name, args):
    """Run Tribu's management command `command_name` as `tribu subcommand ARGS`."""
    setup_django()
    from django.core.management import get_commands, load_command_class

    app = get_commands().get(command_name)
    if app is None:
        print(
            f"tribu {subcommand}: this installation has no {command_name!r} management "
            "command. Reinstall Tribu (pip install -e .) and try again.",
            file=sys.stderr,
        )
        return 1
    command = load_command_class(app, command_name)
    # run_from_argv builds the parser with prog "tribu <subcommand>" and turns a
    # CommandError into a message and a non-zero exit.
    command.run_from_argv(["tribu", subcommand, *args])
    return 0


def run_manage(args):
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tribu manage", *args])
    return 0


def warn_pending_migrations():
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        logger.warning(
            "%s database migration(s) are not applied: run `tribu manage migrate`.",
            len(pending),
        )


def gunicorn_options(host, port, workers):
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return {
        "bind": f"{bind_host}:{port}",
        "workers": workers,
        # Threads let one slow client not block a whole process.
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "tribu-web",
        # gunicorn >= 25 opens a control socket in $HOME by default; two instances (web
        # and tests) would fight over it, and nothing here uses it.
        "control_socket_disable": True,
    }


def run_web(host, port, workers):
    setup_django()
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    warn_pending_migrations()
    # gunicorn forks its workers: no database connection may be shared with them.
    connections.close_all()

    class TribuWeb(BaseApplication):
        def __init__(self, options):
            self.options = options
            super().__init__()

        def load_config(self):
            for key, value in self.options.items():
                if key in self.cfg.settings:  # older gunicorn lacks some settings
                    self.cfg.set(key, value)

        def load(self):
            from django.core.wsgi import get_wsgi_application

            return get_wsgi_application()

    logger.info("Tribu %s web server on http://%s:%s", __version__, host, port)
    TribuWeb(gunicorn_options(host, port, workers)).run()
    return 0


def run_worker(threads, tick_seconds=None):
    setup_django()
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    from tribu.core.tick import Ticker
    from tribu.publishing.publisher import Publisher

    # Register every app's tasks before consuming, as huey's run_huey command does.
    autodiscover_modules("tasks")
    consumer = HUEY.create_consumer(
        workers=threads,
        worker_type="thread",
        # SIGTERM (what serve, systemd and docker send) lets running tasks finish.
        graceful_signal="TERM",
        shutdown_timeout=STOP_TIMEOUT - 5,
    )
    ticker = Ticker(interval=tick_seconds)
    ticker.start()
    publisher = Publisher()
    publisher.start()
    try:
        consumer.run()
    finally:
        publisher.stop()
        ticker.stop()
    logger.info("Worker stopped")
    return 0


class Supervisor:
    """Runs the web server and the worker as child processes (for `tribu serve`)."""

    def __init__(self, web_command, worker_command, stop_timeout=STOP_TIMEOUT, first_backoff=1.0):
        self.web_command = web_command
        self.worker_command = worker_command
        self.stop_timeout = stop_timeout
        self.first_backoff = first_backoff
        self.stop_signal = None

    def _on_signal(self, signum, frame):
        self.stop_signal = signum

    def run(self):
        # SIGHUP too: a closed terminal must not kill serve and orphan its children.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        web = subprocess.Popen(self.web_command)
        worker = subprocess.Popen(self.worker_command)
        worker_started = time.monotonic()
        restart_at = None
        backoff = self.first_backoff
        exit_code = 0
        while self.stop_signal is None:
            if web.poll() is not None:
                logger.error("The web server exited with code %s: stopping Tribu.", web.returncode)
                exit_code = web.returncode or 1
                break
            if worker is None:
                if time.monotonic() >= restart_at:
                    logger.info("Restarting the worker")
                    worker = subprocess.Popen(self.worker_command)
                    worker_started = time.monotonic()
            elif worker.poll() is not None:
                uptime = time.monotonic() - worker_started
                if uptime >= WORKER_HEALTHY_AFTER:
                    backoff = self.first_backoff
                logger.error(
                    "The worker exited with code %s after %.0f s; restarting it in %.1f s.",
                    worker.returncode,
                    uptime,
                    backoff,
                )
                restart_at = time.monotonic() + backoff
                backoff = min(backoff * 2, WORKER_MAX_BACKOFF)
                worker = None
            time.sleep(0.2)
        if self.stop_signal is not None:
            logger.info("Received %s: stopping", signal.Signals(self.stop_signal).name)
        self.stop([process for process in (web, worker) if process is not None])
        return exit_code

    def stop(self, processes):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in processes:
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                logger.error("Process %s did not stop in time: killing it", process.pid)
                process.kill()
                process.wait()


def run_serve(host, port, workers, threads, tick_seconds=None):
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=1)
    connections.close_all()
    base = [sys.executable, "-m", "tribu.cli"]
    web_command = [*base, "web", "--host", host, "--port", str(port), "--workers", str(workers)]
    worker_command = [*base, "worker", "--threads", str(threads)]
    if tick_seconds is not None:
        worker_command += ["--tick-seconds", str(tick_seconds)]
    print(f"Tribu {__version__} is starting on http://{host}:{port} (Ctrl-C stops it)", flush=True)
    return Supervisor(web_command, worker_command).run()


def dispatch(argv):
    if argv and argv[0] in ROUTED:
        return run_management_command(argv[0], ROUTED[argv[0]][0], argv[1:])
    if argv and argv[0] == "manage":
        return run_manage(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_serve(args.host, args.port, args.workers, args.threads, args.tick_seconds)
    if args.command == "web":
        return run_web(args.host, args.port, args.workers)
    if args.command == "worker":
        return run_worker(args.threads, args.tick_seconds)
    parser.print_help(sys.stderr)
    return 2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        return dispatch(argv)
    except ConfigurationError as error:
        # The report names each variable and its fix; a traceback would only hide it.
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
