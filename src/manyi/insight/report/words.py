"""Number formatting and the fixed phrases of the report in Chinese and English.

Examples
--------
>>> from manyi.insight.report.words import pct, stars
>>> pct(0.0642, "en"), pct(0.0642, "zh"), stars(4.2817)
('6.4 %', '6.4%', '4.3★')
"""

from __future__ import annotations

LANGS = ("zh", "en")


def pct(share: float | None, lang: str, digits: int = 1) -> str:
    """A share as a percentage (``–`` when unknown)."""
    if share is None:
        return "–"
    return f"{100 * share:.{digits}f}{'%' if lang == 'zh' else ' %'}"


def stars(mean: float | None) -> str:
    """A mean rating as ``4.3★`` (``–`` when unknown)."""
    return "–" if mean is None else f"{mean:.1f}★"


def num(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators (``–`` when unknown)."""
    return "–" if value is None else f"{value:,.{digits}f}"


def signed(value: float, digits: int = 2) -> str:
    """A signed number with a true minus sign: ``+0.42`` / ``−1.65``."""
    return f"{value:+.{digits}f}".replace("-", "−")


def pick(lang: str, en: str, zh: str) -> str:
    """The phrase for ``lang``."""
    return zh if lang == "zh" else en


UI = {
    "title": {"en": "Satisfaction and sales report", "zh": "满意度与销售报告"},
    "source": {"en": "Source", "zh": "数据来源"},
    "period": {"en": "Period", "zh": "时间范围"},
    "generated": {"en": "Generated", "zh": "生成时间"},
    "no_data": {"en": "No data for this section.", "zh": "本部分暂无数据。"},
    "contents": {"en": "Contents", "zh": "目录"},
    "offline": {
        "en": "This page works offline; every figure is also in the JSON file.",
        "zh": "本页面可离线查看；所有数字也保存在 JSON 文件中。",
    },
}
