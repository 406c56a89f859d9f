"""The bundled Olist sample, end to end: import, analyse, and exactly the expected follow-ups.

The expected cases are computed here from the raw CSV file with pandas and ``manyi.text``,
without the desk: the reviews written in the 30 days before "now" that have 1-2 stars, or a
text that the shipped model finds negative with probability >= 0.9.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from manyi.data import open_reader
from manyi.data.samples import sample_path
from manyi.desk.cases.models import Case
from manyi.desk.commerce.models import Review
from manyi.desk.commerce.services import import_source
from manyi.desk.reviews.analysis import analyse_reviews
from manyi.desk.reviews.models import ReviewAnalysis, ReviewFollowUp
from manyi.text import analyse

pytestmark = pytest.mark.django_db

SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # Olist's timestamps are local times in Brazil
THRESHOLD = 0.9


def _expected_follow_ups(now: datetime) -> set[tuple[str, str]]:
    raw = pd.read_csv(sample_path("olist") / "olist_order_reviews_dataset.csv.gz", dtype=str)
    written = pd.to_datetime(raw["review_creation_date"]).dt.tz_localize(SAO_PAULO)
    recent = raw[written >= now - timedelta(days=30)]
    texts = [
        ". ".join(p.strip() for p in (t, b) if isinstance(p, str) and p.strip())
        for t, b in zip(
            recent["review_comment_title"], recent["review_comment_message"], strict=True
        )
    ]
    verdicts = analyse(texts, lang="pt")
    bad = [
        int(stars) <= 2 or (v.sentiment == "negative" and 1 - v.p_positive >= THRESHOLD)
        for stars, v in zip(recent["review_score"], verdicts, strict=True)
    ]
    keys = recent.loc[bad, ["review_id", "order_id"]]
    return set(keys.itertuples(index=False, name=None))


def test_the_sample_opens_one_case_per_recent_bad_review_and_no_more(set_rule: Any) -> None:
    set_rule(enabled=True, negative_threshold=THRESHOLD, max_age_days=30)
    import_source(open_reader("olist", sample_path("olist")), kind="olist", source="sample")
    latest = Review.objects.order_by("-created_at").values_list("created_at", flat=True)[0]
    # Noon after the latest review, so the 30-day cut falls between whole days of reviews.
    now = datetime.combine(latest.astimezone(SAO_PAULO).date(), time(12), SAO_PAULO)
    expected = _expected_follow_ups(now)
    assert len(expected) > 10  # the sample has recent complaints to follow up

    summary = analyse_reviews(now=now, batch_size=500)

    assert summary.analysed == Review.objects.count() == ReviewAnalysis.objects.count()
    assert summary.follow_ups == len(expected)
    opened = set(ReviewFollowUp.objects.values_list("review__review_id", "review__order_id"))
    assert opened == expected
    assert Case.objects.count() == len(expected)
    assert set(Case.objects.values_list("kind", "channel")) == {("complaint", "review")}
    assert analyse_reviews(now=now).follow_ups == 0
    assert analyse_reviews(now=now, redo_all=True).follow_ups == 0
    assert Case.objects.count() == len(expected)
