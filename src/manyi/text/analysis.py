"""The public review-analysis API: sentiment, three-way label, language and aspects.

:func:`analyse` is what the report, the review inbox and ``manyi sentiment predict`` call;
:func:`aspect_summary` and :func:`top_complaints` turn its output into the report's tables.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from manyi.text.aspects import ASPECTS, ClauseAspect, extract_aspects_normalized
from manyi.text.language import UNKNOWN, detect_language_normalized
from manyi.text.normalize import normalize_text
from manyi.text.sentiment import LANGUAGES, NEUTRAL_BAND, load_model, three_way

#: Languages ``analyse`` accepts for ``lang``.
LANG_CHOICES: tuple[str, ...] = ("auto", *LANGUAGES)


@dataclass(frozen=True)
class AspectMention:
    """An aspect a review talks about, with its polarity.

    ``score`` sums the clause scores (lexicon-based, ±1 per opinion word with negation and
    degree); clauses without an opinion word are scored by the sentiment model, mapped to
    ``2 * p_positive - 1``. ``polarity`` is ``"positive"``, ``"negative"`` or ``"neutral"``
    (score 0). ``phrase`` is the aspect term with the opinion words, e.g. ``"质量 不太好"``.
    """

    aspect: str
    polarity: str
    score: float
    phrase: str
    clause: str


@dataclass(frozen=True)
class ReviewAnalysis:
    """The analysis of one review.

    Attributes
    ----------
    language : str
        ``"zh"``, ``"en"``, ``"pt"`` or ``"unknown"`` (no letters, or an unsupported script).
    p_positive : float
        Probability that the review is positive; exactly 0.5 for empty or unknown text.
    label : int or None
        1 positive, 0 negative (``p_positive >= 0.5``); ``None`` when there is nothing to judge.
    sentiment : str
        Three-way result: ``"negative"``, ``"neutral"`` or ``"positive"`` (neutral when
        ``p_positive`` lies in the neutral band, by default 0.35-0.65).
    aspects : list of AspectMention
        One per aspect mentioned, in :data:`manyi.text.ASPECTS` order.
    """

    language: str
    p_positive: float
    label: int | None
    sentiment: str
    aspects: list[AspectMention] = field(default_factory=list)

    def aspects_text(self) -> str:
        """Compact ``aspect:polarity`` list for a CSV cell, e.g. ``"logistics:+;quality:-"``."""
        signs = {"positive": "+", "negative": "-", "neutral": "0"}
        return ";".join(f"{a.aspect}:{signs[a.polarity]}" for a in self.aspects)


def analyse(
    texts: Sequence[object],
    lang: str = "auto",
    *,
    neutral_band: tuple[float, float] = NEUTRAL_BAND,
    with_aspects: bool = True,
) -> list[ReviewAnalysis]:
    """Analyse reviews: language, sentiment, three-way label and aspects.

    Parameters
    ----------
    texts : sequence
        Review texts; ``None``/NaN/empty give a neutral result with ``p_positive = 0.5``.
    lang : {"auto", "zh", "en", "pt"}
        ``"auto"`` detects the language of each review.
    neutral_band : (float, float)
        ``p_positive`` inside this closed interval is ``"neutral"``.
    with_aspects : bool
        Skip aspect extraction when only sentiment is needed (faster).

    Returns
    -------
    list of ReviewAnalysis
        One per input, in order.

    Examples
    --------
    >>> result = analyse(["快递很快，但是质量不太好", "Love it!", "Não gostei", ""])
    >>> [(r.language, r.sentiment) for r in result][1:]
    [('en', 'positive'), ('pt', 'negative'), ('unknown', 'neutral')]
    >>> [(a.aspect, a.polarity) for a in result[0].aspects]
    [('logistics', 'positive'), ('quality', 'negative')]
    """
    if lang not in LANG_CHOICES:
        raise ValueError(f"lang must be one of {LANG_CHOICES}, not {lang!r}")
    n = len(texts)
    normed = [normalize_text(t) for t in texts]
    if lang == "auto":
        languages = [detect_language_normalized(t) if t else UNKNOWN for t in normed]
    else:
        languages = [lang if t else UNKNOWN for t in normed]
    p = np.full(n, 0.5)
    judged = np.zeros(n, dtype=bool)
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, language in enumerate(languages):
        if language in LANGUAGES:
            by_lang[language].append(i)
    for language, idx in by_lang.items():
        probs = load_model(language).predict_proba_normalized([normed[i] for i in idx])
        p[idx] = probs
        judged[idx] = True

    mentions: list[list[ClauseAspect]] = [[] for _ in range(n)]
    if with_aspects:
        pending: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for i, language in enumerate(languages):
            if language in LANGUAGES:
                mentions[i] = extract_aspects_normalized(normed[i], language)
                for k, m in enumerate(mentions[i]):
                    if m.score is None:
                        pending[language].append((i, k, m.clause))
        for language, items in pending.items():
            clause_p = load_model(language).predict_proba_normalized([c for _, _, c in items])
            for (i, k, _), cp in zip(items, clause_p, strict=True):
                old = mentions[i][k]
                # Model-scored clauses count at most ±0.5: a lexicon hit is more specific.
                mentions[i][k] = ClauseAspect(
                    aspect=old.aspect,
                    clause=old.clause,
                    term=old.term,
                    score=round(float(cp) - 0.5, 3),
                    opinion=old.opinion,
                )
    return [
        ReviewAnalysis(
            language=languages[i],
            p_positive=float(p[i]),
            label=int(p[i] >= 0.5) if judged[i] and p[i] != 0.5 else None,
            sentiment=three_way(float(p[i]), neutral_band),
            aspects=_combine(mentions[i]),
        )
        for i in range(n)
    ]


def _combine(mentions: list[ClauseAspect]) -> list[AspectMention]:
    grouped: dict[str, list[ClauseAspect]] = defaultdict(list)
    for m in mentions:
        grouped[m.aspect].append(m)
    out = []
    for aspect in ASPECTS:
        if aspect not in grouped:
            continue
        parts = grouped[aspect]
        score = round(sum(m.score or 0.0 for m in parts), 3)
        polarity = "positive" if score > 0 else "negative" if score < 0 else "neutral"
        # The phrase of the clause that decides the polarity (largest |score| on its side).
        lead = max(parts, key=lambda m: (m.score or 0.0) * (1 if score >= 0 else -1))
        phrase = (
            lead.term
            if not lead.opinion or lead.opinion == lead.term
            else (f"{lead.term} {lead.opinion}")
        )
        out.append(
            AspectMention(
                aspect=aspect, polarity=polarity, score=score, phrase=phrase, clause=lead.clause
            )
        )
    return out


def aspect_summary(analyses: Sequence[ReviewAnalysis]) -> pd.DataFrame:
    """Share of reviews mentioning each aspect, and the share of those that are negative.

    Returns a frame indexed by aspect (all six, in report order) with columns ``reviews``
    (mentioning it), ``share_of_reviews``, ``negative``, ``positive``, ``share_negative``
    (negative / reviews mentioning it; NaN when none do).

    Examples
    --------
    >>> table = aspect_summary(analyse(["物流太慢了", "物流很快", "质量很好"]))
    >>> table.loc["logistics", ["reviews", "negative", "share_negative"]].tolist()
    [2.0, 1.0, 0.5]
    """
    total = len(analyses)
    counts = {a: Counter[str]() for a in ASPECTS}
    for result in analyses:
        for mention in result.aspects:
            counts[mention.aspect][mention.polarity] += 1
    rows = []
    for aspect in ASPECTS:
        c = counts[aspect]
        mentioned = sum(c.values())
        rows.append(
            {
                "aspect": aspect,
                "reviews": mentioned,
                "share_of_reviews": mentioned / total if total else np.nan,
                "negative": c["negative"],
                "positive": c["positive"],
                "share_negative": c["negative"] / mentioned if mentioned else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("aspect").astype(float)


def top_complaints(
    texts: Sequence[object],
    analyses: Sequence[ReviewAnalysis],
    *,
    per_aspect: int = 5,
    examples: int = 2,
) -> pd.DataFrame:
    """The most frequent complaint phrases per aspect, with example reviews.

    A complaint is an aspect mention with negative polarity; its phrase is the aspect term
    with the opinion words of the deciding clause (``"物流 太慢"``, ``"fabric cheap"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``aspect``, ``phrase``, ``count``, ``examples`` (a list of review texts),
        sorted by aspect (report order) and descending count.

    Examples
    --------
    >>> reviews = ["物流太慢了", "物流太慢了，等了一周", "质量很好"]
    >>> top_complaints(reviews, analyse(reviews))[["aspect", "phrase", "count"]].values.tolist()
    [['logistics', '物流 太慢', 2]]
    """
    if len(texts) != len(analyses):
        raise ValueError(f"{len(texts)} texts but {len(analyses)} analyses")
    found: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, result in enumerate(analyses):
        for mention in result.aspects:
            if mention.polarity == "negative":
                found[(mention.aspect, mention.phrase)].append(i)
    rows: list[dict[str, object]] = []
    for aspect in ASPECTS:
        phrases = sorted(
            ((phrase, idx) for (a, phrase), idx in found.items() if a == aspect),
            key=lambda item: (-len(item[1]), item[0]),
        )[:per_aspect]
        rows.extend(
            {
                "aspect": aspect,
                "phrase": phrase,
                "count": len(idx),
                "examples": [str(texts[i]) for i in idx[:examples]],
            }
            for phrase, idx in phrases
        )
    return pd.DataFrame(rows, columns=["aspect", "phrase", "count", "examples"])


def aspect_rating_effect(
    analyses: Sequence[ReviewAnalysis], ratings: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    """How each aspect moves the rating: mean ratings and a joint linear fit.

    For each aspect, the mean rating of reviews that judge it negatively, positively, and
    that do not mention it; and the coefficients of one least-squares fit
    ``rating ~ 1 + sum_a (b_neg[a] * negative[a] + b_pos[a] * positive[a])`` over all
    reviews with a rating, so each coefficient is the rating difference against not
    mentioning the aspect, holding the other aspects fixed (an association, not a cause).

    Returns
    -------
    pandas.DataFrame
        Indexed by aspect with columns ``n_negative``, ``n_positive``,
        ``mean_rating_negative``, ``mean_rating_positive``, ``mean_rating_not_mentioned``,
        ``effect_negative``, ``effect_positive`` (NaN where an aspect has no such reviews).

    Examples
    --------
    >>> texts = ["物流太慢了", "物流很快", "质量很好", "质量太差", "还行"]
    >>> table = aspect_rating_effect(analyse(texts), [1, 5, 5, 2, 4])
    >>> table.loc["logistics", ["mean_rating_negative", "mean_rating_positive"]].tolist()
    [1.0, 5.0]
    """
    y = np.asarray(ratings, dtype=np.float64)
    if len(y) != len(analyses):
        raise ValueError(f"{len(analyses)} analyses but {len(y)} ratings")
    known = ~np.isnan(y)
    columns: list[np.ndarray] = [np.ones(len(y))]
    names: list[tuple[str, str]] = []
    rows = []
    for aspect in ASPECTS:
        polarity = np.array(
            [next((m.polarity for m in r.aspects if m.aspect == aspect), "") for r in analyses]
        )
        neg = (polarity == "negative") & known
        pos = (polarity == "positive") & known
        absent = (polarity == "") & known
        for name, mask in (("negative", neg), ("positive", pos)):
            if mask.any():
                columns.append(mask.astype(np.float64))
                names.append((aspect, name))
        rows.append(
            {
                "aspect": aspect,
                "n_negative": int(neg.sum()),
                "n_positive": int(pos.sum()),
                "mean_rating_negative": float(y[neg].mean()) if neg.any() else np.nan,
                "mean_rating_positive": float(y[pos].mean()) if pos.any() else np.nan,
                "mean_rating_not_mentioned": float(y[absent].mean()) if absent.any() else np.nan,
                "effect_negative": np.nan,
                "effect_positive": np.nan,
            }
        )
    table = pd.DataFrame(rows).set_index("aspect")
    if known.sum() > len(columns):
        design = np.column_stack(columns)[known]
        coef, *_ = np.linalg.lstsq(design, y[known], rcond=None)
        for (aspect, name), value in zip(names, coef[1:], strict=True):
            table.loc[aspect, f"effect_{name}"] = float(value)
    return table
