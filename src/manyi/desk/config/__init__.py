"""Django project configuration; every setting comes from ``MANYI_*`` environment variables."""
