"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
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


@pytest.fixture(autouse=True)
def _seed_rows(request: pytest.FixtureRequest) -> Iterator[None]:
    """Make sure the data migrations' rows exist when a desk-database test starts.

    A test with a real commit (``transaction=True``, ``live_server``) ends with a flush, which
    also deletes what the data migrations installed (the default SLA policies, calendar and
    approval limits, the standard survey instruments); the tests after it in the same worker
    expect them. Checking at the start (two indexed queries) is independent of the order in
    which fixtures are torn down.
    """
    if request.node.get_closest_marker("desk_db") is None:
        yield
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        from django.apps import apps
        from django.utils import timezone

        from manyi.desk.accounts.access import clear as clear_access_cache
        from manyi.desk.cases.defaults import install_defaults
        from manyi.desk.cases.models import ApprovalLimit, BusinessCalendar
        from manyi.desk.surveys.models import Instrument
        from manyi.desk.surveys.selectors import forget_versions
        from manyi.desk.surveys.standard import install_standard

        if not (BusinessCalendar.objects.exists() and ApprovalLimit.objects.exists()):
            install_defaults(apps)
        if not Instrument.objects.exists():
            install_standard(apps, timezone.now())
        # Rolled-back tests reuse user and version ids; a cached answer must not outlive its
        # test.
        clear_access_cache()
        forget_versions()
    yield


def pytest_configure(config: pytest.Config) -> None:
    # Staff accounts are created in many tests: the production hasher's 1M PBKDF2 rounds would
    # dominate their run time. Password checks themselves are Django's and not under test.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
