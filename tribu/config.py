"""Read Tribu's configuration from the environment, and explain every problem at once.

`settings.py` calls `load()`; `tribu check` prints the same report. Nothing here imports
Django, so a broken configuration can be reported before Django starts.

The messages are still translated: `_` and `ngettext` below read Tribu's own catalogue with
Python's gettext, in the operator's language (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), and
makemessages extracts them like any other string.
"""

import contextvars
import functools
import gettext
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.fernet import Fernet

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

# The catalogue of the environment being loaded; outside load(), the process's environment.
_catalogue = contextvars.ContextVar("tribu_config_catalogue", default=None)


def operator_languages(environ):
    """Language codes from the first locale variable set, e.g. LANG=fr_FR.UTF-8 -> ["fr"];
    none for the C/POSIX locale, which means untranslated English."""
    for name in LANGUAGE_VARIABLES:
        value = environ.get(name, "").strip()
        if not value:
            continue
        languages = []
        for entry in value.split(":"):
            code = entry.split(".")[0].split("@")[0].split("_")[0].lower()
            if code and code not in {"c", "posix"} and code not in languages:
                languages.append(code)
        return languages
    return []


@functools.cache
def _catalogue_for(languages):
    return gettext.translation(
        "django", localedir=LOCALE_DIR, languages=list(languages), fallback=True
    )


def catalogue(environ=None):
    environ = os.environ if environ is None else environ
    return _catalogue_for(tuple(operator_languages(environ)))


def _(message):
    return (_catalogue.get() or catalogue()).gettext(message)


def ngettext(singular, plural, count):
    return (_catalogue.get() or catalogue()).ngettext(singular, plural, count)


class ConfigurationError(Exception):
    """Raised at start-up with every problem found, each naming its variable and its fix."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__(format_report(problems))


# Problem.kind for a secret file that other users can read: `tribu check` reports those itself.
FILE_MODE = "file_mode"


@dataclass
class Problem:
    variable: str
    message: str
    fix: str
    kind: str = ""


@dataclass
class Config:
    data_dir: Path
    debug: bool
    secret_key: str
    encryption_keys: list[str]
    database_url: str | None
    allowed_hosts: list[str]
    base_url: str
    email: dict
    trust_proxy: bool
    allow_private_addresses: bool
    accurate_sentiment: bool = True
    publish_threads: int = 8
    # network -> {"client_id", "client_secret", "api_url", "auth_url", "version"}
    network_apps: dict = field(default_factory=dict)
    generated_files: list[Path] = field(default_factory=list)

    @property
    def is_postgres(self):
        return bool(self.database_url) and self.database_url.split(":", 1)[0] in POSTGRES_SCHEMES

    @property
    def is_https(self):
        return self.base_url.startswith("https://")


POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
ENCRYPTION_KEYS_FILE = "encryption_keys"


def format_report(problems):
    count = len(problems)
    lines = [
        ngettext(
            "Tribu cannot start: %(count)d configuration problem.",
            "Tribu cannot start: %(count)d configuration problems.",
            count,
        )
        % {"count": count}
    ]
    for problem in problems:
        lines.append(f"- {problem.variable}: {problem.message}")
        lines.append("  " + _("Fix: %(fix)s") % {"fix": problem.fix})
    return "\n".join(lines)


def parse_bool(environ, name, default, problems):
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    problems.append(
        Problem(
            name,
            _("%(value)s is not a yes/no value.") % {"value": repr(raw)},
            _("Set %(name)s=1 to enable or 0 to disable.") % {"name": name},
        )
    )
    return default


def read_or_create_secret(path, make, generated):
    """Return the secret stored at `path`, creating it with 0600 permissions when absent."""
    if path.exists():
        return path.read_text().strip()
    value = make()
    # O_EXCL: two processes starting together must not overwrite each other's fresh secret.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    generated.append(path)
    return value


def check_secret_file_mode(path, variable, problems):
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        problems.append(
            Problem(
                variable,
                _("%(file)s is readable by other users (mode %(mode)s).")
                % {"file": path, "mode": oct(mode)},
                _("Run: chmod 600 %(file)s") % {"file": path},
                kind=FILE_MODE,
            )
        )


def parse_int(environ, name, default, low, high, problems):
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        problems.append(
            Problem(
                name,
                _("%(value)s is not a whole number between %(low)s and %(high)s.")
                % {"value": repr(raw), "low": low, "high": high},
                _("Set %(name)s to a number such as %(default)s, or unset it.")
                % {"name": name, "default": default},
            )
        )
        return default
    return value


def parse_encryption_keys(raw, variable, problems):
    keys = [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
    if not keys:
        problems.append(
            Problem(
                variable,
                _("no key given."),
                _(
                    "Give one or more Fernet keys separated by commas (newest first), or unset "
                    "it to let Tribu generate one in the data directory."
                ),
            )
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(
                Problem(
                    variable,
                    _("key number %(position)d is not a valid Fernet key.")
                    % {"position": position},
                    _(
                        'Generate one with: python -c "from cryptography.fernet import Fernet; '
                        'print(Fernet.generate_key().decode())"'
                    ),
                )
            )
    return keys


def parse_database_url(raw, problems):
    if not raw:
        return None
    scheme = raw.split(":", 1)[0].lower()
    if scheme not in POSTGRES_SCHEMES | {"sqlite"}:
        problems.append(
            Problem(
                "DATABASE_URL",
                _("unsupported database scheme %(scheme)s.") % {"scheme": repr(scheme)},
                _(
                    "Use postgres://USER:PASSWORD@HOST:PORT/NAME, or unset DATABASE_URL to use "
                    "SQLite in the data directory."
                ),
            )
        )
        return None
    if scheme in POSTGRES_SCHEMES:
        parts = urlsplit(raw)
        if not parts.path.strip("/") and "dbname=" not in (parts.query or ""):
            problems.append(
                Problem(
                    "DATABASE_URL",
                    _("the URL names no database."),
                    _("Add the database name: postgres://USER:PASSWORD@HOST:PORT/NAME"),
                )
            )
    return raw


def parse_email_url(raw, problems):
    """Turn TRIBU_EMAIL_URL into Django email settings.

    console:// (default) prints emails; smtp://user:pass@host:587?tls=1 (or smtps:// for
    implicit TLS) sends them.
    """
    if not raw or raw.strip() in {"console", "console://"}:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(raw.strip())
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        problems.append(
            Problem(
                "TRIBU_EMAIL_URL",
                _("%(value)s is not an email URL Tribu understands.") % {"value": repr(raw)},
                _(
                    "Use smtp://USER:PASSWORD@HOST:587?tls=1, smtps://USER:PASSWORD@HOST:465, "
                    "or console:// to print emails."
                ),
            )
        )
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        problems.append(
            Problem("TRIBU_EMAIL_URL", _("the port is not a number."), _("Write the port as :587."))
        )
        port = 25
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", "").lower() in TRUE_WORDS,
        "EMAIL_TIMEOUT": 20,
    }


def parse_base_url(raw, problems):
    value = (raw or "http://127.0.0.1:8000").strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
        problems.append(
            Problem(
                "TRIBU_BASE_URL",
                _("%(value)s is not the address of a site.") % {"value": repr(raw)},
                _(
                    "Give the public address users type, such as https://tribu.example.com "
                    "(scheme and host, no path)."
                ),
            )
        )
        return "http://127.0.0.1:8000"
    return value


# The networks whose API needs an app registered by the operator (a developer account on
# the network), with the default API and sign-in addresses. Every address can be changed:
# a proxy, a regional host, or a contract fake in tests. Facebook Pages and Instagram share
# one Meta app.
NETWORK_APPS = {
    "linkedin": {
        "prefix": "TRIBU_LINKEDIN",
        "api_url": "https://api.linkedin.com",
        "auth_url": "https://www.linkedin.com",
        # LinkedIn-Version header (YYYYMM); versions retire about a year after release.
        "version": "202606",
    },
    "meta": {
        "prefix": "TRIBU_META",
        "api_url": "https://graph.facebook.com",
        "auth_url": "https://www.facebook.com",
        "version": "v24.0",  # Graph API version
    },
    "x": {
        "prefix": "TRIBU_X",
        "api_url": "https://api.x.com",
        "auth_url": "https://x.com",
        "version": "",
    },
    "threads": {
        "prefix": "TRIBU_THREADS",
        "api_url": "https://graph.threads.net",
        "auth_url": "https://threads.net",
        "version": "v1.0",
    },
}


def parse_network_apps(environ, problems):
    """{"linkedin": {...}, "meta": {...}, …}: each network's app credentials (empty when the
    operator did not register one) and its addresses."""
    apps = {}
    for network, defaults in NETWORK_APPS.items():
        prefix = defaults["prefix"]
        client_id = environ.get(f"{prefix}_CLIENT_ID", "").strip()
        client_secret = environ.get(f"{prefix}_CLIENT_SECRET", "").strip()
        if bool(client_id) != bool(client_secret):
            missing = f"{prefix}_CLIENT_SECRET" if client_id else f"{prefix}_CLIENT_ID"
            problems.append(
                Problem(
                    missing,
                    _("only one half of the app's credentials is set."),
                    _(
                        "Set both %(prefix)s_CLIENT_ID and %(prefix)s_CLIENT_SECRET, as shown "
                        "in the network's developer console, or neither."
                    )
                    % {"prefix": prefix},
                )
            )
            client_id = client_secret = ""
        app = {"client_id": client_id, "client_secret": client_secret}
        for key in ("api_url", "auth_url"):
            variable = f"{prefix}_{key.upper()}"
            raw = environ.get(variable, "").strip().rstrip("/")
            parts = urlsplit(raw)
            if raw and (parts.scheme not in {"http", "https"} or not parts.hostname):
                problems.append(
                    Problem(
                        variable,
                        _("%(value)s is not an http(s) address.") % {"value": repr(raw)},
                        _("Give an address such as %(example)s, or unset the variable.")
                        % {"example": defaults[key]},
                    )
                )
                raw = ""
            app[key] = raw or defaults[key]
        app["version"] = environ.get(f"{prefix}_API_VERSION", "").strip() or defaults["version"]
        apps[network] = app
    return apps


def load(environ=None, create_files=True):
    """Read the configuration; raise ConfigurationError listing every problem found, in the
    language of `environ`'s locale variables."""
    environ = os.environ if environ is None else environ
    token = _catalogue.set(catalogue(environ))
    try:
        return _load(environ, create_files)
    finally:
        _catalogue.reset(token)


def _load(environ, create_files):
    problems = []
    generated = []

    data_dir = Path(environ.get("TRIBU_DATA_DIR") or "data").expanduser().resolve()
    if create_files:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            (data_dir / "media").mkdir(exist_ok=True)
            (data_dir / "static").mkdir(exist_ok=True)
        except OSError as error:
            problems.append(
                Problem(
                    "TRIBU_DATA_DIR",
                    _("cannot create %(dir)s: %(error)s.")
                    % {"dir": data_dir, "error": error.strerror},
                    _("Point TRIBU_DATA_DIR to a directory the Tribu user can write to."),
                )
            )
    if data_dir.exists() and not os.access(data_dir, os.W_OK):
        problems.append(
            Problem(
                "TRIBU_DATA_DIR",
                _("%(dir)s is not writable.") % {"dir": data_dir},
                _("Run: chown -R $(whoami) %(dir)s, or choose another TRIBU_DATA_DIR.")
                % {"dir": data_dir},
            )
        )
    data_dir_ready = data_dir.is_dir() and os.access(data_dir, os.W_OK)

    debug = parse_bool(environ, "TRIBU_DEBUG", False, problems)
    trust_proxy = parse_bool(environ, "TRIBU_TRUST_PROXY", False, problems)
    allow_private_addresses = parse_bool(environ, "TRIBU_ALLOW_PRIVATE_ADDRESSES", False, problems)
    accurate_sentiment = parse_bool(environ, "TRIBU_ACCURATE_SENTIMENT", True, problems)
    publish_threads = parse_int(environ, "TRIBU_PUBLISH_THREADS", 8, 1, 64, problems)
    network_apps = parse_network_apps(environ, problems)

    secret_key = environ.get("TRIBU_SECRET_KEY", "").strip()
    if "TRIBU_SECRET_KEY" in environ and len(secret_key) < 32:
        problems.append(
            Problem(
                "TRIBU_SECRET_KEY",
                _("the key is shorter than 32 characters."),
                _(
                    'Use a long random value, e.g. python -c "import secrets; '
                    'print(secrets.token_urlsafe(50))", or unset it to let Tribu generate one.'
                ),
            )
        )
    if not secret_key and data_dir_ready:
        path = data_dir / SECRET_KEY_FILE
        if create_files or path.exists():
            secret_key = read_or_create_secret(path, lambda: secrets.token_urlsafe(50), generated)
            check_secret_file_mode(path, "TRIBU_SECRET_KEY", problems)

    raw_keys = environ.get("TRIBU_ENCRYPTION_KEYS")
    encryption_keys = []
    if raw_keys is not None:
        encryption_keys = parse_encryption_keys(raw_keys, "TRIBU_ENCRYPTION_KEYS", problems)
    elif data_dir_ready:
        path = data_dir / ENCRYPTION_KEYS_FILE
        if create_files or path.exists():
            stored = read_or_create_secret(path, lambda: Fernet.generate_key().decode(), generated)
            encryption_keys = parse_encryption_keys(
                stored,
                _("TRIBU_ENCRYPTION_KEYS (file %(file)s)") % {"file": path},
                problems,
            )
            check_secret_file_mode(path, "TRIBU_ENCRYPTION_KEYS", problems)
    if secret_key and secret_key in encryption_keys:
        problems.append(
            Problem(
                "TRIBU_ENCRYPTION_KEYS",
                _("an encryption key equals TRIBU_SECRET_KEY."),
                _("Keep encryption keys apart from the secret key: generate a new Fernet key."),
            )
        )

    database_url = parse_database_url(environ.get("DATABASE_URL", "").strip(), problems)
    base_url = parse_base_url(environ.get("TRIBU_BASE_URL"), problems)

    host_from_base = urlsplit(base_url).hostname
    raw_hosts = environ.get("TRIBU_ALLOWED_HOSTS")
    if raw_hosts is None:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    else:
        allowed_hosts = [host.strip() for host in raw_hosts.split(",") if host.strip()]
        # A colon means a port, except inside an IPv6 literal such as [::1].
        bad = [
            host
            for host in allowed_hosts
            if "/" in host or (":" in host and not (host.startswith("[") and host.endswith("]")))
        ]
        if bad:
            problems.append(
                Problem(
                    "TRIBU_ALLOWED_HOSTS",
                    ngettext(
                        "%(hosts)s looks like a URL or includes a port.",
                        "%(hosts)s look like URLs or include a port.",
                        len(bad),
                    )
                    % {"hosts": ", ".join(bad)},
                    _("List host names only, separated by commas: tribu.example.com,localhost"),
                )
            )
        if not allowed_hosts:
            problems.append(
                Problem(
                    "TRIBU_ALLOWED_HOSTS",
                    _("the list is empty, so every request would be refused."),
                    _("List the host names Tribu answers to, or unset the variable."),
                )
            )
    if host_from_base and host_from_base not in allowed_hosts and "*" not in allowed_hosts:
        allowed_hosts.append(host_from_base)

    email = parse_email_url(environ.get("TRIBU_EMAIL_URL"), problems)
    email["DEFAULT_FROM_EMAIL"] = environ.get("TRIBU_EMAIL_FROM") or "Tribu <tribu@localhost>"
    if "@" not in email["DEFAULT_FROM_EMAIL"]:
        problems.append(
            Problem(
                "TRIBU_EMAIL_FROM",
                _("this is not an email address."),
                _('Write an address such as "Tribu <tribu@example.com>".'),
            )
        )

    if problems:
        raise ConfigurationError(problems)
    return Config(
        data_dir=data_dir,
        debug=debug,
        secret_key=secret_key,
        encryption_keys=encryption_keys,
        database_url=database_url,
        allowed_hosts=allowed_hosts,
        base_url=base_url,
        email=email,
        trust_proxy=trust_proxy,
        allow_private_addresses=allow_private_addresses,
        accurate_sentiment=accurate_sentiment,
        publish_threads=publish_threads,
        network_apps=network_apps,
        generated_files=generated,
    )
