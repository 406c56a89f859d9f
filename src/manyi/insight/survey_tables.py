"""The two canonical survey tables the survey metrics read.

``survey_responses`` — one row per answered survey:

===============  =========  ==============================================================
column           type       meaning
===============  =========  ==============================================================
response_id      string     key
instrument       string     ``nps``, ``csat``, ``ces_effort_5`` (1-5, 1 = very low effort),
                            ``ces_agree_7`` (1-7, 7 = strongly agree "easy to handle"),
                            ``dsr`` or ``servqual``
customer_id      string     the person (nullable)
order_id         string     the order the survey was about (nullable)
case_id          string     the after-sales case the survey was about (nullable)
agent_id         string     the agent who handled the case (nullable)
team_id          string     the team that handled the case (nullable)
answered_at      timestamp  UTC
channel          string     optional: how the survey was answered (email, sms, web, ...)
===============  =========  ==============================================================

``survey_answers`` — one row per answered item, key ``(response_id, item)``:

===========  =======  ==================================================================
column       type     meaning
===========  =======  ==================================================================
response_id  string   the response
item         string   ``nps`` (0-10), ``csat`` (1-5), ``ces`` (scale by instrument),
                      DSR dimensions ``as_described`` / ``service`` / ``logistics`` (1-5),
                      SERVQUAL ``E1``..``E22`` (expectation) and ``P1``..``P22``
                      (perception) on 1-7, and weights ``W_tangibles``, ``W_reliability``,
                      ``W_responsiveness``, ``W_assurance``, ``W_empathy`` (points of 100)
value        float    the answer
===========  =======  ==================================================================

Examples
--------
>>> from manyi.insight.survey_tables import SURVEY_TABLES
>>> list(SURVEY_TABLES["survey_answers"])
['response_id', 'item', 'value']
"""

from __future__ import annotations

import ibis.expr.datatypes as dt

_UTC = dt.Timestamp(timezone="UTC")

#: column -> (Ibis type, nullable) for the two survey tables.
SURVEY_TABLES: dict[str, dict[str, tuple[dt.DataType, bool]]] = {
    "survey_responses": {
        "response_id": (dt.string, False),
        "instrument": (dt.string, False),
        "customer_id": (dt.string, True),
        "order_id": (dt.string, True),
        "case_id": (dt.string, True),
        "agent_id": (dt.string, True),
        "team_id": (dt.string, True),
        "answered_at": (_UTC, False),
    },
    "survey_answers": {
        "response_id": (dt.string, False),
        "item": (dt.string, False),
        "value": (dt.float64, False),
    },
}
