"""Review-text findings: counts and shares recomputed from the raw files, the cap, no text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from manyi.insight.review_text import review_text_findings
from manyi.insight.sources import Source


def texts_of(folder: Path) -> pd.DataFrame:
    reviews = pd.read_csv(folder / "olist_order_reviews_dataset.csv.gz")
    body = reviews["review_comment_message"].fillna("").str.strip()
    return reviews.assign(body=body)[body != ""]


def test_shares_by_aspect_equal_an_independent_count(bundled: Source, bundled_dir: Path) -> None:
    from manyi.text import analyse

    # given every review text of the bundled sample, analysed directly
    raw = texts_of(bundled_dir).sort_values("review_id")
    results = analyse(raw["review_comment_message"].str.strip().tolist(), lang="pt")
    # when the findings are computed without a cap
    found = review_text_findings(bundled, max_reviews=100_000)
    assert found is not None
    # then counts, sentiment and the share negative of every aspect agree
    assert found.reviews_with_text == found.analysed == len(raw) == 1252
    moods = Counter(r.sentiment for r in results)
    assert found.sentiment["negative"] == moods["negative"]
    assert found.sentiment["negative_share"] == pytest.approx(moods["negative"] / len(raw))
    aspects = found.aspects.set_index("aspect")
    for aspect in aspects.index:
        said = [m.polarity for r in results for m in r.aspects if m.aspect == aspect]
        assert aspects.loc[aspect, "reviews"] == len(said), aspect
        if said:
            share = said.count("negative") / len(said)
            assert aspects.loc[aspect, "share_negative"] == pytest.approx(share), aspect
            assert (
                aspects.loc[aspect, "share_negative_low"]
                <= share
                <= aspects.loc[aspect, "share_negative_high"]
            )
    # a negative word about delivery goes with a far lower rating than a positive one
    assert aspects.loc["logistics", "mean_rating_negative"] < 2.5
    assert aspects.loc["logistics", "mean_rating_positive"] > 4.0
    assert aspects.loc["logistics", "effect_negative"] < -1
    assert found.rated == len(raw)
    assert found.complaints["examples"].map(len).max() <= 2
    assert (found.complaints["count"] > 0).all()


def test_the_cap_is_a_fixed_sample(bundled: Source) -> None:
    a = review_text_findings(bundled, max_reviews=200)
    b = review_text_findings(bundled, max_reviews=200)
    assert a is not None
    assert b is not None
    assert (a.analysed, a.max_reviews, a.reviews_with_text) == (200, 200, 1252)
    pd.testing.assert_frame_equal(a.aspects, b.aspects)
    assert a.languages == {"pt": 200}


def test_examples_are_cut_and_reviews_without_text_give_nothing(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    o, r = helpers.order, helpers.review
    long = "Produto de péssima qualidade, veio quebrado. " * 20
    with_text = make_source(
        orders=[o("o1", "c1", "2024-01-01")],
        reviews=[{**r("r1", "o1", 1, "2024-01-05"), "body": long, "language": "pt"}],
    )
    found = review_text_findings(with_text)
    assert found is not None
    assert found.sentiment["negative"] == 1
    example = found.complaints["examples"].iloc[0][0]
    assert len(example) == 240
    assert example.endswith("…")
    blank = make_source(
        orders=[o("o1", "c1", "2024-01-01")],
        reviews=[{**r("r1", "o1", 5, "2024-01-05"), "body": "   "}],
    )
    assert review_text_findings(blank) is None
