"""A killed import leaves the database exactly as it was (the transaction never commits)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from manyi.data.samples import sample_path
from manyi.data.synth import generate_olist

pytestmark = pytest.mark.django_db(transaction=True)


def database_url(tmp_path: Path) -> str:
    """A URL the child process can reach: the test database on PostgreSQL, a file for SQLite."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings["USER"] or "postgres"
        return f"postgresql://{user}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return f"sqlite:///{tmp_path / 'desk.sqlite3'}"


def run_manyi(args: list[str], url: str, home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MANYI_DATABASE_URL": url, "MANYI_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "manyi.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_killed_import_writes_nothing(tmp_path: Path) -> None:
    # Given a database holding the bundled sample, and a larger source to import on top of it
    url = database_url(tmp_path)
    home = tmp_path / "home"
    if connection.vendor == "sqlite":
        assert run_manyi(["manage", "migrate", "-v0"], url, home).wait(120) == 0
    assert run_manyi(["import", "olist", str(sample_path("olist"))], url, home).wait(120) == 0
    big = tmp_path / "big"
    generate_olist(big, orders=100_000, seed=9)
    before = child_snapshot(url, home, tmp_path / "before.txt")

    # When the import is killed while it is running
    child = run_manyi(["import", "olist", str(big)], url, home)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if running_imports(url, home) > 0:
            break
        time.sleep(0.05)
    time.sleep(1.0)  # well inside the import: 100,000 orders take several seconds
    assert child.poll() is None, "the import finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)

    # Then every shop table is exactly as before, and the next import records the interruption
    assert child_snapshot(url, home, tmp_path / "after.txt") == before
    assert run_manyi(["import", "olist", str(sample_path("olist"))], url, home).wait(120) == 0
    assert last_run_statuses(url, home)[:2] == ["succeeded", "failed"]


SNAPSHOT = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.desk.config.settings")
import django; django.setup()
from django.db import connection
from manyi.data.schema import SHOP_TABLES
with connection.cursor() as cursor, open(sys.argv[1], "w", encoding="utf-8") as out:
    for table in SHOP_TABLES:
        order = ", ".join(f'"{k}"' for k in table.key)
        cursor.execute(f'SELECT * FROM "{table.name}" ORDER BY {order}')
        for row in cursor.fetchall():
            out.write(table.name + repr(row) + "\\n")
"""

QUERY = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.desk.config.settings")
import django; django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(sys.argv[1])
    print("\\n".join(str(r[0]) for r in cursor.fetchall()))
"""


def child_env(url: str, home: Path) -> dict[str, str]:
    return {**os.environ, "MANYI_DATABASE_URL": url, "MANYI_HOME": str(home)}


def child_snapshot(url: str, home: Path, path: Path) -> str:
    subprocess.run(
        [sys.executable, "-c", SNAPSHOT, str(path)], env=child_env(url, home), check=True
    )
    return path.read_text(encoding="utf-8")


def query(url: str, home: Path, sql: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", QUERY, sql],
        env=child_env(url, home),
        check=True,
        capture_output=True,
        text=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def running_imports(url: str, home: Path) -> int:
    return int(query(url, home, "SELECT COUNT(*) FROM import_runs WHERE status = 'running'")[0])


def last_run_statuses(url: str, home: Path) -> list[str]:
    return query(url, home, "SELECT status FROM import_runs ORDER BY started_at DESC")
