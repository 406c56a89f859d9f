"""Valence-lexicon figures and the stack that combines them with the linear logit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from manyi.text.features import FeatureSpec
from manyi.text.lexicon import (
    FEATURE_NAMES,
    KIND_EXCLAMATION,
    KIND_FIRST,
    KIND_LAST,
    KIND_LEXICON_WORD,
    KIND_NEGATED,
    KIND_NONE,
    KIND_WORD,
    column_tables,
    fit_stack,
    lexicon_features,
    load_valences,
)
from manyi.text.normalize import normalize_text
from manyi.text.sentiment import SentimentModel
from manyi.text.vectorize import string_columns

SPEC = FeatureSpec(word=(1, 2), mark_negation=True, mark_position=True)


@pytest.fixture(scope="module")
def model(en_sample: pd.DataFrame) -> SentimentModel:
    return SentimentModel("en", SPEC, min_df=2, C=4.0, threshold="cv", lexicon=True).fit(
        en_sample["text"].tolist(), en_sample["label"].to_numpy()
    )


def test_the_shipped_lexicons_hold_vader_and_leia_valences() -> None:
    english = load_valences("en")
    portuguese = load_valences("pt", fold_accents=True)
    assert (english["love"], english["horrible"]) == (3.2, -2.5)
    # LeIA lists "otimo" twice (3.1 and 1.5, two English entries translated alike): the mean
    assert (portuguese["otimo"], portuguese["ruim"]) == (2.3, -2.6)
    assert (len(english), len(portuguese)) == (7209, 4984)
    with pytest.raises(ValueError, match="no valence lexicon"):
        load_valences("zh")


def test_every_vocabulary_column_gets_its_kind_and_valence() -> None:
    vocabulary = {
        "good": 0, "fit": 1, "neg_good": 2, "\x02good": 3, "\x03bad": 4,
        "!!": 5, "good fit": 6, "\x02fit": 7, "neg_fit": 8, "\x01goo": 9,
    }  # fmt: skip
    valence, kind = column_tables(vocabulary, {"good": 1.9, "bad": -2.5})
    assert kind.tolist() == [
        KIND_LEXICON_WORD, KIND_WORD, KIND_NEGATED, KIND_FIRST, KIND_LAST,
        KIND_EXCLAMATION, KIND_NONE, KIND_NONE, KIND_NONE, KIND_NONE,
    ]  # fmt: skip
    assert valence.tolist() == [1.9, 0, 1.9, 1.9, -2.5, 0, 0, 0, 0, 0]


def test_the_figures_of_a_hand_checked_review() -> None:
    # "good fit. not good !! bad" with the vocabulary below: words good, fit, good, bad (+1);
    # negated: good; first sentence: good; last sentence: bad; one exclamation run
    vocabulary = {
        "good": 0,
        "fit": 1,
        "bad": 2,
        "neg_good": 3,
        "\x02good": 4,
        "\x03bad": 5,
        "!!": 6,
    }
    valence, kind = column_tables(vocabulary, {"good": 1.9, "bad": -2.5})
    cols = np.array([0, 1, 0, 2, 3, 4, 5, 6])
    figures = lexicon_features(np.zeros(len(cols), dtype=np.int64), cols, 2, valence, kind)
    root = np.sqrt(5.0)
    expected = [
        3.8 / root,
        -2.5 / root,
        1.9 / root,
        1.9 / 4,
        -2.5 / 4,
        2 / 5,
        1 / 5,
        np.log(5),
        np.log(2),
    ]
    np.testing.assert_allclose(figures[0], expected)
    # a review without any n-gram gets zeros and log(1) = 0
    assert figures[1].tolist() == [0.0] * len(FEATURE_NAMES)


def test_the_stack_is_scikit_learns_regression_with_the_standardisation_folded_in() -> None:
    rng = np.random.default_rng(8)
    logit = rng.normal(size=300)
    figures = rng.normal(size=(300, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]
    labels = (logit + figures[:, 0] + rng.normal(size=300) > 0).astype(np.int64)
    stack = fit_stack(logit, figures, labels)
    inputs = np.column_stack([logit, figures])
    reference = LogisticRegression(C=1.0, max_iter=1000).fit(
        (inputs - inputs.mean(0)) / inputs.std(0), labels
    )
    np.testing.assert_allclose(
        stack.logits(logit, figures),
        reference.decision_function((inputs - inputs.mean(0)) / inputs.std(0)),
        atol=1e-8,
    )


def test_a_model_with_the_lexicon_saves_loads_and_predicts_the_same(
    model: SentimentModel, en_sample: pd.DataFrame, saved_and_loaded: Callable[..., Any]
) -> None:
    # given a fitted model with the lexicon stack; when it is saved and loaded
    meta, loaded = saved_and_loaded(model)
    texts = en_sample["text"].tolist()
    # then the stack and the column tables survive (valences are stored as float32)
    assert meta["params"]["lexicon"] is True
    assert loaded.stack_ is not None
    assert model.stack_ is not None
    assert loaded.stack_.to_dict() == model.stack_.to_dict()
    assert loaded.lexicon_kind_ is not None
    assert loaded.lexicon_kind_.tolist() == np.asarray(model.lexicon_kind_).tolist()
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    assert loaded.predict(texts).tolist() == model.predict(texts).tolist()


def test_the_threshold_is_folded_into_the_stack_and_empty_text_stays_one_half(
    model: SentimentModel, en_sample: pd.DataFrame
) -> None:
    texts = en_sample["text"].tolist()
    stack = model.stack_
    assert stack is not None
    shift = np.log(model.threshold_ / (1 - model.threshold_))
    stack.intercept += shift
    try:
        raw = model.predict_proba(texts)
    finally:
        stack.intercept -= shift
    # p >= 0.5 under the shifted stack is p >= threshold_ under the raw one
    assert model.predict(texts).tolist() == (raw >= model.threshold_).astype(int).tolist()
    assert model.predict_proba(["", "ᚠᚢᚦ"]).tolist() == [0.5, 0.5]
    assert 0.0 < model.cv_macro_f1_ <= 1.0


def test_both_look_up_paths_give_the_same_probabilities_with_the_lexicon(
    model: SentimentModel, en_sample: pd.DataFrame
) -> None:
    docs = [normalize_text(t) for t in en_sample["text"]]
    rows, cols = string_columns(docs, model.features, model.vocabulary_)
    np.testing.assert_array_equal(
        model.probabilities_of_columns(rows, cols, len(docs)), model.predict_proba_normalized(docs)
    )


def test_the_lexicon_needs_a_language_with_a_lexicon() -> None:
    model = SentimentModel("zh", FeatureSpec(char=(1, 2)), lexicon=True)
    with pytest.raises(ValueError, match="no valence lexicon"):
        model.fit(["很好", "很差"], [1, 0])
    assert not hasattr(model, "coef_")
