"""CSV and Excel files hold exactly the table behind each chart, for the same filters."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from manyi.desk.dashboards.exports import read_xlsx

pytestmark = pytest.mark.django_db(transaction=True)

PERIOD = "since=2026-10-25&until=2026-11-23"


@pytest.fixture
def data(shop: Any, open_cases: Any) -> None:
    for i, rating in enumerate([5, 4, 1, 2, 5, 3], start=1):
        shop(rating, days_ago=i, late_days=4 if rating <= 2 else 0, body="produto chegou atrasado")
    open_cases(2, days_ago=2, team="returns")


def _table(client: Any, block: str, name: str, query: str = PERIOD) -> dict[str, Any]:
    response = client.get(f"/desk/dashboard/block/{block}/?{query}")
    table: dict[str, Any] = response.context["b"]["data"]["tables"][name]
    return table


def _csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the UTF-8 with a byte-order mark
    return list(csv.reader(io.StringIO(text[1:])))


def _cell(value: Any) -> Any:
    """Excel keeps 15 significant digits of a float."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-14)
    return value


def _as_csv_text(value: Any) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    ("block", "name"),
    [
        ("satisfaction", "daily"),
        ("satisfaction", "distribution"),
        ("satisfaction", "kpis"),
        ("service", "daily"),
        ("service", "teams"),
        ("sales", "delivery"),
    ],
)
def test_csv_and_excel_equal_the_charts_table(
    login: Any, data: None, block: str, name: str
) -> None:
    client = login("mei")
    table = _table(client, block, name)
    assert table["rows"]

    as_csv = client.get(f"/desk/dashboard/export/{block}/{name}.csv?{PERIOD}")
    as_xlsx = client.get(f"/desk/dashboard/export/{block}/{name}.xlsx?{PERIOD}")

    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert f"manyi-{block}-{name}-2026-10-25-2026-11-23.csv" in as_csv["Content-Disposition"]
    rows = _csv(as_csv.content)
    assert rows[0] == table["columns"]
    assert rows[1:] == [[_as_csv_text(v) for v in row] for row in table["rows"]]
    sheet = read_xlsx(as_xlsx.content)
    assert list(sheet["columns"]) == table["columns"]
    assert len(sheet["rows"]) == len(table["rows"])
    for got, want in zip(sheet["rows"], table["rows"], strict=True):
        assert list(got) == [_cell(v) for v in want]


def test_an_export_follows_the_filters(login: Any, data: None) -> None:
    client = login("mei")
    sliced = PERIOD + "&team=returns"

    rows = _csv(client.get(f"/desk/dashboard/export/service/teams.csv?{sliced}").content)

    assert [r[0] for r in rows[1:]] == ["returns"]


def test_an_unknown_table_or_format_is_not_found(login: Any, data: None) -> None:
    client = login("mei")

    assert client.get(f"/desk/dashboard/export/service/nope.csv?{PERIOD}").status_code == 404
    assert client.get(f"/desk/dashboard/export/service/daily.pdf?{PERIOD}").status_code == 404
    assert client.get(f"/desk/dashboard/export/nope/daily.csv?{PERIOD}").status_code == 404
