"""The sections of the report, in the order they appear.

EXTENSION POINT — to add a section (CLV, key drivers, review text, ...):

1. write a module ``manyi/insight/report/<topic>_sections.py`` (or in your own package) that
   defines a :class:`~manyi.insight.report.section.Section` with a stable ``key``, a
   ``compute(ctx) -> dict | None`` and a ``render(data, lang) -> list[Block]``;
2. import it here and add it to :data:`SECTIONS` where it should appear;
3. document its JSON keys in ``docs/report.md`` under ``sections.<key>``.

No plug-in discovery on purpose: a reader finds every section from this list.

Examples
--------
>>> from manyi.insight.report.registry import SECTIONS
>>> [s.key for s in SECTIONS][:3]
['overview', 'ratings', 'delivery']
"""

from __future__ import annotations

from manyi.insight.report.driver_sections import DRIVERS
from manyi.insight.report.sales_sections import CHURN, REPEAT, RETENTION, REVENUE_RISK
from manyi.insight.report.satisfaction_sections import (
    DELIVERY,
    OVERVIEW,
    RATINGS,
    SHOP_RATINGS,
    SURVEYS,
)
from manyi.insight.report.section import Section
from manyi.insight.report.service_sections import SERVICE
from manyi.insight.report.text_sections import REVIEW_TEXT
from manyi.insight.report.value_sections import SATISFACTION_VALUE

SECTIONS: tuple[Section, ...] = (
    OVERVIEW,
    RATINGS,
    DELIVERY,
    REVIEW_TEXT,
    DRIVERS,
    SHOP_RATINGS,
    SURVEYS,
    SERVICE,
    REPEAT,
    RETENTION,
    REVENUE_RISK,
    SATISFACTION_VALUE,
    CHURN,
)
