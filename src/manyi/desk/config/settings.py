"""Django settings for the manyi desk, read from the environment.

``MANYI_DATABASE_URL``
    ``sqlite:///var/manyi.sqlite3`` (default, relative to ``MANYI_HOME``) or ``postgresql://...``.
``MANYI_SECRET_KEY``
    Required in production; without it a random key is generated once and kept in
    ``MANYI_HOME/secret_key`` (mode 0600), so sessions survive restarts of a demo.
``MANYI_DEBUG``
    ``1`` turns debug on; it is off unless set.
``MANYI_ALLOWED_HOSTS``
    Comma-separated; default ``localhost,127.0.0.1,[::1]``.
``MANYI_TIME_ZONE``
    The shop's business time zone, default ``Asia/Shanghai``.
``MANYI_HOME``
    Where the embedded database, the secret key and uploads live; default ``./var``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from manyi.desk.config.database import parse_database_url, parse_email_url

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] and friends be subscripted

PACKAGE_DIR = Path(__file__).resolve().parents[1]
HOME = Path(os.environ.get("MANYI_HOME", "var")).resolve()


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("MANYI_SECRET_KEY")
    if key:
        return key
    path = HOME / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    HOME.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.touch(mode=0o600)
    path.write_text(key, encoding="ascii")
    return key


DEBUG = _flag("MANYI_DEBUG")
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("MANYI_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]

DATABASE_URL = os.environ.get("MANYI_DATABASE_URL", "sqlite:///manyi.sqlite3")
DATABASES = {"default": parse_database_url(DATABASE_URL, base_dir=HOME)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from its own static files, not a CDN
    "manyi.desk.accounts",
    "manyi.desk.commerce",
    "manyi.desk.cases",
    "manyi.desk.surveys",
    "manyi.desk.channels",
    "manyi.desk.api",
    "manyi.desk.reviews",
    "manyi.desk.dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "manyi.desk.accounts.middleware.AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# What a REST API call with a bearer token skips of MIDDLEWARE (manyi.desk.config.wsgi): the
# parts that serve a browser's session. Middleware not listed here runs for it too.
TOKEN_API_SKIPS_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "manyi.desk.accounts.middleware.AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# What a public survey page (/s/...) skips of MIDDLEWARE: the same, except CSRF, which its form
# keeps (manyi.desk.config.wsgi).
PUBLIC_PAGES_SKIP_MIDDLEWARE = [
    path
    for path in TOKEN_API_SKIPS_MIDDLEWARE
    if path != "django.middleware.csrf.CsrfViewMiddleware"
]

ROOT_URLCONF = "manyi.desk.config.urls"
WSGI_APPLICATION = "manyi.desk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "cases:queue"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("MANYI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the package without collectstatic

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MANYI_LOG_LEVEL", "WARNING")},
}

# Uploaded files (case attachments) live under MANYI_HOME.
MEDIA_ROOT = HOME / "media"
MEDIA_URL = "media/"

# E-mail out: Django's SMTP backend by default (MANYI_EMAIL_URL=smtp://user:pass@host:port,
# smtps:// for implicit TLS, "+starttls" in the scheme for STARTTLS), or the console.
_email = parse_email_url(os.environ.get("MANYI_EMAIL_URL", "console://"))
EMAIL_BACKEND = _email["backend"]
EMAIL_HOST = _email["host"]
EMAIL_PORT = _email["port"]
EMAIL_HOST_USER = _email["user"]
EMAIL_HOST_PASSWORD = _email["password"]
EMAIL_USE_TLS = _email["use_tls"]
EMAIL_USE_SSL = _email["use_ssl"]
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("MANYI_FROM_EMAIL", "service@manyi.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: The domain of outgoing Message-IDs (threading of replies).
MANYI_MAIL_DOMAIN = DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
#: Where customers reach the desk: links in e-mails are built on it.
MANYI_SITE_URL = os.environ.get("MANYI_SITE_URL", "http://localhost:8000")
#: Days a customer's case link stays valid.
MANYI_CASE_LINK_DAYS = int(os.environ.get("MANYI_CASE_LINK_DAYS", "30"))
#: The shared secret of inbound webhooks (X-Manyi-Signature, HMAC-SHA256); empty turns them off.
MANYI_WEBHOOK_SECRET = os.environ.get("MANYI_WEBHOOK_SECRET", "")
#: Seconds a process keeps a user's permissions, roles and teams (manyi.desk.accounts.access);
#: a role removed elsewhere takes effect within this time. 0 reads them on every request.
MANYI_ACCESS_CACHE_SECONDS = float(os.environ.get("MANYI_ACCESS_CACHE_SECONDS", "5"))

# Caches: the default one stays per process; "dashboards" holds computed dashboard figures on
# disk under MANYI_HOME, shared by the web and worker processes (docs/dashboards.md).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "dashboards": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(HOME / "cache" / "dashboards"),
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}
