"""Offset paging shared by the list endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


def page_of(rows: QuerySet[Any], offset: int, limit: int) -> tuple[list[Any], dict[str, Any]]:
    """The rows of one page and the paging fields every list answer carries: ``count``,
    ``limit``, ``offset`` and ``next_offset`` (``None`` on the last page)."""
    count = rows.count()
    page = list(rows[offset : offset + limit])
    end = offset + len(page)
    return page, {
        "count": count,
        "limit": limit,
        "offset": offset,
        "next_offset": end if end < count else None,
    }
