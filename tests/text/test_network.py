"""The neural partner of the sentiment model: NumPy inference, storage, both look-up paths."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.text.features import FeatureSpec
from manyi.text.network import NetworkSpec, fit_network, frequent_columns
from manyi.text.normalize import normalize_text
from manyi.text.sentiment import SentimentModel
from manyi.text.vectorize import string_columns

SPEC = NetworkSpec(columns=400, hidden=8, alpha=1e-4, epochs=5, weight=0.4)


@pytest.fixture(scope="module")
def zh_sample() -> pd.DataFrame:
    return pd.read_csv(sample_path("reviews_zh"))


@pytest.fixture(scope="module")
def model(zh_sample: pd.DataFrame) -> SentimentModel:
    return SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0, network=SPEC).fit(
        zh_sample["review"].tolist(), zh_sample["label"].to_numpy()
    )


def test_the_network_logit_equals_scikit_learns_network_on_the_same_inputs(
    zh_sample: pd.DataFrame,
) -> None:
    # given the TF-IDF matrix of the sample and a network fitted on it
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neural_network import MLPClassifier

    x = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True).fit_transform(
        zh_sample["review"]
    )
    labels = zh_sample["label"].to_numpy()
    network = fit_network(x, labels, SPEC)
    # when its arrays predict from the non-zero entries (sorted by row)
    coo = x.tocsr().tocoo()
    logits = network.logits(
        coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, x.shape[0], x.shape[1]
    )
    # then they are scikit-learn's logits from the same fit (first layer rounded to float16)
    columns = frequent_columns(x, SPEC.columns)
    reference = MLPClassifier(
        hidden_layer_sizes=(8,), alpha=1e-4, batch_size=128, max_iter=5, random_state=8
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(x.tocsr()[:, columns].astype(np.float32), labels)
    p = reference.predict_proba(x.tocsr()[:, columns].astype(np.float32))[:, 1]
    expected = np.log(p / (1 - p))
    assert len(columns) == SPEC.columns
    np.testing.assert_allclose(logits, expected, atol=0.02)
    assert np.mean((logits >= 0) == (expected >= 0)) > 0.99


def test_a_model_with_a_network_saves_loads_and_predicts_the_same(
    model: SentimentModel, zh_sample: pd.DataFrame, saved_and_loaded: Callable[..., Any]
) -> None:
    # given a fitted model with a network; when it is saved and loaded
    meta, loaded = saved_and_loaded(model)
    texts = zh_sample["review"].tolist()
    # then the settings and the predictions survive (coefficients are stored as float32)
    assert meta["params"]["network"] == SPEC.to_dict()
    assert loaded.network == SPEC
    assert loaded.network_ is not None
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    assert loaded.predict(texts).tolist() == model.predict(texts).tolist()


def test_the_network_changes_the_linear_models_probabilities(
    model: SentimentModel, zh_sample: pd.DataFrame
) -> None:
    # given the same model without its network
    texts = zh_sample["review"].tolist()[:200]
    with_network = model.predict_proba(texts)
    network = model.network_
    model.network_ = None
    try:
        linear_part = model.predict_proba(texts)
    finally:
        model.network_ = network
    # then the network moved the probabilities, but empty text still gets exactly 0.5
    assert np.abs(with_network - linear_part).max() > 0.01
    assert model.predict_proba(["", "ᚠᚢᚦ"]).tolist() == [0.5, 0.5]


def test_both_look_up_paths_give_the_same_probabilities_with_a_network(
    model: SentimentModel, zh_sample: pd.DataFrame
) -> None:
    docs = [normalize_text(t) for t in zh_sample["review"]]
    rows, cols = string_columns(docs, model.features, model.vocabulary_)
    np.testing.assert_array_equal(
        model.probabilities_of_columns(rows, cols, len(docs)), model.predict_proba_normalized(docs)
    )
