from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from manyi.cli import app
from manyi.data.samples import sample_path
from manyi.desk.commerce.models import Order

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def test_import_olist_prints_a_summary_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    result = runner.invoke(app, ["import", "olist", str(sample_path("olist")), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Import summary" in result.output
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert summary["tables"]["orders"]["inserted"] == 3000
    assert Order.objects.count() == 3000


def test_import_of_a_broken_file_exits_non_zero_naming_the_cell(tmp_path: Path) -> None:
    folder = tmp_path / "olist"
    shutil.copytree(sample_path("olist"), folder)
    (folder / "olist_sellers_dataset.csv.gz").unlink()
    result = runner.invoke(app, ["import", "olist", str(folder)])
    assert result.exit_code == 2
    assert "olist_sellers_dataset.csv (or .csv.gz) not found" in result.output
    assert Order.objects.count() == 0


def test_import_csv_with_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("id,city\nc1,杭州\nc2,上海\n", encoding="utf-8")
    (tmp_path / "orders.csv").write_text(
        "order_no,buyer,state,at,total\nA1,c1,delivered,2024-06-18 10:00:00,99.9\n"
        "A2,c2,shipped,2024-06-18 11:00:00,10\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "source: my-shop\ntimezone: Asia/Shanghai\ntables:\n"
        "  customers: {file: customers.csv, columns: {customer_id: id, city: city}}\n"
        "  orders:\n    file: orders.csv\n    columns: {order_id: order_no, customer_id: buyer, "
        "status: state, purchased_at: at, currency: {value: CNY}, item_total: total}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", "csv", "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert list(Order.objects.order_by("order_id").values_list("order_id", "currency")) == [
        ("A1", "CNY"),
        ("A2", "CNY"),
    ]


def test_every_command_has_help_with_an_example() -> None:
    for args in (
        ["--help"],
        ["demo", "--help"],
        ["serve", "--help"],
        ["import", "--help"],
        ["import", "olist", "--help"],
        ["import", "csv", "--help"],
        ["import", "cdnow", "--help"],
        ["generate", "--help"],
        ["manage", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, args
        assert "Example" in result.output, args
