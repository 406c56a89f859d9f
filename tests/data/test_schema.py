from __future__ import annotations

from manyi.data.schema import SHOP_TABLES, TABLES


def test_every_key_and_reference_names_a_real_column() -> None:
    for table in SHOP_TABLES:
        names = set(table.column_names)
        assert set(table.key) <= names, table.name
        for column, (parent, parent_key) in table.references.items():
            assert column in names
            assert parent_key in TABLES[parent].column_names


def test_parents_come_before_children_in_load_order() -> None:
    order = [t.name for t in SHOP_TABLES]
    for table in SHOP_TABLES:
        for parent, _key in table.references.values():
            assert order.index(parent) < order.index(table.name)


def test_key_columns_are_required() -> None:
    for table in SHOP_TABLES:
        for name in table.key:
            assert table.column(name).nullable is False, f"{table.name}.{name}"
