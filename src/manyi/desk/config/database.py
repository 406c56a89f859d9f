"""``MANYI_DATABASE_URL`` → Django's ``DATABASES`` entry.

>>> parse_database_url("postgresql://shop:pw@db.local:5433/manyi")["NAME"]
'manyi'
>>> parse_database_url("sqlite:///var/manyi.sqlite3")["ENGINE"]
'django.db.backends.sqlite3'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


def parse_database_url(url: str, *, base_dir: Path | None = None) -> dict[str, Any]:
    """Parse ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``postgresql://...``.

    A relative SQLite path is taken from ``base_dir`` (default: the working directory). SQLite
    runs in WAL mode with ``BEGIN IMMEDIATE`` transactions, so readers never block the writer
    and two writers queue instead of failing half-way.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db has one slash before the path, sqlite:////abs.db two.
        raw = unquote(url[len("sqlite://") :]).removeprefix("/")
        name: str | Path
        if raw in ("", ":memory:"):
            name = ":memory:"
        else:
            path = Path(raw)
            name = path if path.is_absolute() else (base_dir or Path.cwd()) / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
            # Tests use a file too (not Django's shared in-memory database): threads then meet
            # the same WAL and IMMEDIATE locking as in production instead of shared-cache
            # table locks, which fail at once rather than wait. The process id keeps two test
            # runs on one machine (and one MANYI_HOME) out of each other's database.
            "TEST": {"NAME": None if name == ":memory:" else f"{name}-test-{os.getpid()}"},
        }
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        options: dict[str, Any] = dict(parse_qsl(parts.query))
        # The hand-written statements of manyi.desk.sqlrows run on server-side binding cursors,
        # which psycopg prepares from their fifth run on a connection (the ORM's client-side
        # cursors never are). ?prepare_threshold=none turns that off, for a pooler in
        # transaction mode that cannot keep prepared statements (PgBouncer before 1.21).
        threshold = str(options.get("prepare_threshold", "5")).strip().lower()
        if threshold in ("", "none"):
            options["prepare_threshold"] = None
        elif threshold.isdigit():
            options["prepare_threshold"] = int(threshold)
        else:
            raise ValueError(
                f"MANYI_DATABASE_URL: prepare_threshold must be a whole number or 'none', "
                f"not {threshold!r}"
            )
        return {
            # Django's backend with a health check without a round trip (see its docstring).
            "ENGINE": "manyi.desk.config.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "manyi",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ValueError(
        f"MANYI_DATABASE_URL: unsupported scheme {scheme!r}; use sqlite:///PATH or postgresql://..."
    )


def parse_email_url(url: str) -> dict[str, Any]:
    """``smtp://user:password@host:port`` (``smtp+starttls://``, ``smtps://``) or ``console://``.

    >>> parse_email_url("smtp://127.0.0.1:2525")["port"]
    2525
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        backend = "django.core.mail.backends.console.EmailBackend"
    elif scheme == "locmem":
        backend = "django.core.mail.backends.locmem.EmailBackend"
    elif scheme in {"smtp", "smtps", "smtp+starttls"}:
        backend = "django.core.mail.backends.smtp.EmailBackend"
    else:
        raise ValueError(f"MANYI_EMAIL_URL: unsupported scheme {parts.scheme!r} in {url!r}")
    return {
        "backend": backend,
        "host": parts.hostname or "localhost",
        "port": parts.port or (465 if scheme == "smtps" else 25),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_tls": scheme == "smtp+starttls",
        "use_ssl": scheme == "smtps",
    }
