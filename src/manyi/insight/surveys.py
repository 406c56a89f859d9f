"""Survey answers joined to their responses, ready for the survey metrics.

The tables are described in :mod:`manyi.insight.survey_tables`. A source without them has no
survey metrics (``src.has("survey_answers")`` is false) — the report says so instead of
inventing a score.

Examples
--------
>>> from manyi.insight.surveys import INSTRUMENTS
>>> INSTRUMENTS["ces_agree_7"]
(1, 7)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import ibis

from manyi.insight.ratings import check_scale
from manyi.insight.slicing import between

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

#: instrument -> (lowest, highest) point of its main scale.
INSTRUMENTS: dict[str, tuple[int, int]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces_effort_5": (1, 5),
    "ces_agree_7": (1, 7),
    "dsr": (1, 5),
    "servqual": (1, 7),
}


def has_surveys(src: Source, instrument: str | None = None) -> bool:
    """Whether the source holds survey answers (of ``instrument``, when given)."""
    if not (src.has("survey_responses") and src.has("survey_answers")):
        return False
    if instrument is None:
        return True
    responses = src.table("survey_responses")
    count = src.execute(responses.filter(responses.instrument == instrument).count())
    return int(count) > 0


def survey_rows(
    src: Source,
    instruments: str | Sequence[str],
    *,
    items: Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    check: tuple[float, float] | None = None,
) -> ir.Table:
    """Answers of ``instruments`` (and ``items``) with their response's columns.

    Parameters
    ----------
    instruments
        Instrument name(s), see :data:`INSTRUMENTS`.
    items
        Keep only these items.
    since, until
        Shop-local answer dates to keep.
    check
        ``(low, high)``: reject whole-number answers outside the scale with ``ScaleError``.

    Returns
    -------
    ibis.expr.types.Table
        ``response_id, instrument, customer_id, order_id, case_id, agent_id, team_id,
        answered_at, channel, item, value``.
    """
    names = [instruments] if isinstance(instruments, str) else list(instruments)
    responses = src.table("survey_responses")
    if "channel" not in responses.columns:
        responses = responses.mutate(channel=ibis.null().cast("string"))
    answers = src.table("survey_answers")
    responses = responses.filter(
        responses.instrument.isin(names) & between(src, responses.answered_at, since, until)
    )
    if items is not None:
        answers = answers.filter(answers.item.isin(list(items)))
    rows = responses.join(answers, "response_id")
    if check is not None:
        check_scale(
            src, rows, "value", check[0], check[1], what=f"survey_answers.value ({'/'.join(names)})"
        )
    return rows
