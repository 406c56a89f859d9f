"""Canonical tables and the readers that turn real shop data into them (pure Python, no Django).

>>> from manyi.data import open_reader
>>> from manyi.data.samples import sample_path
>>> reader = open_reader("olist", sample_path("olist"))
>>> reader.tables()[:3]
('customers', 'products', 'sellers')
"""

from __future__ import annotations

from manyi.data.errors import DataValidationError, RowProblem
from manyi.data.reader import Batch, Reader, open_reader

__all__ = ["Batch", "DataValidationError", "Reader", "RowProblem", "open_reader"]
