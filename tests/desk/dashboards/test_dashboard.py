"""The dashboard's figures on a hand-made shop: equal to hand computations, compared with the
previous period by the library's tests, sliced by seller and team, cached until their data
change, and every number leading to exactly the rows behind it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from manyi.desk.dashboards import blocks
from manyi.insight.monitor import significance as sig

pytestmark = pytest.mark.django_db(transaction=True)

CURRENT = [5, 5, 4, 4, 3, 2, 1, 5]  # reviews 1..8 days before NOW
PREVIOUS = [5, 1, 1, 2, 4]  # reviews 31..35 days before NOW


@pytest.fixture
def period() -> str:
    """The 30 days ending on NOW's day (Shanghai), as a query string."""
    from_conftest = "2026-10-25", "2026-11-23"
    return f"since={from_conftest[0]}&until={from_conftest[1]}"


@pytest.fixture
def reviews(shop: Any) -> None:
    for i, rating in enumerate(CURRENT, start=1):
        shop(rating, days_ago=i, late_days=3 if rating <= 2 else 0)
    for i, rating in enumerate(PREVIOUS, start=31):
        shop(rating, days_ago=i, seller_id="s2")


def _block(client: Any, key: str, query: str) -> dict[str, Any]:
    response = client.get(f"/desk/dashboard/block/{key}/?{query}")
    assert response.status_code == 200
    data: dict[str, Any] = response.context["b"]["data"]
    assert data is not None
    return data


def _kpi(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(k for k in data["kpis"] if k["key"] == key)


def _kpi_with_url(client: Any, key: str, query: str, name: str) -> dict[str, Any]:
    response = client.get(f"/desk/dashboard/block/{key}/?{query}")
    return next(k for k in response.context["b"]["kpis"] if k["key"] == name)


def test_ratings_equal_a_hand_count_and_the_change_is_the_librarys_test(
    login: Any, reviews: None, period: str
) -> None:
    data = _block(login("mei"), "satisfaction", period)

    good = _kpi(data, "good_review_rate")
    n, k = len(CURRENT), sum(r >= 4 for r in CURRENT)
    pn, pk = len(PREVIOUS), sum(r >= 4 for r in PREVIOUS)
    assert (good["n"], good["value"]) == (n, k / n)
    assert (good["prev_n"], good["prev"]) == (pn, pk / pn)
    expected = sig.two_proportions(k, n, pk, pn)
    assert good["delta"] == pytest.approx(expected.effect)
    assert good["p_value"] == pytest.approx(expected.p_value)
    assert _kpi(data, "mean_rating")["value"] == pytest.approx(sum(CURRENT) / n)
    assert _kpi(data, "bad_review_rate")["value"] == pytest.approx(2 / n)
    assert data["tables"]["distribution"]["rows"][0][:2] == [1, 1]  # one 1★ review


def test_the_dsr_counts_ratings_given_within_15_days_of_delivery_over_180_days(
    login: Any, reviews: None, period: str
) -> None:
    data = _block(login("mei"), "satisfaction", period)

    # Reviews come a day after delivery, except the 1–2★ orders of the period: delivered 3 days
    # late, after their review was written, so they do not count. Both periods are inside the
    # 180-day window.
    counted = [r for r in CURRENT if r > 2] + PREVIOUS
    dsr = _kpi(data, "dsr_overall")
    assert (dsr["n"], dsr["value"]) == (len(counted), pytest.approx(sum(counted) / len(counted)))


def test_a_seller_slice_keeps_that_sellers_orders_only(
    login: Any, reviews: None, period: str
) -> None:
    data = _block(login("mei"), "satisfaction", period + "&seller=s2")

    good = _kpi(data, "good_review_rate")
    assert good["n"] == 0  # s2 sold nothing in the period
    assert good["prev_n"] == len(PREVIOUS)


@pytest.mark.parametrize(
    ("kpi", "expected"),
    [
        ("good_review_rate", sum(r >= 4 for r in CURRENT)),
        ("bad_review_rate", sum(r <= 2 for r in CURRENT)),
        ("mean_rating", len(CURRENT)),
    ],
)
def test_rating_numbers_lead_to_their_reviews(
    login: Any, reviews: None, period: str, kpi: str, expected: int
) -> None:
    client = login("mei")
    item = _kpi_with_url(client, "satisfaction", period, kpi)

    response = client.get(item["url"])

    assert response.status_code == 200
    assert response.context["page"].paginator.count == expected


def test_the_mean_rating_opens_the_review_inbox_with_the_same_reviews(
    login: Any, reviews: None, period: str
) -> None:
    client = login("mei")
    item = _kpi_with_url(client, "satisfaction", period, "mean_rating")

    assert item["url"].startswith("/desk/reviews/?")
    assert "from=2026-10-25" in item["url"]
    assert "to=2026-11-23" in item["url"]


def test_late_deliveries_lead_to_the_late_orders(login: Any, reviews: None, period: str) -> None:
    client = login("mei")
    data = _block(client, "sales", period)
    late = _kpi(data, "late_share")
    # the 8 orders of the period were purchased 6 days before their reviews (7..14 days ago)
    assert late["n"] == len(CURRENT)
    item = _kpi_with_url(client, "sales", period, "late_share")

    rows = client.get(item["url"]).context["page"]

    assert rows.paginator.count == round(late["value"] * late["n"]) == 2
    assert {o.order_id for o in rows} == {"o6", "o7"}  # the 2★ and 1★ orders, 3 days late


def test_service_figures_count_the_cases_of_the_period_and_lead_to_them(
    login: Any, open_cases: Any, period: str
) -> None:
    open_cases(3, days_ago=2, team="returns")
    open_cases(2, days_ago=3, team="vip", channel="phone")
    open_cases(4, days_ago=40, team="returns")
    client = login("mei")

    data = _block(client, "service", period)
    opened = _kpi(data, "cases_opened")
    assert (opened["value"], opened["prev"]) == (5, 4)
    assert _kpi(data, "backlog")["value"] == 9
    url = _kpi_with_url(client, "service", period, "cases_opened")["url"]
    assert client.get(url).context["page"].paginator.count == 5

    team = _block(client, "service", period + "&team=vip")
    assert _kpi(team, "cases_opened")["value"] == 2
    url = _kpi_with_url(client, "service", period + "&team=vip", "cases_opened")["url"]
    assert client.get(url).context["page"].paginator.count == 2
    backlog_url = _kpi_with_url(client, "service", period + "&channel=phone", "backlog")["url"]
    assert client.get(backlog_url).context["page"].paginator.count == 2


def test_an_agent_sees_her_teams_service_figures_only(
    login: Any, open_cases: Any, period: str
) -> None:
    open_cases(3, days_ago=2, team="returns")
    open_cases(2, days_ago=3, team="vip")

    data = _block(login("ana"), "service", period + "&team=vip")

    assert _kpi(data, "cases_opened")["value"] == 3


def _counting(monkeypatch: pytest.MonkeyPatch, key: str) -> list[int]:
    calls: list[int] = []
    spec = blocks.BLOCKS[key]

    def compute(src: Any, f: Any) -> dict[str, Any]:
        calls.append(1)
        return spec.compute(src, f)

    monkeypatch.setitem(blocks.BLOCKS, key, dataclasses.replace(spec, compute=compute))
    return calls


def test_results_are_cached_until_the_data_they_read_change(
    login: Any, reviews: None, shop: Any, open_cases: Any, period: str, monkeypatch: Any
) -> None:
    satisfaction = _counting(monkeypatch, "satisfaction")
    service = _counting(monkeypatch, "service")
    client = login("mei")

    first = _block(client, "satisfaction", period)
    _block(client, "service", period)
    again = _block(client, "satisfaction", period)
    assert (len(satisfaction), len(service)) == (1, 1)
    assert again == first
    page = client.get(f"/desk/dashboard/?{period}")
    assert page.context["blocks"][0]["data"] == first  # the page shows the cached block

    open_cases(1, days_ago=1, team="returns")  # cases changed: service only
    _block(client, "satisfaction", period)
    assert _kpi(_block(client, "service", period), "cases_opened")["value"] == 1
    assert (len(satisfaction), len(service)) == (1, 2)

    shop(5, days_ago=1)  # a new review: satisfaction again
    data = _block(client, "satisfaction", period)
    assert _kpi(data, "good_review_rate")["n"] == len(CURRENT) + 1
    assert len(satisfaction) == 2


def test_a_block_not_computed_yet_is_a_placeholder_that_fetches_it(
    login: Any, reviews: None, period: str
) -> None:
    response = login("mei").get(f"/desk/dashboard/?{period}")

    html = response.content.decode()
    assert 'hx-get="/desk/dashboard/block/satisfaction/?since=2026-10-25' in html
    assert 'hx-trigger="load"' in html


def test_the_worker_precomputes_the_default_views(
    login: Any, reviews: None, open_cases: Any, now: Any
) -> None:
    from manyi.desk.dashboards.dashboard import precompute_default_views

    open_cases(1, days_ago=1, team="returns")
    first = precompute_default_views(now=now)
    second = precompute_default_views(now=now)

    # 3 periods x 4 blocks; customer value (every order up to the last day) and drivers (at
    # least its last 90 days) once for the three; the service block of each of the two teams
    assert (first.computed, second.computed, second.fresh) == (16, 0, 20)
    page = login("mei").get("/desk/dashboard/")
    assert all(b["data"] is not None for b in page.context["blocks"])
