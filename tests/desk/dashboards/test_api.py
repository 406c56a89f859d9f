"""``GET /api/report``: the report's JSON over the desk database, cached, in either language."""

from __future__ import annotations

from typing import Any

import pytest

from manyi.desk.dashboards import api as report_api

pytestmark = pytest.mark.django_db(transaction=True)


def _get(client: Any, token: str, query: str = "") -> Any:
    return client.get(f"/api/report{query}", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_report_has_every_section_and_the_period_asked(
    client: Any, token: Any, shop: Any, open_cases: Any
) -> None:
    for i, rating in enumerate([5, 1, 4, 5], start=1):
        shop(rating, days_ago=i)
    open_cases(2, days_ago=1, team="returns")

    response = _get(client, token("li"), "?since=2026-10-25&until=2026-11-23")

    assert response.status_code == 200
    doc = response.json()
    assert doc["report_version"] == 1
    assert (doc["since"], doc["until"], doc["engine"]) == ("2026-10-25", "2026-11-23", "duckdb")
    assert doc["timezone"] == "Asia/Shanghai"
    ratings = doc["sections"]["ratings"]
    assert ratings["status"] == "ok"
    assert ratings["data"]["summary"]["n"] == 4
    assert doc["sections"]["service"]["data"]["cases"] == 2
    assert "lang" not in doc


def test_lang_adds_the_titles_and_reasons_in_that_language(
    client: Any, token: Any, shop: Any
) -> None:
    shop(5, days_ago=1)

    doc = _get(client, token("mei"), "?lang=zh").json()

    assert doc["lang"] == "zh"
    section = doc["sections"]["ratings"]
    assert section["title_text"] == section["title"]["zh"]
    churn = doc["sections"]["churn"]
    assert churn["status"] == "no_data"
    assert churn["reason_text"] == (churn["reason"] or {}).get("zh")


def test_a_second_call_is_served_from_the_cache_until_the_data_change(
    client: Any, token: Any, shop: Any, monkeypatch: Any
) -> None:
    shop(5, days_ago=1)
    key = token("li")
    builds: list[int] = []
    real = __import__("manyi.insight.report.build", fromlist=["build_report"]).build_report

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("manyi.insight.report.build.build_report", counting)

    first = _get(client, key).json()
    second = _get(client, key).json()
    shop(1, days_ago=1)
    third = _get(client, key).json()

    assert len(builds) == 2
    assert first == second
    assert third["sections"]["ratings"]["data"]["summary"]["n"] == 2


@pytest.mark.parametrize(
    "query", ["?since=2026-12-01&until=2026-11-01", "?since=yesterday", "?lang=fr"]
)
def test_bad_parameters_are_refused_with_json(client: Any, token: Any, query: str) -> None:
    response = _get(client, token("li"), query)

    assert response.status_code == 422
    assert "code" in response.json()


def test_the_options_are_the_clis_defaults() -> None:
    assert report_api.OPTIONS == {"text_max_reviews": 5_000, "drivers_max_orders": 10_000}
