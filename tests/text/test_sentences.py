"""Sentence scores of the linear model as inputs of the lexicon stack (issue 8, ninth round)."""

from __future__ import annotations

import doctest
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from manyi.text import sentences
from manyi.text.features import FeatureSpec, extract_features
from manyi.text.lexicon import FEATURE_NAMES
from manyi.text.normalize import normalize_text
from manyi.text.sentences import SENTENCE_FEATURE_NAMES, sentence_figures, split_sentences
from manyi.text.sentiment import SentimentModel, _sentence_figures, load_model
from manyi.text.vectorize import string_columns

SPEC = FeatureSpec(word=(1, 2), mark_negation=True, mark_position=True)
EDGE_TEXTS = [
    "",
    "!",
    "ᚠᚢᚦ",
    "great. ",
    "huge. . ",
    "Too big. Love the colour!  Returning it.",
    "not as cute as the pictures. but the fabric is great",
    "5'8\". runs small. returning it",
    "Not worth the price, very thin. " * 300,
]


@pytest.fixture(scope="module")
def model(en_sample: pd.DataFrame) -> SentimentModel:
    return SentimentModel(
        "en", SPEC, min_df=2, C=4.0, threshold="cv", lexicon=True, sentences=True
    ).fit(en_sample["text"].tolist(), en_sample["label"].to_numpy())


def test_split_sentences_keeps_the_title_first_and_drops_blank_pieces() -> None:
    # given a titled review, a blank text, white space after a final full stop and a lone dot
    docs = ["Runs small. Love it!  Returning it.", "", "great. ", "huge. . ok"]
    # when it is split
    found, owner = split_sentences(docs)
    # then every non-blank sentence is kept in order with its text's number
    assert found == ["Runs small.", "Love it!", "Returning it.", "great.", "huge.", ".", "ok"]
    assert owner.tolist() == [0, 0, 0, 2, 3, 3, 3]


def test_sentence_figures_are_min_max_mean_last_negative_share_and_log_count() -> None:
    # given three reviews: two scored sentences and an unscored one; none scored; one scored
    logits = np.array([2.0, -1.0, 9.0, 5.0, 0.5])
    scored = np.array([True, True, False, False, True])
    owner = np.array([0, 0, 0, 1, 2])
    review = np.array([1.5, 0.3, -0.7])
    # when the figures are computed
    figures = sentence_figures(logits, scored, owner, review)
    # then unscored sentences count nowhere, and a review without one falls back to its logit
    assert figures.shape == (3, len(SENTENCE_FEATURE_NAMES))
    assert figures[0].tolist() == [-1.0, 2.0, 0.5, -1.0, 0.5, np.log(3.0)]
    assert figures[1].tolist() == [0.3, 0.3, 0.3, 0.3, 0.0, 0.0]
    assert figures[2].tolist() == [0.5, 0.5, 0.5, 0.5, 0.0, np.log(2.0)]
    # and no sentence at all gives the fallback everywhere
    empty = sentence_figures(np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64),
                             review)  # fmt: skip
    assert empty[:, :4].tolist() == [[x] * 4 for x in review.tolist()]


def _linear_logit(model: SentimentModel, text: str) -> float:
    """The linear model's logit of one text, from its n-gram strings (an independent reference)."""
    counts = Counter(g for g in extract_features(text, model.features) if g in model.vocabulary_)
    cols = np.array([model.vocabulary_[g] for g in counts], dtype=np.int64)
    weights = (1.0 + np.log(np.array(list(counts.values()), dtype=np.float64))) * model.idf_[cols]
    return float(weights @ model.coef_[cols] / np.linalg.norm(weights) + model.intercept_)


def test_each_sentence_is_scored_alone_by_the_linear_model(model: SentimentModel) -> None:
    # given a review of three sentences, each with known words
    doc = normalize_text("Love the colour. The fabric is cheap and thin. Returning it.")
    parts, _ = split_sentences([doc])
    expected = [_linear_logit(model, s) for s in parts]
    # when the model's sentence figures are computed on the string path
    columns = model.sentence_columns_of_strings([doc])
    figures = _sentence_figures(columns, model.idf_, model.coef_, model.intercept_, np.zeros(1))
    # then the sentence figures are those of the sentences scored as reviews of their own
    np.testing.assert_allclose(
        figures[0, :4], [min(expected), max(expected), np.mean(expected), expected[-1]], atol=1e-12
    )
    assert figures[0, 4] == np.mean(np.array(expected) < 0)
    assert figures[0, 5] == np.log(4.0)


def test_the_stack_gets_the_sentence_figures_after_the_lexicon_figures(
    model: SentimentModel,
) -> None:
    assert model.stack_ is not None
    assert len(model.stack_.feature_weights) == len(FEATURE_NAMES) + len(SENTENCE_FEATURE_NAMES)
    assert 0.0 < model.cv_macro_f1_ <= 1.0


def test_both_look_up_paths_give_the_same_probabilities_with_sentences(
    model: SentimentModel, en_sample: pd.DataFrame
) -> None:
    # given the sample reviews and the edge cases, normalised
    docs = [normalize_text(t) for t in [*en_sample["text"], *EDGE_TEXTS]]
    # when the vectorised path and the string path score them
    fast = model.predict_proba_normalized(docs)
    rows, cols = string_columns(docs, model.features, model.vocabulary_)
    slow = model.probabilities_of_columns(
        rows, cols, len(docs), sentence_columns=model.sentence_columns_of_strings(docs)
    )
    # then the probabilities are bit-identical, and text without known n-grams stays one half
    assert np.array_equal(fast, slow)
    assert fast[len(en_sample)] == 0.5
    # and the sentence columns are needed
    with pytest.raises(ValueError, match="pass sentence_columns"):
        model.probabilities_of_columns(rows, cols, len(docs))


def test_a_model_with_sentences_saves_loads_and_predicts_the_same(
    model: SentimentModel, en_sample: pd.DataFrame, saved_and_loaded: Callable[..., Any]
) -> None:
    # given the fitted model; when it is saved and loaded
    meta, loaded = saved_and_loaded(model)
    texts = [*en_sample["text"], *EDGE_TEXTS]
    # then the option is in the params, and the predictions survive to float32 precision
    assert meta["params"]["sentences"] is True
    assert loaded.sentences is True
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    assert loaded.predict(texts).tolist() == model.predict(texts).tolist()


def test_a_model_file_without_the_option_loads_and_predicts_as_before() -> None:
    # given the shipped English model, trained before the sentence figures existed
    english = load_model("en")
    # then it has none, its stack keeps its nine lexicon figures, and the file does not list it
    assert english.sentences is False
    assert "sentences" not in english.metadata_["params"]
    assert english.stack_ is not None
    assert len(english.stack_.feature_weights) == len(FEATURE_NAMES)
    assert english.predict(["love it, fits perfectly", "cheap fabric, returning it"]).tolist() == [
        1,
        0,
    ]


def test_sentences_need_the_lexicon_stack() -> None:
    model = SentimentModel("en", SPEC, min_df=1, sentences=True)
    with pytest.raises(ValueError, match="needs lexicon=True"):
        model.fit(["love it", "awful"], [1, 0])
    assert not hasattr(model, "coef_")


def test_the_docstring_examples_of_the_sentence_figures_run() -> None:
    result = doctest.testmod(sentences)
    assert result.attempted > 0
    assert result.failed == 0
