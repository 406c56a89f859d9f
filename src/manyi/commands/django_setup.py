"""Start Django for a command that needs the desk database."""

from __future__ import annotations

import os


def setup_django() -> None:
    """Configure Django from ``MANYI_*`` settings (idempotent)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.desk.config.settings")
    import django

    django.setup()
