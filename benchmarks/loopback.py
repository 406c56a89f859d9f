"""What the load benchmarks share: a free loopback port, the desk's environment, and gunicorn
serving the desk on PostgreSQL (``desk_load.py``, ``survey_load.py``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def django_env(database_url: str, home: str) -> dict[str, str]:
    """The environment of the desk's processes (server, preparation, counting)."""
    return {
        **os.environ,
        "MANYI_DATABASE_URL": database_url,
        "MANYI_HOME": home,
        "MANYI_SECRET_KEY": "benchmark-only-" + "k" * 50,
        "MANYI_EMAIL_URL": "locmem://",
        "DJANGO_SETTINGS_MODULE": "manyi.desk.config.settings",
    }


def start_server(
    database_url: str,
    home: str,
    port: int,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
) -> subprocess.Popen[bytes]:
    """gunicorn on ``127.0.0.1:port``, once it accepts: ``gthread`` workers (keep-alive
    connections, each served by the worker that accepted it) or ``sync`` ones (one request per
    connection: every request goes to whichever worker is free, like one shared queue)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "manyi.desk.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env=django_env(database_url, home),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")
