"""The satisfaction and sales report: one JSON document of every figure and one offline HTML file.

:func:`manyi.insight.report.build.build_report` runs the sections of
:data:`manyi.insight.report.registry.SECTIONS` on a source and returns the JSON document;
:func:`manyi.insight.report.html.render_html` turns it into a self-contained HTML page (plotly's
bundled JavaScript inlined, no network access). The keys are documented in ``docs/report.md``.
"""

from __future__ import annotations
