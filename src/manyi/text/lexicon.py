"""Valence-lexicon features for the English and Portuguese sentiment models.

A human-rated valence lexicon (VADER's for English, LeIA's for Portuguese; see
``lexicons/valence_NOTICE.md``) knows the polarity of words the training reviews use rarely,
and it weighs a review's words by a prior that the n-gram model has to learn from the data.
Issue 8's fifth round adds nine per-review figures computed from it and lets a small logistic
regression (the *stack*) combine them with the linear model's logit (``docs/text-model-card.md``
gives the cross-validation figures).

The figures are read off the n-gram occurrences the model already finds (any look-up path of
:mod:`manyi.text.vectorize`): every vocabulary column gets a valence and a kind (a plain word,
a negation-marked word, a word of the first or of the last sentence, an exclamation run), so a
batch's figures are a few ``np.bincount`` calls, with no second pass over the text. Words the
vocabulary lacks (seen in fewer than ``min_df`` training reviews) are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from manyi.text.features import (
    CHAR_MARK,
    FIRST_MARK,
    LAST_MARK,
    NEGATION_MARK,
    FeatureSpec,
    strip_accents,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Languages with a shipped valence lexicon.
LEXICON_LANGUAGES: tuple[str, ...] = ("en", "pt")

#: Names of the per-review figures, in the order of :func:`lexicon_features`'s columns.
FEATURE_NAMES: tuple[str, ...] = (
    "positive valence / sqrt(words)",
    "negative valence / sqrt(words)",
    "valence of negated words / sqrt(words)",
    "valence of the first sentence / 4",
    "valence of the last sentence / 4",
    "positive words / words",
    "negative words / words",
    "log(words)",
    "log(1 + exclamation runs)",
)

# Column kinds. A plain word is counted as a word (the normaliser of the figures) whether or
# not the lexicon knows it; the marked copies only where it does.
KIND_NONE = 0
KIND_WORD = 1
KIND_NEGATED = 2
KIND_FIRST = 3
KIND_LAST = 4
KIND_EXCLAMATION = 5
KIND_LEXICON_WORD = 6


@lru_cache(maxsize=4)
def load_valences(lang: str, *, fold_accents: bool = False) -> dict[str, float]:
    """The shipped lexicon of ``lang``: word → mean valence (-4 … +4).

    With ``fold_accents`` the words are accent-folded as the model's features are (the
    shipped Portuguese lexicon is already unaccented); where two words fold to one, the later
    line wins.

    Examples
    --------
    >>> load_valences("en")["great"]
    3.1
    >>> load_valences("pt", fold_accents=True)["excelente"]
    2.9
    """
    if lang not in LEXICON_LANGUAGES:
        raise ValueError(f"no valence lexicon for {lang!r}; choose one of {LEXICON_LANGUAGES}")
    text = (resources.files("manyi.text.lexicons") / f"valence_{lang}.txt").read_text("utf-8")
    out: dict[str, float] = {}
    for line in text.splitlines():
        word, _, value = line.partition("\t")
        if value:
            out[strip_accents(word) if fold_accents else word] = float(value)
    return out


def column_tables(
    vocabulary: Mapping[str, int], valences: Mapping[str, float]
) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    """Valence and kind of every vocabulary column (0 and ``KIND_NONE`` for the others).

    Examples
    --------
    >>> valence, kind = column_tables({"good": 0, "neg_good": 1, "good fit": 2}, {"good": 1.9})
    >>> valence.tolist(), kind.tolist()
    ([1.9, 1.9, 0.0], [6, 2, 0])
    """
    valence = np.zeros(len(vocabulary), dtype=np.float64)
    kind = np.zeros(len(vocabulary), dtype=np.int8)
    marked = {FIRST_MARK: KIND_FIRST, LAST_MARK: KIND_LAST}
    for term, column in vocabulary.items():
        if not term or term.startswith(CHAR_MARK):
            continue
        if term.startswith(NEGATION_MARK):
            word, family = term[len(NEGATION_MARK) :], KIND_NEGATED
        elif term[0] in marked:
            word, family = term[1:], marked[term[0]]
        else:
            word, family = term, KIND_WORD
        if " " in word:
            continue  # an n-gram of two or more words
        if set(word) == {"!"}:
            kind[column] = KIND_EXCLAMATION if family == KIND_WORD else KIND_NONE
            continue
        value = valences.get(word)
        if value is None:
            kind[column] = KIND_WORD if family == KIND_WORD else KIND_NONE
            continue
        valence[column] = value
        kind[column] = KIND_LEXICON_WORD if family == KIND_WORD else family
    return valence, kind


def lexicon_features(
    rows: IntArray,
    cols: IntArray,
    n_docs: int,
    valence: FloatArray,
    kind: npt.NDArray[np.int8],
) -> FloatArray:
    """The nine figures of :data:`FEATURE_NAMES` for each review, shape ``(n_docs, 9)``.

    ``rows``/``cols`` hold one pair per n-gram occurrence, as the model's look-up returns
    them. "Words" counts the review's vocabulary words plus one (so an empty review has
    ``log(words) = 0`` and no division by zero).

    Examples
    --------
    >>> valence, kind = column_tables({"good": 0, "fit": 1}, {"good": 1.9})
    >>> f = lexicon_features(np.array([0, 0]), np.array([0, 1]), 1, valence, kind)
    >>> round(float(f[0, 0]), 4), float(f[0, 5])
    (1.097, 0.3333333333333333)
    """
    # only plain words, rated marked words and exclamation runs count (kind > 0): a minority
    # of the occurrences, so the sums below run on the few that matter (same order, same sums)
    k = kind[cols]
    counted = np.flatnonzero(k)
    rows, k = rows[counted], k[counted]
    v = valence[cols[counted]]
    ones = np.ones(len(rows))

    def total(mask: npt.NDArray[np.bool_], weights: FloatArray) -> FloatArray:
        summed = np.bincount(rows[mask], weights=weights[mask], minlength=n_docs)
        return np.asarray(summed, dtype=np.float64)

    words = total((k == KIND_WORD) | (k == KIND_LEXICON_WORD), ones) + 1.0
    rated = k == KIND_LEXICON_WORD
    positive, negative = rated & (v > 0), rated & (v < 0)
    root = np.sqrt(words)
    return np.column_stack(
        [
            total(positive, v) / root,
            total(negative, v) / root,
            total(k == KIND_NEGATED, v) / root,
            total(k == KIND_FIRST, v) / 4.0,
            total(k == KIND_LAST, v) / 4.0,
            total(positive, ones) / words,
            total(negative, ones) / words,
            np.log(words),
            np.log1p(total(k == KIND_EXCLAMATION, ones)),
        ]
    )


def lexicon_tables(
    lang: str, vocabulary: Mapping[str, int], spec: FeatureSpec
) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    """:func:`column_tables` with the shipped lexicon of ``lang`` (folded as ``spec`` folds)."""
    return column_tables(vocabulary, load_valences(lang, fold_accents=spec.fold_accents))


#: Inverse L2 strength of the stack's logistic regression (on standardised inputs).
STACK_C = 1.0


@dataclass
class Stack:
    """The logistic regression that combines the linear logit with the lexicon figures.

    ``logit = logit_weight * linear_logit + features @ feature_weights + intercept``, the
    weights being those of a logistic regression on standardised inputs, unstandardised.
    """

    logit_weight: float
    feature_weights: FloatArray
    intercept: float

    def logits(self, linear_logit: FloatArray, features: FloatArray) -> FloatArray:
        """The combined logit of each review."""
        return np.asarray(
            self.logit_weight * linear_logit + features @ self.feature_weights + self.intercept,
            dtype=np.float64,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready weights (stored in the model's metadata)."""
        return {
            "logit_weight": self.logit_weight,
            "feature_weights": [float(w) for w in self.feature_weights],
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stack:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            logit_weight=float(data["logit_weight"]),
            feature_weights=np.asarray(data["feature_weights"], dtype=np.float64),
            intercept=float(data["intercept"]),
        )


def fit_stack(linear_logit: FloatArray, features: FloatArray, labels: IntArray) -> Stack:
    """Fit the stack on out-of-fold linear logits (never on in-sample ones) and the figures.

    Examples
    --------
    >>> logit = np.array([-2.0, -1.0, 1.0, 2.0, -0.5, 0.5])
    >>> figures = np.array([[-1.0], [0.0], [0.5], [1.0], [-1.5], [1.0]])
    >>> stack = fit_stack(logit, figures, np.array([0, 0, 1, 1, 0, 1]))
    >>> bool(stack.logit_weight > 0 and stack.feature_weights[0] > 0)
    True
    """
    from sklearn.linear_model import LogisticRegression

    inputs = np.column_stack([linear_logit, features])
    mean = inputs.mean(axis=0)
    scale = inputs.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    classifier = LogisticRegression(C=STACK_C, max_iter=1000)
    classifier.fit((inputs - mean) / scale, labels)
    weights = np.asarray(classifier.coef_[0], dtype=np.float64) / scale
    intercept = float(classifier.intercept_[0]) - float(weights @ mean)
    return Stack(logit_weight=float(weights[0]), feature_weights=weights[1:], intercept=intercept)
