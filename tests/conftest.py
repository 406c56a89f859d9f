"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The desk keeps its secret key and embedded database under MANYI_HOME: never the checkout's var/.
os.environ.setdefault("MANYI_HOME", tempfile.mkdtemp(prefix="manyi-test-home-"))
os.environ.setdefault("MANYI_SECRET_KEY", "test-only-" + "x" * 50)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets in ``../shared/data`` (tests and benchmarks only; never the product)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data sets are missing: expected them at {SHARED_DATA}")
    return SHARED_DATA


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches the desk database, so the PostgreSQL run can select them."""
    database_fixtures = {
        "db",
        "transactional_db",
        "django_db_setup",
        "live_server",
        "client",
        "admin_client",
        "django_user_model",
    }
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & database_fixtures or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.desk_db)
