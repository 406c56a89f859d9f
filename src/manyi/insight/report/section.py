"""What a report section is: a key, a title, a compute step and a render step.

A section computes a JSON-ready ``dict`` from a :class:`ReportContext` (``None`` when the source
has no data for it, or raises :class:`NoData` to say why in both languages) and renders that
dict into :class:`Block` s — one chart and one plain-language finding each. Sections never see
each other; the HTML renderer only sees the JSON, so a report can be re-rendered from a saved
JSON file.

Examples
--------
>>> from manyi.insight.report.section import Block
>>> Block(finding="6.4 % of orders were late").figure is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from manyi.insight.sources import Source

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class ReportContext:
    """Everything a section may read.

    Attributes
    ----------
    src
        The source.
    since, until
        Shop-local dates to keep (inclusive; ``None`` = open).
    churn_path
        Optional path of an e-commerce churn file (the churn section runs only with one).
    options
        Free-form options for sections added later (e.g. CLV horizons).
    """

    src: Source
    since: date | None = None
    until: date | None = None
    churn_path: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


class NoData(Exception):  # noqa: N818 - a section outcome, not a failure of the program
    """Raised by a section's ``compute`` when it has nothing to show, with the reason.

    The report records ``status: "no_data"`` and ``reason: {"en", "zh"}`` and the page prints
    the reason instead of a generic "no data".

    Examples
    --------
    >>> NoData("No review has a text.", "没有带文字的评价。").reason["zh"]
    '没有带文字的评价。'
    """

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.reason = {"en": en, "zh": zh}


@dataclass(frozen=True)
class Block:
    """One chart (a plotly figure as a dict, or ``None``) and the finding written under it."""

    finding: str
    figure: JSONDict | None = None


@dataclass(frozen=True)
class Section:
    """A report section.

    Attributes
    ----------
    key
        Stable JSON key (``sections.<key>``), lower_snake_case.
    title
        Title by language: ``{"en": ..., "zh": ...}``.
    compute
        ``ReportContext -> dict | None``; ``None`` means no data for this section (raise
        :class:`NoData` instead to tell the reader why).
    render
        ``(data, lang) -> list[Block]``; imports plotly inside.
    """

    key: str
    title: Mapping[str, str]
    compute: Callable[[ReportContext], JSONDict | None]
    render: Callable[[JSONDict, str], list[Block]]
