from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from manyi.desk.config.database import parse_database_url


def test_sqlite_urls_relative_and_absolute(tmp_path: Path) -> None:
    relative = parse_database_url("sqlite:///manyi.sqlite3", base_dir=tmp_path)
    assert relative["NAME"] == tmp_path / "manyi.sqlite3"
    assert "journal_mode=WAL" in relative["OPTIONS"]["init_command"]
    assert relative["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    absolute = parse_database_url("sqlite:////srv/shop/desk.db", base_dir=tmp_path)
    assert absolute["NAME"] == Path("/srv/shop/desk.db")


def test_postgresql_url_parts() -> None:
    parsed = parse_database_url("postgresql://shop:p%40ss@db.internal:6432/desk?sslmode=require")
    assert parsed["ENGINE"] == "manyi.desk.config.postgresql"
    assert (parsed["USER"], parsed["PASSWORD"], parsed["HOST"], parsed["PORT"], parsed["NAME"]) == (
        "shop",
        "p@ss",
        "db.internal",
        "6432",
        "desk",
    )
    # psycopg prepares the hand-written statements (manyi.desk.sqlrows) from their 5th run.
    assert parsed["OPTIONS"] == {"sslmode": "require", "prepare_threshold": 5}


@pytest.mark.parametrize(("query", "threshold"), [("none", None), ("None", None), ("2", 2)])
def test_statement_preparation_can_be_tuned_or_turned_off(
    query: str, threshold: int | None
) -> None:
    parsed = parse_database_url(f"postgresql://shop@db.internal/desk?prepare_threshold={query}")
    assert parsed["OPTIONS"] == {"prepare_threshold": threshold}


def test_a_bad_prepare_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="prepare_threshold"):
        parse_database_url("postgresql://shop@db.internal/desk?prepare_threshold=often")


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported scheme 'mysql'"):
        parse_database_url("mysql://x@y/z")


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", "check", *args],
        # The browser tests' session fixture sets DJANGO_ALLOW_ASYNC_UNSAFE in this process for
        # Playwright; a production server's environment would not have it.
        env={**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}, **env},
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = run_check(
        {
            "DJANGO_SETTINGS_MODULE": "manyi.desk.config.production",
            "MANYI_SECRET_KEY": "k" * 20 + "-Zq8#p2@Lw9!vR4$xT7&nB1*mC6^hF3%jD5",
            "MANYI_ALLOWED_HOSTS": "desk.example.com",
            "MANYI_HOME": str(tmp_path),
            "MANYI_DEBUG": "",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MANYI_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "manyi.desk.config.production",
            "MANYI_HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "MANYI_SECRET_KEY must be set in production" in result.stderr


def test_debug_is_off_unless_set(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.DEBUG)"
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "manyi.desk.config.settings",
        "MANYI_HOME": str(tmp_path),
    }
    base.pop("MANYI_DEBUG", None)
    off = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True)
    on = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "MANYI_DEBUG": "1"},
        capture_output=True,
        text=True,
    )
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True")
