"""Satisfaction and sales analysis over the canonical tables.

Everything here is pure Python: metrics are written once as Ibis expressions over the canonical
tables (see :mod:`manyi.data.schema`) and run on DuckDB (default), on the desk database
(SQLite/PostgreSQL) directly, or on Spark. Only small aggregates come back into NumPy, where the
intervals are computed.

Start with :func:`manyi.insight.sources.open_source`; the report is built by
:mod:`manyi.insight.report`.
"""

from __future__ import annotations
