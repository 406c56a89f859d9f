"""What went wrong with a source row, said so that a person can find and fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RowProblem:
    """One bad value: the file, the 1-based line, the column, the value and the reason.

    >>> str(RowProblem("orders.csv", 12, "purchased_at", "2018-13-01", "not a date-time"))
    "orders.csv, line 12, column 'purchased_at': not a date-time (value '2018-13-01')"
    """

    file: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = self.value if len(self.value) <= 80 else self.value[:77] + "..."
        where = f"{self.file}, line {self.line}, column {self.column!r}"
        return f"{where}: {self.reason} (value {value!r})"


class DataValidationError(ValueError):
    """A source failed validation; nothing was written.

    ``problems`` holds the first problems found (at most ``limit`` of them); ``total`` counts all.
    """

    def __init__(self, problems: Sequence[RowProblem], *, total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        shown = "\n".join(f"  {p}" for p in self.problems)
        more = self.total - len(self.problems)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{self.total} bad row(s); nothing was imported:\n{shown}{tail}")


class SourceError(ValueError):
    """The source as a whole is unusable (a missing file or column, an unreadable mapping)."""
