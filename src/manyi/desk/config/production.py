"""Production settings: the defaults plus HTTPS-only cookies, HSTS and a required secret key.

Use with ``DJANGO_SETTINGS_MODULE=manyi.desk.config.production`` behind a TLS-terminating proxy
that sets ``X-Forwarded-Proto``. ``manyi manage check --deploy`` is clean with these settings.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from manyi.desk.config.settings import *  # noqa: F403

if not os.environ.get("MANYI_SECRET_KEY"):
    raise ImproperlyConfigured("MANYI_SECRET_KEY must be set in production")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
