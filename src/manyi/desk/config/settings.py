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

from manyi.desk.config.database import parse_database_url

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
    "manyi.desk.accounts",
    "manyi.desk.commerce",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
LOGIN_REDIRECT_URL = "commerce:overview"
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
