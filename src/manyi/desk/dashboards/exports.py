"""CSV and Excel files of the table behind a chart, exactly the rows and values it draws.

Headers are the table's column keys (stable, for scripts) with the page's language on a second
header line in Excel only; CSV stays one header line of keys so that it loads anywhere. Values
are unrounded; shares are fractions (0.25 = 25 %), as in the JSON report. Nested values (the
example reviews of a complaint phrase) are written as JSON text.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.utils.translation import gettext as _

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def to_csv(table: dict[str, Any]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table["columns"])
    for row in table["rows"]:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: dict[str, Any], *, title: str, note: str = "") -> bytes:
    """One sheet: the column keys as the header row, then the rows; a second sheet says what
    the table is (title, filters, when)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "data"
    sheet.append(list(table["columns"]))
    for row in table["rows"]:
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    about = book.create_sheet("about")
    about.append([_("Table"), title])
    if note:
        about.append([_("Filters"), note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_xlsx(data: bytes) -> dict[str, Any]:
    """The table back from :func:`to_xlsx` (tests and round trips)."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True)["data"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return {"columns": rows[0], "rows": rows[1:]}
