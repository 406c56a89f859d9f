"""WSGI entry point: ``gunicorn manyi.desk.config.wsgi``.

Calls to the REST API that bring a bearer token go through a shorter middleware chain than
the pages: ``settings.MIDDLEWARE`` without the middleware that only serves a browser's
session (``settings.TOKEN_API_SKIPS_MIDDLEWARE``: static files, the session and the user it
names, CSRF, messages, htmx). Such a call never reads a session: the token alone says who
calls (a token that cannot be used is refused, it never falls back to the session,
:mod:`manyi.desk.api.auth`), and a browser does not send an ``Authorization`` header on its
own, so there is no cross-site request to forge. What stays (security headers and the
HTTPS redirect, the caller's language, the common checks, ``X-Frame-Options``) runs as on
every page. The skipped middleware cost about an eighth of an API read's CPU
(``docs/benchmarks.md``, the desk under load).

Every other request, an API call with the console's session cookie included, takes the full
chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.desk.config.settings")

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/"


def token_api_middleware() -> list[str]:
    """The middleware of a bearer-token API call: ``MIDDLEWARE`` without the skipped ones
    (in the same order; middleware added to ``MIDDLEWARE`` later runs here too unless it is
    added to the skips)."""
    skips = set(settings.TOKEN_API_SKIPS_MIDDLEWARE)
    return [path for path in settings.MIDDLEWARE if path not in skips]


class _TokenApiHandler(WSGIHandler):
    """Django's WSGI handler with :func:`token_api_middleware` as its chain."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; it is read here once, at start-up,
        # before any request is served.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = token_api_middleware()
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def is_token_api_call(environ: dict[str, Any]) -> bool:
    """Whether the request is for the REST API and names a bearer token."""
    # PATH_INFO is the path below the application's mount point (SCRIPT_NAME).
    if not str(environ.get("PATH_INFO", "")).startswith(API_PREFIX):
        return False
    return str(environ.get("HTTP_AUTHORIZATION", ""))[:7].lower() == "bearer "


class DeskApplication:
    """The desk's WSGI application: two Django handlers, one per middleware chain."""

    def __init__(self) -> None:
        django.setup(set_prefix=False)
        self.pages = WSGIHandler()
        self.token_api = _TokenApiHandler()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        handler = self.token_api if is_token_api_call(environ) else self.pages
        return handler(environ, start_response)


application = DeskApplication()
