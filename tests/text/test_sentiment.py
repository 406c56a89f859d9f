"""The sentiment model: estimator contract, the NumPy inference path, the shipped models."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from manyi.data.samples import sample_path
from manyi.text.corpora import read_corpus
from manyi.text.features import FeatureSpec, extract_features
from manyi.text.normalize import normalize_text
from manyi.text.sentiment import (
    LANGUAGES,
    LabelNoiseSpec,
    ModelNotFittedError,
    SentimentModel,
    load_model,
    three_way,
)
from manyi.text.training import Evaluation, evaluate_predictions


@pytest.fixture(scope="module")
def zh_sample() -> pd.DataFrame:
    return pd.read_csv(sample_path("reviews_zh"))


def _small_model(zh_sample: pd.DataFrame) -> SentimentModel:
    return SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0).fit(
        zh_sample["review"].tolist(), zh_sample["label"].to_numpy()
    )


def test_constructor_only_stores_parameters_and_clone_copies_them() -> None:
    model = SentimentModel("en", FeatureSpec(word=(1, 2)), min_df=3, C=0.5, threshold="cv")
    assert model.get_params() == {
        "lang": "en", "features": FeatureSpec(word=(1, 2)), "min_df": 3, "C": 0.5,
        "nb_alpha": 1.0, "plain_C": None, "threshold": "cv", "network": None, "lexicon": False,
        "words": None, "label_noise": None, "sentences": False,
    }  # fmt: skip
    assert not hasattr(model, "coef_")
    assert clone(model).get_params() == model.get_params()


def test_fit_returns_self_and_sets_attributes_ending_in_underscore(
    zh_sample: pd.DataFrame,
) -> None:
    model = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0)
    fitted = model.fit(zh_sample["review"].tolist(), zh_sample["label"].to_numpy())
    assert fitted is model
    assert len(model.coef_) == len(model.idf_) == len(model.vocabulary_)
    assert model.threshold_ == 0.5


def test_numpy_inference_equals_the_scikit_learn_pipeline(zh_sample: pd.DataFrame) -> None:
    # given a model fitted on the bundled reviews
    from sklearn.feature_extraction.text import TfidfVectorizer

    model = _small_model(zh_sample)
    spec = model.features
    docs = [normalize_text(t) for t in zh_sample["review"]]
    # when scikit-learn builds the same TF-IDF matrix from the fitted vocabulary and IDF
    vectorizer = TfidfVectorizer(
        analyzer=lambda d: extract_features(d, spec),
        sublinear_tf=True,
        vocabulary=model.vocabulary_,
    )
    vectorizer.fit(docs[:10])
    vectorizer.idf_ = model.idf_
    expected = 1 / (1 + np.exp(-(vectorizer.transform(docs) @ model.coef_ + model.intercept_)))
    # then the hand-written NumPy path gives the same probabilities
    np.testing.assert_allclose(model.predict_proba(zh_sample["review"]), expected, rtol=1e-9)


def test_the_plain_partner_is_averaged_with_the_nb_model_in_logit_space(
    zh_sample: pd.DataFrame,
) -> None:
    # given the bundled reviews and three models on the same features
    texts = zh_sample["review"].tolist()
    labels = zh_sample["label"].to_numpy()
    spec = FeatureSpec(char=(1, 2))
    nb = SentimentModel("zh", spec, min_df=2, C=2.0).fit(texts, labels)
    plain = SentimentModel("zh", spec, min_df=2, C=5.0, nb_alpha=None).fit(texts, labels)
    both = SentimentModel("zh", spec, min_df=2, C=2.0, plain_C=5.0).fit(texts, labels)

    # then the ensemble is one linear model whose logit is the mean of the two logits
    def logit(p: np.ndarray) -> np.ndarray:
        return np.log(p / (1 - p))

    np.testing.assert_allclose(
        logit(both.predict_proba(texts)),
        (logit(nb.predict_proba(texts)) + logit(plain.predict_proba(texts))) / 2,
        rtol=1e-9,
    )
    assert both.coef_.shape == nb.coef_.shape


def test_plain_pickle_round_trip_predicts_the_same(zh_sample: pd.DataFrame) -> None:
    model = _small_model(zh_sample)
    again = pickle.loads(pickle.dumps(model))
    texts = zh_sample["review"].head(50).tolist()
    np.testing.assert_array_equal(again.predict_proba(texts), model.predict_proba(texts))


def test_saved_files_load_back_to_float32_precision(
    zh_sample: pd.DataFrame, tmp_path: Path
) -> None:
    model = _small_model(zh_sample)
    model.set_params(plain_C=3.0).fit(zh_sample["review"].tolist(), zh_sample["label"].to_numpy())
    paths = model.save(tmp_path, metadata={"note": "test"})
    meta = json.loads(paths[1].read_text("utf-8"))
    loaded = SentimentModel.from_files(paths[0], meta)
    texts = zh_sample["review"].tolist()
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-5)
    assert meta["note"] == "test"
    assert loaded.vocabulary_ == model.vocabulary_
    assert loaded.get_params() == model.get_params()


@pytest.mark.parametrize("text", ["", None, "𓀀𓀁", float("nan")])
def test_text_without_known_features_gets_exactly_one_half(text: object) -> None:
    # (punctuation alone is a feature: "..." leans negative in Chinese reviews; analyse()
    # calls such text language "unknown" and never asks a model)
    assert load_model("zh").predict_proba([text]).tolist() == [0.5]


def test_fit_refuses_bad_input() -> None:
    model = SentimentModel("en", FeatureSpec(word=(1, 1)), min_df=1)
    with pytest.raises(ValueError, match="both classes"):
        model.fit(["good", "great"], [1, 1])
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        model.fit(["good", "bad"], [1])
    with pytest.raises(ValueError, match="0 \\(negative\\) or 1"):
        model.fit(["good", "bad"], [5, 1])
    assert not hasattr(model, "coef_")


def test_an_unfitted_model_says_how_to_get_a_fitted_one() -> None:
    with pytest.raises(ModelNotFittedError, match="load_model"):
        SentimentModel("en", FeatureSpec(word=(1, 1))).predict(["good"])


def test_cv_threshold_is_folded_into_the_intercept(zh_sample: pd.DataFrame) -> None:
    texts = zh_sample["review"].tolist()
    labels = zh_sample["label"].to_numpy()
    model = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, threshold="cv")
    model.fit(texts, labels)
    plain = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2).fit(texts, labels)
    # p >= 0.5 under the shifted intercept is p >= threshold_ under the plain one
    np.testing.assert_array_equal(
        model.predict(texts), (plain.predict_proba(texts) >= model.threshold_).astype(int)
    )


def test_three_way_uses_a_closed_neutral_band() -> None:
    assert [three_way(p) for p in (0.34, 0.35, 0.5, 0.65, 0.66)] == [
        "negative", "neutral", "neutral", "neutral", "positive",
    ]  # fmt: skip


def test_the_shipped_models_are_small_and_load_from_the_package() -> None:
    from importlib import resources

    folder = resources.files("manyi.text.models")
    sizes = [
        len((folder / f"{lang}.{ext}").read_bytes())
        for lang in LANGUAGES
        for ext in ("npz", "json")
    ]
    total = sum(sizes)
    assert total <= 20 * 1024 * 1024
    assert {load_model(lang).lang for lang in LANGUAGES} == set(LANGUAGES)


def test_label_noise_down_weights_reviews_whose_own_label_is_unlikely_out_of_fold(
    zh_sample: pd.DataFrame, saved_and_loaded: Callable[..., Any]
) -> None:
    # given the bundled reviews with five labels flipped (reviews the model is sure about)
    texts = zh_sample["review"].tolist()
    labels = zh_sample["label"].to_numpy().copy()
    sure = np.argsort(-np.abs(_small_model(zh_sample).predict_proba(texts) - 0.5))[:5]
    labels[sure] = 1 - labels[sure]
    spec = LabelNoiseSpec(below=0.1, weight=0.2)
    # when a model is fitted with label-noise down-weighting, and once more
    model = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0, label_noise=spec).fit(
        texts, labels
    )
    again = clone(model).fit(texts, labels)
    # then some reviews were down-weighted, deterministically, and the model differs from
    # the unweighted one
    plain = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0).fit(texts, labels)
    assert model.n_downweighted_ > 0
    assert np.array_equal(model.coef_, again.coef_)
    assert not np.allclose(model.coef_, plain.coef_)
    # and the setting is stored with the model and read back
    meta, loaded = saved_and_loaded(model)
    assert meta["params"]["label_noise"] == {"below": 0.1, "weight": 0.2}
    assert loaded.label_noise == spec
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-5)


def test_label_noise_weights_and_their_limits() -> None:
    spec = LabelNoiseSpec(below=0.02, weight=0.2)
    logits = np.array([-5.0, 5.0, -3.0, 3.0, 4.0])
    assert spec.weights(np.array([1, 1, 0, 0, 0]), logits).tolist() == [0.2, 1.0, 1.0, 1.0, 0.2]
    with pytest.raises(ValueError, match="label_noise"):
        SentimentModel(
            "en", FeatureSpec(word=(1, 1)), min_df=1, threshold="cv", label_noise=spec
        ).fit(["good", "bad", "fine", "awful"], [1, 0, 1, 0])


def test_weighted_training_with_unit_weights_is_the_unweighted_training(
    zh_sample: pd.DataFrame,
) -> None:
    from scipy import sparse

    from manyi.text.sentiment import _nb_ratio

    texts = [normalize_text(t) for t in zh_sample["review"].tolist()]
    labels = zh_sample["label"].to_numpy()
    model = SentimentModel("zh", FeatureSpec(char=(1, 2)), min_df=2, C=2.0, plain_C=5.0)
    unweighted = model._fit_arrays(texts, labels)
    weighted = model._fit_arrays(texts, labels, np.ones(len(labels)))
    assert np.allclose(unweighted[2], weighted[2])
    assert np.isclose(unweighted[3], weighted[3])
    x = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert np.allclose(
        _nb_ratio(sparse.csr_matrix(x), np.array([1, 0, 0]), 1.0),
        _nb_ratio(sparse.csr_matrix(x), np.array([1, 0, 0]), 1.0, np.ones(3)),
    )


def test_the_shipped_chinese_model_on_the_bundled_held_out_sample(
    zh_sample: pd.DataFrame,
) -> None:
    # the sample was cut from the held-out part, so the model never saw these reviews
    p = load_model("zh").predict_proba(zh_sample["review"])
    assert evaluate_predictions(zh_sample["label"], p).accuracy >= 0.93


def test_the_shipped_english_model_on_the_bundled_held_out_sample() -> None:
    frame = pd.read_csv(sample_path("reviews_en")).dropna(subset=["Review Text"])
    frame = frame[frame["Rating"] != 3]
    texts = (frame["Title"].fillna("") + ". " + frame["Review Text"]).tolist()
    p = load_model("en").predict_proba(texts)
    result = evaluate_predictions((frame["Rating"] >= 4).astype(int), p)
    assert result.macro_f1 >= 0.85
    assert result.recall_negative >= 0.80


@lru_cache(maxsize=len(LANGUAGES))
def _held_out_figures(lang: str, data_dir: Path) -> Evaluation:
    """The shipped model measured on the held-out part (shared by the slow tests below)."""
    held = read_corpus(lang, data_dir).holdout()
    p = load_model(lang).predict_proba(held["text"].tolist())
    return evaluate_predictions(held["label"], p)


#: Lowest per-class held-out recall allowed. English: the fifth round's lexicon stack raised
#: macro-F1 (0.9019 -> 0.9048) while negative recall fell from 0.871 to 0.840 (the threshold
#: is the cross-validated macro-F1 one; docs/text-model-card.md records the trade-off).
RECALL_FLOOR: dict[str, float] = {"zh": 0.85, "en": 0.83, "pt": 0.85}


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shipped_models_reproduce_their_model_card_figures(
    lang: str, shared_data: Path
) -> None:
    # given the figures stored with the model; when it predicts the held-out part
    recorded = load_model(lang).metadata_["holdout_metrics"]
    measured = _held_out_figures(lang, shared_data)
    # then the figures are the recorded ones (float32 storage moves no prediction), and
    # neither class was given up for the headline figure
    assert measured.to_dict() == recorded
    assert min(measured.recall_negative, measured.recall_positive) >= RECALL_FLOOR[lang]


#: Issue 8: the held-out figure each shipped model must reach.
TARGETS: dict[str, tuple[str, float]] = {
    "zh": ("accuracy", 0.94),
    "en": ("macro_f1", 0.91),
    "pt": ("macro_f1", 0.93),
}
#: Targets the shipped models do not reach yet (docs/text-model-card.md gives the figures and
#: what was tried). Strict: once a retrained model reaches one, the test says so.
#: (Chinese reached 0.94 in the eighth round: 0.9401, with label-noise down-weighting.)
MISSED = {
    "en": "held-out macro-F1 0.9048 < 0.91",
    "pt": "held-out macro-F1 0.9233 < 0.93",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "lang",
    [
        pytest.param(lang, marks=pytest.mark.xfail(strict=True, reason=MISSED[lang]))
        if lang in MISSED
        else lang
        for lang in LANGUAGES
    ],
)
def test_the_shipped_models_meet_the_issue_8_targets_on_the_held_out_part(
    lang: str, shared_data: Path
) -> None:
    # given the held-out part (no setting was chosen on it); when the shipped model predicts it
    measured = _held_out_figures(lang, shared_data)
    # then the issue's figure is reached
    metric, target = TARGETS[lang]
    assert getattr(measured, metric) >= target, measured
