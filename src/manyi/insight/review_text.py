"""What review texts say: sentiment, share negative by aspect, complaint phrases, rating effects.

Reviews with a text (``reviews.body``, stripped, non-empty) in the period are counted in the
engine; at most ``max_reviews`` of them — a deterministic hash sample on ``review_id``
(:mod:`manyi.insight.sampling`) — come back to Python and go through :func:`manyi.text.analyse`
(sentiment, language, aspects), so the cost is capped whatever the shop's size. ``manyi.text``
is imported here, inside the function, because it loads models and jieba.

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.review_text import review_text_findings
>>> f = review_text_findings(open_source(f"olist:{sample_path('olist')}"), max_reviews=500)
>>> f.reviews_with_text, f.analysed, f.languages
(1252, 500, {'pt': 500})
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from manyi.insight.intervals import proportion
from manyi.insight.sampling import hash_sample
from manyi.insight.slicing import between

if TYPE_CHECKING:
    from manyi.insight.sources import Source

#: Default cap on the reviews analysed.
MAX_REVIEWS = 5_000
#: Example reviews are cut to this many characters.
EXAMPLE_CHARS = 240


@dataclass(frozen=True)
class ReviewTextFindings:
    """Findings of the review texts.

    Attributes
    ----------
    reviews_with_text
        Reviews with a non-empty text in the period (before sampling).
    analysed, max_reviews
        Reviews analysed (``min(reviews_with_text, max_reviews)``) and the cap.
    languages
        Analysed reviews per detected language.
    sentiment
        ``negative``, ``neutral``, ``positive`` (counts) and ``negative_share`` (+ ``_low``,
        ``_high``, Wilson 95 %) of the analysed reviews.
    aspects
        One row per aspect (``logistics``, ``quality``, ``as_described``, ``service``,
        ``price``, ``packaging``): ``reviews`` mentioning it, ``share_of_reviews``,
        ``negative``, ``positive``, ``share_negative`` (+ ``_low``, ``_high``) of the
        mentions, ``negative_share_of_reviews`` (complaints about it per analysed review),
        ``mean_rating_negative``, ``mean_rating_positive``, ``mean_rating_not_mentioned``,
        ``effect_negative``, ``effect_positive`` (stars against not mentioning the aspect,
        one joint least-squares fit; an association).
    complaints
        ``aspect``, ``phrase``, ``count``, ``examples`` (review texts, cut to 240 characters).
    rated
        Analysed reviews that have a rating (the rating effects rest on them).
    """

    reviews_with_text: int
    analysed: int
    max_reviews: int
    languages: dict[str, int]
    sentiment: dict[str, Any]
    aspects: pd.DataFrame
    complaints: pd.DataFrame
    rated: int


def review_text_findings(
    src: Source,
    *,
    since: date | None = None,
    until: date | None = None,
    max_reviews: int = MAX_REVIEWS,
    per_aspect: int = 5,
    examples: int = 2,
) -> ReviewTextFindings | None:
    """Analyse (at most ``max_reviews``) review texts; ``None`` when no review has a text."""
    reviews = src.table("reviews")
    body = reviews.body.strip()
    with_text = reviews.filter(
        body.notnull() & (body.length() > 0) & between(src, reviews.created_at, since, until)
    )
    total = int(src.execute(with_text.count()))
    if total == 0:
        return None
    picked = hash_sample(with_text, "review_id", max_reviews, engine=src.engine)
    frame: pd.DataFrame = src.execute(picked.select("review_id", "rating", "body", "language"))
    frame = frame.sort_values("review_id", kind="stable", ignore_index=True)
    from manyi.text import analyse, aspect_rating_effect, aspect_summary, top_complaints

    texts = frame["body"].astype(str).tolist()
    given = set(frame["language"].dropna().astype(str))
    # One stated language for every review skips detection; an unsupported one falls back to it.
    lang = given.pop() if len(given) == 1 and frame["language"].notna().all() else "auto"
    try:
        results = analyse(texts, lang=lang)
    except ValueError:
        results = analyse(texts, lang="auto")
    n = len(results)
    moods = Counter(r.sentiment for r in results)
    negative = proportion(float(moods["negative"]), float(n))
    ratings = pd.to_numeric(frame["rating"], errors="coerce").to_numpy(dtype=np.float64)
    summary = aspect_summary(results)
    effect = aspect_rating_effect(results, ratings)
    aspects = summary.join(effect).reset_index()
    bounds = [
        proportion(float(neg), float(seen))
        for neg, seen in zip(aspects["negative"], aspects["reviews"], strict=True)
    ]
    columns = list(aspects.columns)
    at = columns.index("share_negative") + 1
    aspects["share_negative_low"] = [e.low for e in bounds]
    aspects["share_negative_high"] = [e.high for e in bounds]
    aspects["negative_share_of_reviews"] = aspects["negative"] / n
    extra = ["share_negative_low", "share_negative_high", "negative_share_of_reviews"]
    aspects = aspects[[*columns[:at], *extra, *columns[at:]]]
    complaints = top_complaints(texts, results, per_aspect=per_aspect, examples=examples)
    complaints["examples"] = [
        [e if len(e) <= EXAMPLE_CHARS else e[: EXAMPLE_CHARS - 1] + "…" for e in ex]
        for ex in complaints["examples"]
    ]
    return ReviewTextFindings(
        reviews_with_text=total,
        analysed=n,
        max_reviews=max_reviews,
        languages=dict(sorted(Counter(r.language for r in results).items())),
        sentiment={
            "negative": moods["negative"],
            "neutral": moods["neutral"],
            "positive": moods["positive"],
            "negative_share": negative.value,
            "negative_share_low": negative.low,
            "negative_share_high": negative.high,
        },
        aspects=aspects,
        complaints=complaints,
        rated=int(np.isfinite(ratings).sum()),
    )
