"""Sentence scores of the linear sentiment model, as inputs of the lexicon stack.

A bag of n-grams cannot tell a mixed review ("love the colour. the seller never answered")
from a lukewarm one: both have some positive and some negative n-grams. Issue 8's ninth round
scores every **sentence alone** with the review's own linear model (its own sublinear TF-IDF
vector, L2-normalised, dotted with the coefficients, plus the intercept, exactly as if the
sentence were a review) and gives the lexicon stack (:mod:`manyi.text.lexicon`) six figures of
those sentence logits: their minimum, maximum and mean, the last sentence's logit, the share
of sentences with a negative logit and log(1 + sentences). ``docs/text-model-card.md`` (ninth
round) gives the cross-validation figures.

Sentences are split as the position marking splits them
(:func:`manyi.text.features.sentence_split`: white space after ".", "!" or "?"), so a title
joined before its text is the first sentence. The sentences go through the same feature
look-up as reviews (either path of :mod:`manyi.text.vectorize`), so prediction does a second
look-up over the batch's text, cut into sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from manyi.text.features import sentence_split

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Names of the sentence figures, in the order of :func:`sentence_figures`'s columns.
SENTENCE_FEATURE_NAMES: tuple[str, ...] = (
    "min sentence logit",
    "max sentence logit",
    "mean sentence logit",
    "last sentence logit",
    "share of sentences with a negative logit",
    "log(1 + sentences)",
)


def split_sentences(docs: Sequence[str]) -> tuple[list[str], IntArray]:
    """The non-blank sentences of every text, in order, and the text each one belongs to.

    Examples
    --------
    >>> split_sentences(["Too big. Love the colour!", "", "ok"])
    (['Too big.', 'Love the colour!', 'ok'], array([0, 0, 2]))
    """
    sentences: list[str] = []
    counts = np.zeros(len(docs), dtype=np.int64)
    for i, doc in enumerate(docs):
        found = [s for s in sentence_split(doc) if s.strip()]
        sentences.extend(found)
        counts[i] = len(found)
    return sentences, np.repeat(np.arange(len(docs), dtype=np.int64), counts)


def sentence_figures(
    sentence_logits: FloatArray,
    scored: npt.NDArray[np.bool_],
    owner: IntArray,
    review_logits: FloatArray,
) -> FloatArray:
    """The six figures of :data:`SENTENCE_FEATURE_NAMES` per review, shape ``(n_reviews, 6)``.

    Parameters
    ----------
    sentence_logits : ndarray of float
        The linear model's logit of each sentence scored alone.
    scored : ndarray of bool
        Whether the sentence has a known n-gram; sentences without one are left out.
    owner : ndarray of int
        The review of each sentence, non-decreasing (as :func:`split_sentences` returns it).
    review_logits : ndarray of float
        The linear logit of each review: a review without a scored sentence gets it as its
        minimum, maximum, mean and last sentence logit (and a negative share of 0).

    Examples
    --------
    >>> figures = sentence_figures(
    ...     np.array([2.0, -1.0, 0.5]), np.array([True, True, False]), np.array([0, 0, 1]),
    ...     np.array([1.5, 0.3]),
    ... )
    >>> figures[0, :5].tolist(), figures[1, :5].tolist()
    ([-1.0, 2.0, 0.5, -1.0, 0.5], [0.3, 0.3, 0.3, 0.3, 0.0])
    """
    n_reviews = len(review_logits)
    owner, logits = owner[scored], sentence_logits[scored]
    count = np.bincount(owner, minlength=n_reviews)
    has = count > 0
    out = np.column_stack(
        [review_logits] * 4 + [np.zeros(n_reviews), np.log1p(count.astype(np.float64))]
    )
    if not np.any(has):
        return out
    first = np.searchsorted(owner, np.flatnonzero(has))
    n = count[has]
    out[has, 0] = np.minimum.reduceat(logits, first)
    out[has, 1] = np.maximum.reduceat(logits, first)
    out[has, 2] = np.add.reduceat(logits, first) / n
    out[has, 3] = logits[first + n - 1]
    out[has, 4] = np.add.reduceat((logits < 0).astype(np.float64), first) / n
    return out
