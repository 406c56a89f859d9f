"""CDNOW transactions (Fader, Hardie & Lee 2005), read into canonical ``customers`` and ``orders``.

Accepts the original whitespace-separated files (``CDNOW_master.txt``: customer, date, CDs,
dollars; ``CDNOW_sample.txt``: master id, sample id, date, CDs, dollars) and their CSV
versions with a header, plain or gzip. Each transaction line becomes one order in US dollars,
dated at midnight UTC of its day (the data carry dates only). Order ids are
``<customer>-<yyyymmdd>-<n>``, ``n`` counting that customer's lines on that day, so a re-import
gives the same ids. For the 1/10 sample the sample's own customer id is used (the id of the
published summaries); the master id is kept as ``orders.source_customer_id``.

>>> from manyi.data.samples import sample_path
>>> reader = CdnowReader(sample_path("cdnow"))
>>> sum(len(b) for b in reader.batches("orders", lambda p, c: None))
6919
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from manyi.data.convert import parse_money
from manyi.data.errors import RowProblem, SourceError
from manyi.data.reader import BATCH_SIZE, Batch, ProblemSink, open_text, table

CURRENCY = "USD"


class CdnowReader:
    """Read a CDNOW transaction file (master or 1/10 sample, text or CSV, plain or gzip)."""

    name = "cdnow"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such file")
        self.skipped: dict[str, int] = {}

    def tables(self) -> tuple[str, ...]:
        return ("customers", "orders")

    def files(self) -> list[Path]:
        return [self.path]

    def _records(self, problems: ProblemSink) -> Iterator[tuple[int, str, str, dt.date, Any]]:
        """Yield ``(line, customer, master_customer, day, dollars)`` for each valid line."""
        file = self.path.name
        with open_text(self.path) as handle:
            for number, text in enumerate(handle, start=1):
                cells = text.replace(",", " ").split()
                if not cells:
                    continue
                if not cells[0].isdigit():
                    if number == 1:  # a header line
                        continue
                    problems(
                        RowProblem(file, number, "customer_id", cells[0], "not a number"), cells
                    )
                    continue
                if len(cells) not in (4, 5):
                    problems(
                        RowProblem(
                            file,
                            number,
                            "*",
                            text.strip(),
                            f"has {len(cells)} fields, expected 4 or 5",
                        ),
                        cells,
                    )
                    continue
                master = cells[0]
                customer = cells[1] if len(cells) == 5 else cells[0]
                raw_date, raw_dollars = cells[-3], cells[-1]
                try:
                    day = dt.datetime.strptime(raw_date, "%Y%m%d").date()  # noqa: DTZ007
                except ValueError:
                    problems(
                        RowProblem(
                            file, number, "date", raw_date, "not a date in the form YYYYMMDD"
                        ),
                        cells,
                    )
                    continue
                try:
                    dollars = parse_money(raw_dollars)
                except ValueError as exc:
                    problems(RowProblem(file, number, "dollar_value", raw_dollars, str(exc)), cells)
                    continue
                if dollars < 0:
                    problems(
                        RowProblem(
                            file, number, "dollar_value", raw_dollars, "below the minimum 0"
                        ),
                        cells,
                    )
                    continue
                yield number, customer, master, day, dollars

    def batches(
        self, table_name: str, problems: ProblemSink, *, batch_size: int = BATCH_SIZE
    ) -> Iterator[Batch]:
        if table_name == "customers":
            rows = self._customers()
        elif table_name == "orders":
            rows = self._orders(problems)
        else:
            raise SourceError(f"the CDNOW source has no table {table_name!r}")
        batch = Batch(table(table_name), self.path.name)
        for line, row in rows:
            batch.rows.append(row)
            batch.lines.append(line)
            if len(batch) >= batch_size:
                yield batch
                batch = Batch(table(table_name), self.path.name)
        if batch.rows:
            yield batch

    def _customers(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        # First purchase per customer; bad lines are reported once, by the orders pass.
        first: dict[str, tuple[int, dt.date]] = {}
        for line, customer, _master, day, _dollars in self._records(_ignore):
            seen = first.get(customer)
            if seen is None or day < seen[1]:
                first[customer] = (seen[0] if seen else line, day)
        for customer, (line, day) in first.items():
            yield line, (customer, None, None, None, _midnight(day))

    def _orders(self, problems: ProblemSink) -> Iterator[tuple[int, tuple[Any, ...]]]:
        counts: dict[tuple[str, dt.date], int] = {}
        for line, customer, master, day, dollars in self._records(problems):
            n = counts.get((customer, day), 0) + 1
            counts[(customer, day)] = n
            at = _midnight(day)
            order_id = f"{customer}-{day:%Y%m%d}-{n}"
            source_customer = master if master != customer else None
            yield (
                line,
                (
                    order_id,
                    customer,
                    source_customer,
                    "delivered",
                    at,
                    None,
                    None,
                    None,
                    None,
                    CURRENCY,
                    dollars,
                    None,
                ),
            )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _ignore(problem: RowProblem, cells: Sequence[str]) -> None:
    return None
