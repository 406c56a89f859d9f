"""Model fields for the canonical tables."""

from __future__ import annotations

from typing import Any

from django.db import models


class KeyField(models.CharField):  # type: ignore[type-arg]
    """An opaque identifier (order, customer, product, seller): text compared byte by byte.

    On PostgreSQL the column is ``character varying(n) COLLATE "C"``: identifiers are never
    sorted for people, and byte comparison makes every index on them markedly cheaper to build
    and search than a linguistic collation. Spelling the type ``character varying`` rather than
    ``varchar`` also spares the ``varchar_pattern_ops`` copy of each index that Django adds for
    ``LIKE`` queries, which nothing runs on identifiers. Foreign keys to a KeyField get the same
    column type. Other databases get a plain ``varchar(n)``.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return f'character varying({self.max_length}) COLLATE "C"'
        return super().db_type(connection)
