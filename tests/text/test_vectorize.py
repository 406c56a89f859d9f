"""The vectorised feature look-up gives exactly what the string path gives."""

from __future__ import annotations

import doctest
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.text import features, vectorize
from manyi.text.corpora import read_corpus
from manyi.text.features import FeatureSpec, extract_features
from manyi.text.network import NetworkSpec
from manyi.text.normalize import normalize_text
from manyi.text.segment import WordBlockSpec
from manyi.text.sentiment import LANGUAGES, SentimentModel, load_model
from manyi.text.vectorize import FeatureIndex, string_columns

#: Texts at the edges: empty, one character, emoji, punctuation only, unknown script, a lone
#: surrogate, white space after a final full stop, apostrophes next to a contrast word
#: (where a clause split and a single scan could disagree), digits glued to words, and a
#: very long text.
EDGE_TEXTS = [
    "",
    "好",
    "a",
    "!",
    "😊",
    "😡😡 差评",
    "...",
    "!!??,,",
    "ᚠᚢᚦ",
    "\ud800好",
    "great. ",
    "love it!  ",
    "huge. . ",
    "o'but no way, not good",
    "no'but good",
    "but'no good at all",
    "not 1but good",
    "isn't it? no. never mind",
    "não gostei, mas ok. nao recomendo",
    "Não é ótimo: é PÉSSIMO!!!",
    "物流很快，但是质量不太好。。。不推荐",
    "5'8\". runs small. returning it",
    "neg_good \x01好 \x02love \x03it",
    "快递 fast 😊 très bien 2x",
    "质量很好，物流也快 " * 400,
    "Not worth the price, very thin. " * 300,
]


def _string_probabilities(model: SentimentModel, docs: list[str]) -> np.ndarray:
    rows, cols = string_columns(docs, model.features, model.vocabulary_)
    words = model.word_columns_of_strings(docs) if model.words is not None else None
    sentences = model.sentence_columns_of_strings(docs) if model.sentences else None
    return model.probabilities_of_columns(
        rows, cols, len(docs), word_columns=words, sentence_columns=sentences
    )


def _assert_same_columns(index: FeatureIndex, docs: list[str], model: SentimentModel) -> None:
    fast = sorted(zip(*(a.tolist() for a in index.columns(docs)), strict=True))
    slow = sorted(
        zip(*(a.tolist() for a in string_columns(docs, model.features, model.vocabulary_)),
            strict=True)
    )  # fmt: skip
    assert fast == slow


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shipped_models_are_indexed_for_the_vectorised_path(lang: str) -> None:
    assert load_model(lang).feature_index_ is not None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_edge_cases_give_the_same_features_and_probabilities_on_both_paths(lang: str) -> None:
    # given a shipped model and texts at the edges (normalised, and also raw)
    model = load_model(lang)
    assert model.feature_index_ is not None
    for docs in ([normalize_text(t) for t in EDGE_TEXTS], EDGE_TEXTS):
        # when both paths look the features up
        # then they find the same (row, column) pairs and the same probabilities
        _assert_same_columns(model.feature_index_, docs, model)
        np.testing.assert_array_equal(
            model.predict_proba_normalized(docs), _string_probabilities(model, docs)
        )
    # and text without a known n-gram still gets exactly one half
    assert model.predict_proba(["", "ᚠᚢᚦ"]).tolist() == [0.5, 0.5]


def test_every_feature_family_is_found_as_the_strings_find_it() -> None:
    # given a model with all families at once, fitted on the bundled English reviews
    frame = pd.read_csv(sample_path("reviews_en")).dropna(subset=["Review Text"]).head(400)
    texts = (frame["Title"].fillna("") + ". " + frame["Review Text"]).tolist()
    spec = FeatureSpec(
        char=(1, 3),
        char_wb=(2, 4),
        word=(1, 3),
        fold_accents=True,
        mark_negation=True,
        mark_position=True,
    )
    model = SentimentModel("en", spec, min_df=2, C=2.0).fit(texts, (frame["Rating"] >= 4))
    assert model.feature_index_ is not None
    # when both paths read the reviews and the edge cases
    docs = [normalize_text(t) for t in [*texts, *EDGE_TEXTS]]
    # then they agree exactly
    _assert_same_columns(model.feature_index_, docs, model)
    np.testing.assert_array_equal(
        model.predict_proba_normalized(docs), _string_probabilities(model, docs)
    )


def test_a_vocabulary_without_its_prefixes_is_still_found() -> None:
    # (a min_df vocabulary holds every prefix of its n-grams, and the look-up then skips
    # n-grams whose prefix is unknown; a vocabulary without them must not lose "很好")
    spec = FeatureSpec(char=(1, 2))
    index = FeatureIndex.build({"\x01很好": 0, "\x01好": 1}, spec)
    assert index is not None
    rows, cols = index.columns(["很好", "好很好"])
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [
        (0, 0), (0, 1), (1, 0), (1, 1), (1, 1),
    ]  # fmt: skip


def test_a_vocabulary_whose_keys_would_overflow_falls_back_to_the_strings() -> None:
    # given 7,000 distinct characters: 7001 ** 5 does not fit in 63 bits
    spec = FeatureSpec(char=(1, 5))
    vocabulary = {"\x01" + chr(0x4E00 + i): i for i in range(7000)}
    # then no index is built, and a model with that vocabulary predicts on the string path
    assert FeatureIndex.build(vocabulary, spec) is None
    model = SentimentModel("zh", spec)
    model.vocabulary_ = vocabulary
    model.feature_index_ = None
    model.idf_ = np.ones(7000)
    model.coef_ = np.linspace(-1.0, 1.0, 7000)
    model.intercept_ = 0.0
    p = model.predict_proba([chr(0x4E00), chr(0x4E00 + 6999), "x"])
    np.testing.assert_allclose(p, [1 / (1 + np.exp(1.0)), 1 / (1 + np.exp(-1.0)), 0.5])


def test_a_char_wb_vocabulary_is_found_inside_padded_words() -> None:
    spec = FeatureSpec(char_wb=(2, 3), fold_accents=True)
    vocabulary = {t: i for i, t in enumerate(extract_features("não ok", spec))}
    index = FeatureIndex.build(vocabulary, spec)
    assert index is not None
    rows, cols = index.columns(["nao ok", "ok"])
    assert sorted(cols[rows == 1].tolist()) == sorted(
        vocabulary[t] for t in extract_features("ok", spec)
    )
    assert len(cols[rows == 0]) == len(extract_features("nao ok", spec))


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_both_paths_agree_on_the_held_out_reviews(lang: str, shared_data: Path) -> None:
    # given the held-out reviews of each language (with three-star ones), normalised
    held = read_corpus(lang, shared_data).holdout(include_excluded=True)
    docs = [normalize_text(t) for t in held["text"]]
    model = load_model(lang)
    # when the vectorised path and the string path score them
    fast = model.predict_proba_normalized(docs)
    slow = _string_probabilities(model, docs)
    # then the probabilities are the same (the same pairs give the same sums in the same order)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)
    assert np.array_equal(fast, slow)


def test_the_docstring_examples_of_the_look_up_and_the_features_run() -> None:
    for module in (vectorize, features):
        result = doctest.testmod(module)
        assert result.attempted > 0
        assert result.failed == 0


def test_a_word_block_model_is_the_same_on_both_paths_and_after_saving(
    saved_and_loaded: Callable[..., Any],
) -> None:
    # given a Chinese model with a word block, fitted on the bundled reviews
    frame = pd.read_csv(sample_path("reviews_zh"))
    texts, labels = frame["review"].tolist(), frame["label"].to_numpy()
    words = WordBlockSpec(ngram=(1, 2), min_df=2, C=4.0, weight=0.4)
    model = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0, words=words)
    model.fit(texts, labels)
    assert model.word_index_ is not None
    # when the vectorised path, the string path and the saved-and-loaded model score
    docs = [normalize_text(t) for t in [*texts, *EDGE_TEXTS]]
    fast = model.predict_proba_normalized(docs)
    slow = _string_probabilities(model, docs)
    _, loaded = saved_and_loaded(model)
    # then both paths agree exactly, and the files keep the model to float32 precision
    assert np.array_equal(fast, slow)
    assert loaded.words == words
    np.testing.assert_allclose(loaded.predict_proba_normalized(docs), fast, rtol=1e-5)
    # and the word block is a member: without it the scores differ
    plain = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0).fit(texts, labels)
    assert not np.allclose(plain.predict_proba_normalized(docs), fast)


def test_a_word_block_and_a_network_do_not_go_together() -> None:
    model = SentimentModel(
        "zh",
        FeatureSpec(char=(1, 2)),
        words=WordBlockSpec(),
        network=NetworkSpec(columns=10, hidden=2, alpha=1e-4, epochs=1, weight=0.2),
    )
    with pytest.raises(ValueError, match="word block or a network"):
        model.fit(["很好", "很差"], [1, 0])
