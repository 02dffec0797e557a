"""Tribu's one settings module. Everything variable comes from the environment (see
docs/configuration.md); `tribu.config` validates it and explains every mistake."""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _
from huey import PostgresHuey, SqliteHuey

from tribu import __version__, config

CONFIG = config.load()

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = CONFIG.data_dir
VERSION = __version__

SECRET_KEY = CONFIG.secret_key
TRIBU_ENCRYPTION_KEYS = CONFIG.encryption_keys
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
TRIBU_BASE_URL = CONFIG.base_url
CSRF_TRUSTED_ORIGINS = [CONFIG.base_url]

INSTALLED_APPS = [
    "tribu.accounts",
    "tribu.core",
    "tribu.api",
    "tribu.listening",
    "tribu.nlp",
    "tribu.insights",
    "tribu.notifications",
    "tribu.alerts",
    "tribu.channels",
    "tribu.publishing",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_htmx",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tribu.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tribu.urls"
WSGI_APPLICATION = "tribu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tribu.core.context_processors.shell",
                "tribu.notifications.context_processors.unread",
                "tribu.publishing.context_processors.pause",
            ],
        },
    },
]

if CONFIG.is_postgres:
    DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The job tables are created by migration core 0002, not at import time.
    HUEY = PostgresHuey(
        "tribu",
        dsn=CONFIG.database_url.replace("pgsql://", "postgresql://", 1),
        utc=True,
        create_tables=False,
    )
else:
    sqlite_path = (
        CONFIG.database_url.split("sqlite:///", 1)[1]
        if CONFIG.database_url
        else DATA_DIR / "tribu.sqlite3"
    )
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE takes the
                # write lock at BEGIN so concurrent writers queue on busy_timeout instead of
                # failing with "database is locked" halfway through a transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
    HUEY = SqliteHuey("tribu", filename=str(DATA_DIR / "jobs.sqlite3"), utc=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "tribu_language"
LANGUAGE_COOKIE_SECURE = CONFIG.is_https
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Shared by the web and worker processes: the worker pre-computes dashboard panels into it
# (tribu.insights.services.warm). Files in the data dir: nothing more to run or configure.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}

STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the installed packages: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

for name, value in CONFIG.email.items():
    globals()[name] = value
SERVER_EMAIL = CONFIG.email["DEFAULT_FROM_EMAIL"]

# Security: cookies, HSTS and proxies follow TRIBU_BASE_URL and TRIBU_TRUST_PROXY.
SESSION_COOKIE_NAME = "tribu_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.is_https
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_COOKIE_NAME = "tribu_csrftoken"
CSRF_COOKIE_SECURE = CONFIG.is_https
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "tribu.core.views.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.is_https:
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = CONFIG.trust_proxy
if CONFIG.trust_proxy:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
TRIBU_TRUST_PROXY = CONFIG.trust_proxy
# User-supplied URLs (feeds, network instances) may not reach loopback, private, link-local
# or metadata addresses unless the operator allows it (intranets, tests).
TRIBU_ALLOW_PRIVATE_ADDRESSES = CONFIG.allow_private_addresses
# Matched mentions get the accurate sentiment tier in the worker (tribu.nlp.sentiment).
TRIBU_ACCURATE_SENTIMENT = CONFIG.accurate_sentiment
# The publisher (tribu/publishing/publisher.py): concurrent sends per worker process, how
# often it looks for due deliveries, and how long a silent worker keeps its deliveries.
TRIBU_PUBLISH_THREADS = CONFIG.publish_threads
TRIBU_PUBLISH_POLL_SECONDS = 1.0
TRIBU_PUBLISH_DEAD_WORKER_SECONDS = 60
# Seconds one request to a network may take (None: each network module's default).
TRIBU_PUBLISH_REQUEST_TIMEOUT = None
# The apps registered on LinkedIn, Meta (Facebook Pages and Instagram), X and Threads, and
# their API addresses: {"linkedin": {"client_id", "client_secret", "api_url", "auth_url",
# "version"}, "meta": …, "x": …, "threads": …} (docs/configuration.md).
TRIBU_NETWORK_APPS = CONFIG.network_apps

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Background work: a worker heartbeat older than this makes /healthz answer 503.
TRIBU_WORKER_STALE_SECONDS = 120
TRIBU_TICK_SECONDS = 5

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"level": "INFO"},
    },
}
