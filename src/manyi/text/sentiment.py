"""Sentiment classifier: NB-weighted logistic regression on n-gram TF-IDF, stored as arrays.

The model is Wang & Manning's NB-SVM idea with a logistic loss: every TF-IDF feature is
scaled by its naive-Bayes log-count ratio ``r = log((p/|p|) / (q/|q|))`` before a linear
model is fitted. Optionally a second, plain logistic regression on the same (unscaled) TF-IDF
features is averaged with it in logit space: both are linear in the same normalised vector,
so the average is again one coefficient vector and costs nothing at prediction time. The two
regularise differently (the NB scaling favours rare, polarised n-grams; the plain model spreads
weight over frequent ones), and their average beat either alone in cross-validation on the
training parts. Training uses scikit-learn; the fitted model keeps only plain arrays (the
vocabulary, IDF weights, the NB-scaled coefficients and the intercept), and prediction is a
few NumPy operations, so the shipped files do not depend on the scikit-learn version and load
in a fraction of a second.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from manyi.text.features import FeatureSpec, extract_features
from manyi.text.lexicon import (
    LEXICON_LANGUAGES,
    Stack,
    fit_stack,
    lexicon_features,
    lexicon_tables,
)
from manyi.text.network import Network, NetworkSpec, fit_network
from manyi.text.normalize import NORMALIZER_VERSION, normalize_text
from manyi.text.segment import WordBlockSpec, WordIndex, word_columns_of_strings, word_features
from manyi.text.sentences import SENTENCE_FEATURE_NAMES, sentence_figures, split_sentences
from manyi.text.vectorize import FeatureIndex, IntArray, string_columns

LANGUAGES: tuple[str, ...] = ("zh", "en", "pt")
FORMAT_VERSION = 1
#: Default neutral band for the three-way result: ``low <= p_positive <= high`` is neutral.
NEUTRAL_BAND: tuple[float, float] = (0.35, 0.65)

FloatArray = npt.NDArray[np.float64]
#: The word block's arrays: vocabulary, IDF weights, coefficients (times its weight).
_WordArrays = tuple[dict[str, int], FloatArray, FloatArray]
#: The sentences of a batch for the sentence figures: the ``(rows, columns)`` of their known
#: n-grams (rows numbering the sentences) and the text each sentence belongs to.
SentenceColumns = tuple[IntArray, IntArray, IntArray]


@dataclass(frozen=True)
class LabelNoiseSpec:
    """Down-weighting of training reviews whose label looks wrong (issue 8, eighth round).

    Before the final fit, the model's own 5-fold out-of-fold probabilities on the training
    data (the same folds as the threshold search, ``random_state=8``, every member fitted
    without weights) give each review a probability of its **own** label; reviews where it is
    below ``below`` get ``weight`` in the final fit (in the naive-Bayes counts and as
    ``sample_weight`` of every logistic regression), all others weight 1. Deterministic;
    prediction is unchanged.

    Parameters
    ----------
    below : float
        Flag a review when its out-of-fold probability of its own label is below this.
    weight : float
        The flagged reviews' weight in the final fit, in [0, 1].

    Examples
    --------
    >>> LabelNoiseSpec.from_dict(LabelNoiseSpec(below=0.05).to_dict()).below
    0.05
    """

    below: float = 0.02
    weight: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelNoiseSpec:
        """Build a spec from :meth:`to_dict` output."""
        return cls(below=float(data["below"]), weight=float(data["weight"]))

    def weights(self, labels: npt.NDArray[np.int64], oof_logits: FloatArray) -> FloatArray:
        """Per-review weights from out-of-fold logits (``weight`` where flagged, else 1).

        Examples
        --------
        >>> spec = LabelNoiseSpec(below=0.02, weight=0.2)
        >>> spec.weights(np.array([1, 1, 0]), np.array([-5.0, 2.0, 5.0])).tolist()
        [0.2, 1.0, 0.2]
        """
        p_positive = _sigmoid(np.asarray(oof_logits, dtype=np.float64))
        own = np.where(labels == 1, p_positive, 1.0 - p_positive)
        return np.where(own < self.below, self.weight, 1.0)


class ModelNotFittedError(RuntimeError):
    """Raised when a model is used before ``fit`` or loading."""


class SentimentModel:
    """Binary review sentiment (negative 0 / positive 1) for one language.

    Parameters
    ----------
    lang : {"zh", "en", "pt"}
        Language the model is for (recorded in the metadata).
    features : FeatureSpec
        The n-gram families.
    min_df : int
        Keep n-grams that occur in at least this many training reviews.
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    nb_alpha : float or None
        Smoothing of the naive-Bayes log-count ratios; ``None`` fits plain TF-IDF logistic
        regression (no NB scaling).
    plain_C : float or None
        If given, also fit a plain TF-IDF logistic regression with this ``C`` and average its
        logit with the NB-weighted one (an ensemble of two linear models that collapses into
        one coefficient vector). ``None``: the NB-weighted model alone.
    threshold : float or "cv"
        Decision threshold on the probability. ``"cv"`` picks the one that maximises
        macro-F1 in 5-fold cross-validation on the training data (useful when classes are
        unbalanced); the threshold is then folded into the intercept so that
        ``p_positive >= 0.5`` means positive.
    network : NetworkSpec or None
        If given, also fit a one-hidden-layer network on the same TF-IDF vector
        (:mod:`manyi.text.network`) and average its logit with the linear model's, with
        weight ``network.weight``. ``None``: the linear model alone.
    lexicon : bool
        If true (en and pt only), also compute nine valence figures per review from the
        shipped valence lexicon (:mod:`manyi.text.lexicon`) and combine them with the linear
        logit in a small logistic regression (the *stack*), fitted on the linear model's
        5-fold out-of-fold logits on the training data.
    words : WordBlockSpec or None
        If given (for Chinese), also fit an NB-weighted logistic regression on the word
        n-grams of a dictionary segmentation (:mod:`manyi.text.segment`), normalised as a
        block of its own, and average its logit with the n-gram model's with weight
        ``words.weight``. Still linear: the two dot products are added. ``None``: no words.
    label_noise : LabelNoiseSpec or None
        If given, training reviews whose 5-fold out-of-fold probability of their own label
        is below ``label_noise.below`` get weight ``label_noise.weight`` in the final fit
        (training only; not with ``threshold="cv"``, ``lexicon`` or ``network``). ``None``:
        every review weight 1.
    sentences : bool
        If true (with ``lexicon``), also score every sentence of a review alone with the
        linear model and give the stack six figures of those sentence logits
        (:mod:`manyi.text.sentences`); the training reviews' figures come from the 5-fold
        out-of-fold models, as the stack's linear logits do. ``False``: the stack as before.

    Attributes
    ----------
    vocabulary_ : dict of str to int
    idf_ : ndarray of float
    coef_ : ndarray of float
        Logistic-regression coefficients multiplied by the NB ratios (averaged with the plain
        model's when ``plain_C`` is set).
    intercept_ : float
    network_ : Network or None
        The neural partner (its output layer already multiplied by its weight in the
        average, as ``coef_`` and ``intercept_`` are by theirs), or ``None``.
    stack_ : Stack or None
        The lexicon stack (its intercept includes the threshold), or ``None``.
    lexicon_valence_, lexicon_kind_ : ndarray or None
        Valence and kind of every vocabulary column for the lexicon figures, or ``None``.
    word_vocabulary_, word_idf_, word_coef_ : dict, ndarray, ndarray
        The word block (its coefficients already times its weight); only with ``words``.
    word_index_ : WordIndex or None
        The word vocabulary indexed for the vectorised segmentation and look-up; ``None``
        without ``words``.
    feature_index_ : FeatureIndex or None
        The vocabulary indexed for the vectorised feature look-up
        (:mod:`manyi.text.vectorize`); ``None`` where it does not fit, and prediction then
        spells the n-grams out as strings (the same result, slower).
    threshold_ : float
        The threshold chosen on the raw probability (0.5 unless ``threshold="cv"``).
    cv_macro_f1_ : float
        With ``threshold="cv"``: the macro-F1 of the 5-fold out-of-fold scores at that
        threshold (the figure the settings were compared by).
    n_downweighted_ : int
        With ``label_noise``: how many training reviews were down-weighted (0 without).
    metadata_ : dict
        For loaded models: the JSON metadata (data, split, held-out metrics).

    Examples
    --------
    >>> model = SentimentModel("en", FeatureSpec(word=(1, 2)), min_df=1, C=10.0)
    >>> model = model.fit(["love it", "great fit", "awful fabric", "poor quality"], [1, 1, 0, 0])
    >>> model.predict(["love the fit", "poor fabric"]).tolist()
    [1, 0]
    """

    def __init__(
        self,
        lang: str,
        features: FeatureSpec,
        *,
        min_df: int = 2,
        C: float = 4.0,  # noqa: N803 - scikit-learn's name for it
        nb_alpha: float | None = 1.0,
        plain_C: float | None = None,  # noqa: N803 - see C
        threshold: float | Literal["cv"] = 0.5,
        network: NetworkSpec | None = None,
        lexicon: bool = False,
        words: WordBlockSpec | None = None,
        label_noise: LabelNoiseSpec | None = None,
        sentences: bool = False,
    ) -> None:
        self.lang = lang
        self.features = features
        self.min_df = min_df
        self.C = C
        self.nb_alpha = nb_alpha
        self.plain_C = plain_C
        self.threshold = threshold
        self.network = network
        self.lexicon = lexicon
        self.words = words
        self.label_noise = label_noise
        self.sentences = sentences

    metadata_: dict[str, Any]
    intercept_: float
    stack_: Stack | None
    lexicon_valence_: FloatArray | None
    lexicon_kind_: npt.NDArray[np.int8] | None
    word_vocabulary_: dict[str, int] | None
    word_idf_: FloatArray | None
    word_coef_: FloatArray | None
    word_index_: WordIndex | None
    cv_macro_f1_: float
    n_downweighted_: int

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn's ``clone`` uses them)."""
        return {
            "lang": self.lang,
            "features": self.features,
            "min_df": self.min_df,
            "C": self.C,
            "nb_alpha": self.nb_alpha,
            "plain_C": self.plain_C,
            "threshold": self.threshold,
            "network": self.network,
            "lexicon": self.lexicon,
            "words": self.words,
            "label_noise": self.label_noise,
            "sentences": self.sentences,
        }

    def set_params(self, **params: Any) -> SentimentModel:
        """Set constructor parameters; returns ``self``."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"unknown parameter {key!r}; valid ones are {sorted(valid)}")
            setattr(self, key, value)
        return self

    # -- training -------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], y: Sequence[int] | npt.ArrayLike) -> SentimentModel:
        """Fit on raw review texts and 0/1 labels; returns ``self``.

        Raises
        ------
        ValueError
            If lengths differ, labels are not 0/1, or one class is missing.
        RuntimeError
            If the solver does not converge.
        """
        labels = np.asarray(y, dtype=np.int64)
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if not set(np.unique(labels).tolist()) <= {0, 1}:
            raise ValueError("labels must be 0 (negative) or 1 (positive)")
        if len(np.unique(labels)) != 2:
            raise ValueError("both classes are needed to fit a sentiment model")
        if self.threshold != "cv" and not 0.0 < float(self.threshold) < 1.0:
            raise ValueError(f"threshold must be in (0, 1) or 'cv', not {self.threshold!r}")
        if self.lexicon and self.lang not in LEXICON_LANGUAGES:
            raise ValueError(
                f"no valence lexicon for {self.lang!r}; lexicon=True needs one of "
                f"{LEXICON_LANGUAGES}"
            )
        if self.sentences and (
            not self.lexicon or self.words is not None or self.network is not None
        ):
            raise ValueError(
                "sentences=True feeds the lexicon stack: it needs lexicon=True and neither a "
                "word block nor a network"
            )
        if self.words is not None and self.network is not None:
            raise ValueError("a model has either a word block or a network partner, not both")
        if self.label_noise is not None and (
            self.threshold == "cv" or self.lexicon or self.network is not None
        ):
            raise ValueError(
                "label_noise is implemented for a fixed threshold without lexicon or network"
            )
        docs = [normalize_text(t) for t in texts]
        oof, oof_sentences = (
            self._oof_logits(docs, labels)
            if self.threshold == "cv" or self.lexicon
            else (None, None)
        )
        weights = None
        self.n_downweighted_ = 0
        if self.label_noise is not None:
            weights = self.label_noise.weights(labels, self._oof_logits(docs, labels)[0])
            self.n_downweighted_ = int(np.sum(weights < 1.0))
        vocabulary, idf, coef, intercept, network, words = self._fit_arrays(docs, labels, weights)
        self.vocabulary_ = vocabulary
        self.network_ = network
        self._set_word_block(words)
        self.feature_index_ = FeatureIndex.build(vocabulary, self.features)
        self.idf_ = idf
        self.coef_ = coef
        self.stack_ = None
        self.lexicon_valence_ = None
        self.lexicon_kind_ = None
        scores = oof
        if self.lexicon:
            assert oof is not None
            scores = self._fit_stack(docs, labels, oof, oof_sentences)
        threshold = 0.5 if self.threshold == "cv" else float(self.threshold)
        if self.threshold == "cv":
            assert scores is not None
            threshold = _best_threshold(labels, _sigmoid(scores))
            self.cv_macro_f1_ = _macro_f1(labels, (_sigmoid(scores) >= threshold).astype(np.int64))
        self.threshold_ = threshold
        shift = math.log(threshold / (1.0 - threshold))
        if self.stack_ is not None:
            self.intercept_ = intercept
            self.stack_.intercept -= shift
        else:
            self.intercept_ = intercept - shift
        return self

    def _fit_stack(
        self,
        docs: list[str],
        labels: npt.NDArray[np.int64],
        oof: FloatArray,
        oof_sentences: FloatArray | None,
    ) -> FloatArray:
        """Fit the lexicon stack on the out-of-fold logits; return its own out-of-fold logits.

        The stack's lexicon figures come from the final vocabulary (they are unsupervised); the
        sentence figures (with ``sentences``) are out-of-fold like the logits. Its out-of-fold
        logits, for the threshold, refit it on the same 5 folds as the linear model.
        """
        from sklearn.model_selection import StratifiedKFold

        valence, kind = lexicon_tables(self.lang, self.vocabulary_, self.features)
        rows, cols = _columns(docs, self.features, self.vocabulary_, self.feature_index_)
        figures = lexicon_features(rows, cols, len(docs), valence, kind)
        if oof_sentences is not None:
            figures = np.column_stack([figures, oof_sentences])
        self.lexicon_valence_, self.lexicon_kind_ = valence, kind
        self.stack_ = fit_stack(oof, figures, labels)
        stacked = np.zeros(len(docs))
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=8)
        for train_idx, test_idx in folds.split(np.zeros(len(labels)), labels):
            part = fit_stack(oof[train_idx], figures[train_idx], labels[train_idx])
            stacked[test_idx] = part.logits(oof[test_idx], figures[test_idx])
        return stacked

    def _set_word_block(self, words: _WordArrays | None) -> None:
        if words is None:
            self.word_vocabulary_ = None
            self.word_idf_ = None
            self.word_coef_ = None
            self.word_index_ = None
            return
        assert self.words is not None
        self.word_vocabulary_, self.word_idf_, self.word_coef_ = words
        self.word_index_ = WordIndex(self.word_vocabulary_, self.words.ngram)

    def _fit_arrays(
        self,
        docs: list[str],
        labels: npt.NDArray[np.int64],
        weights: FloatArray | None = None,
    ) -> tuple[dict[str, int], FloatArray, FloatArray, float, Network | None, _WordArrays | None]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        spec = self.features
        vectorizer = TfidfVectorizer(
            analyzer=lambda doc: extract_features(doc, spec),
            sublinear_tf=True,
            min_df=self.min_df,
            dtype=np.float64,
        )
        x = vectorizer.fit_transform(docs)
        ratio = (
            _nb_ratio(x, labels, self.nb_alpha, weights)
            if self.nb_alpha is not None
            else np.ones(x.shape[1])
        )
        coef, intercept = _fit_logistic(x.multiply(ratio).tocsr(), labels, self.C, weights)
        coef = coef * ratio
        if self.plain_C is not None:
            plain_coef, plain_intercept = _fit_logistic(x, labels, self.plain_C, weights)
            coef = (coef + plain_coef) / 2.0
            intercept = (intercept + plain_intercept) / 2.0
        network = None
        if self.network is not None:
            # the average's weights are folded into the arrays: linear part times (1 - w),
            # the network's output layer times w (exact, since ReLU is positively homogeneous)
            share = self.network.weight
            network = fit_network(x, labels, self.network)
            network.w2 = (network.w2 * np.float32(share)).astype(np.float32)
            network.b2 = float(np.float32(network.b2 * share))
            coef = coef * (1.0 - share)
            intercept = intercept * (1.0 - share)
        words = None
        if self.words is not None:
            # the average's weights are folded into the arrays, as for the network
            share = self.words.weight
            word_vocabulary, word_idf, word_coef, word_intercept = _fit_word_block(
                docs, labels, self.words, weights
            )
            words = (word_vocabulary, word_idf, word_coef * share)
            coef = coef * (1.0 - share)
            intercept = intercept * (1.0 - share) + word_intercept * share
        vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        return vocabulary, np.asarray(vectorizer.idf_), coef, intercept, network, words

    def _oof_logits(
        self, docs: list[str], labels: npt.NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray | None]:
        """The linear model's logits from 5-fold cross-validation on the training data.

        With ``sentences``, also the sentence figures of every review from the same
        out-of-fold models (``None`` without).
        """
        from sklearn.model_selection import StratifiedKFold

        oof = np.zeros(len(docs))
        oof_sentences = (
            np.zeros((len(docs), len(SENTENCE_FEATURE_NAMES))) if self.sentences else None
        )
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=8)
        for train_idx, test_idx in folds.split(np.zeros(len(labels)), labels):
            vocab, idf, coef, intercept, network, words = self._fit_arrays(
                [docs[i] for i in train_idx], labels[train_idx]
            )
            test_docs = [docs[i] for i in test_idx]
            index = FeatureIndex.build(vocab, self.features)
            rows, cols = _columns(test_docs, self.features, vocab, index)
            word_block = None
            if words is not None:
                assert self.words is not None
                word_vocab, word_idf, word_coef = words
                word_rows, word_cols = WordIndex(word_vocab, self.words.ngram).columns(test_docs)
                word_block = (word_rows, word_cols, word_idf, word_coef)
            oof[test_idx] = _logits(
                rows, cols, len(test_docs), idf, coef, intercept, network=network, words=word_block
            )
            if oof_sentences is not None:
                sentences = _sentence_columns(test_docs, self.features, vocab, index)
                oof_sentences[test_idx] = _sentence_figures(
                    sentences, idf, coef, intercept, oof[test_idx]
                )
        return oof, oof_sentences

    # -- prediction -----------------------------------------------------------------------
    def predict_proba(self, texts: Iterable[object]) -> FloatArray:
        """Probability that each review is positive.

        Empty text and text with no known n-gram (e.g. an unsupported script) get exactly
        0.5. Punctuation alone can be a feature ("..." leans negative in Chinese reviews);
        :func:`manyi.text.analyse` treats text without letters as language "unknown".

        Examples
        --------
        >>> from manyi.text import load_model
        >>> p = load_model("zh").predict_proba(["质量很好，物流也快", "", "ᚠᚢᚦ"])
        >>> bool(p[0] > 0.9), float(p[1]), float(p[2])
        (True, 0.5, 0.5)
        """
        return self.predict_proba_normalized([normalize_text(t) for t in texts])

    def predict_proba_normalized(self, docs: Sequence[str]) -> FloatArray:
        """:meth:`predict_proba` for texts already passed through ``normalize_text``."""
        self._check_fitted()
        rows, cols = _columns(docs, self.features, self.vocabulary_, self.feature_index_)
        word_index: WordIndex | None = getattr(self, "word_index_", None)
        word_columns = None if word_index is None else word_index.columns(docs)
        sentence_columns = (
            _sentence_columns(docs, self.features, self.vocabulary_, self.feature_index_)
            if getattr(self, "sentences", False)
            else None
        )
        return self.probabilities_of_columns(
            rows, cols, len(docs), word_columns=word_columns, sentence_columns=sentence_columns
        )

    def word_columns_of_strings(self, docs: Sequence[str]) -> tuple[IntArray, IntArray]:
        """The word block's ``(rows, columns)`` on the string path (the reference)."""
        self._check_fitted()
        if self.words is None or self.word_vocabulary_ is None:
            raise ValueError("this model has no word block")
        return word_columns_of_strings(docs, self.words.ngram, self.word_vocabulary_)

    def sentence_columns_of_strings(self, docs: Sequence[str]) -> SentenceColumns:
        """The sentences' ``(rows, columns, owner)`` on the string path (the reference)."""
        self._check_fitted()
        if not self.sentences:
            raise ValueError("this model has no sentence figures")
        return _sentence_columns(docs, self.features, self.vocabulary_, None)

    def probabilities_of_columns(
        self,
        rows: IntArray,
        cols: IntArray,
        n_docs: int,
        *,
        word_columns: tuple[IntArray, IntArray] | None = None,
        sentence_columns: SentenceColumns | None = None,
    ) -> FloatArray:
        """Probabilities from ``(rows, columns)`` of the known n-grams (either look-up path).

        A model with a word block also needs the ``(rows, columns)`` of its word n-grams
        (:meth:`word_columns_of_strings` or ``word_index_.columns``); a model with sentence
        figures those of the texts' sentences (:meth:`sentence_columns_of_strings`, or the
        vectorised look-up as :meth:`predict_proba_normalized` does it).
        """
        # models pickled before the network, the lexicon or the words existed lack them
        stack = getattr(self, "stack_", None)
        words = None
        if getattr(self, "word_vocabulary_", None) is not None:
            if word_columns is None:
                raise ValueError("this model has a word block: pass word_columns")
            words = (word_columns[0], word_columns[1], self.word_idf_, self.word_coef_)
        if getattr(self, "sentences", False) and sentence_columns is None:
            raise ValueError("this model has sentence figures: pass sentence_columns")
        return _probabilities(
            rows,
            cols,
            n_docs,
            self.idf_,
            self.coef_,
            self.intercept_,
            network=getattr(self, "network_", None),
            lexicon=None if stack is None else (stack, self.lexicon_valence_, self.lexicon_kind_),
            words=words,
            sentences=sentence_columns if getattr(self, "sentences", False) else None,
        )

    def predict(self, texts: Iterable[object]) -> npt.NDArray[np.int64]:
        """0/1 label for each review (``p_positive >= 0.5``)."""
        return (self.predict_proba(texts) >= 0.5).astype(np.int64)

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelNotFittedError("call fit() or load a model with load_model() first")

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path, *, metadata: dict[str, Any] | None = None) -> list[Path]:
        """Write ``<lang>.npz`` and ``<lang>.json`` into ``directory``; return both paths."""
        self._check_fitted()
        directory.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)
        blob = "\n".join(terms).encode("utf-8")
        npz_path = directory / f"{self.lang}.npz"
        arrays: dict[str, Any] = {  # Any: numpy's stubs type **kwds against allow_pickle
            "vocabulary": np.frombuffer(blob, dtype=np.uint8),
            "idf": self.idf_.astype(np.float32),
            "coef": self.coef_.astype(np.float32),
        }
        if self.network_ is not None:
            arrays.update(self.network_.arrays())
        if self.word_vocabulary_ is not None:
            word_terms = sorted(self.word_vocabulary_, key=self.word_vocabulary_.__getitem__)
            word_blob = "\n".join(word_terms).encode("utf-8")
            arrays["word_vocabulary"] = np.frombuffer(word_blob, dtype=np.uint8)
            arrays["word_idf"] = np.asarray(self.word_idf_).astype(np.float32)
            arrays["word_coef"] = np.asarray(self.word_coef_).astype(np.float32)
        if self.stack_ is not None:
            arrays["lexicon_valence"] = np.asarray(self.lexicon_valence_, dtype=np.float32)
            arrays["lexicon_kind"] = np.asarray(self.lexicon_kind_, dtype=np.int8)
        with npz_path.open("wb") as handle:
            np.savez_compressed(handle, **arrays)
        meta: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "normalizer_version": NORMALIZER_VERSION,
            "lang": self.lang,
            "features": self.features.to_dict(),
            "params": {
                "min_df": self.min_df,
                "C": self.C,
                "nb_alpha": self.nb_alpha,
                "plain_C": self.plain_C,
                "threshold": self.threshold,
                "network": None if self.network is None else self.network.to_dict(),
                "lexicon": self.lexicon,
                "words": None if self.words is None else self.words.to_dict(),
                **({} if self.label_noise is None else {"label_noise": self.label_noise.to_dict()}),
                **({"sentences": True} if self.sentences else {}),
            },
            "intercept": self.intercept_,
            "threshold": self.threshold_,
            "n_features": len(terms),
        }
        if self.stack_ is not None:
            meta["stack"] = self.stack_.to_dict()
        meta.update(metadata or {})
        json_path = directory / f"{self.lang}.json"
        json_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return [npz_path, json_path]

    @classmethod
    def from_files(cls, npz: Any, meta: dict[str, Any]) -> SentimentModel:
        """Rebuild a model from an opened ``.npz`` (path or file) and its metadata dict."""
        if meta.get("normalizer_version") != NORMALIZER_VERSION:
            raise ValueError(
                f"model for {meta.get('lang')!r} was trained with normaliser version "
                f"{meta.get('normalizer_version')}, this code has {NORMALIZER_VERSION}: retrain"
            )
        params = meta["params"]
        model = cls(
            meta["lang"],
            FeatureSpec.from_dict(meta["features"]),
            min_df=int(params["min_df"]),
            C=float(params["C"]),
            nb_alpha=None if params["nb_alpha"] is None else float(params["nb_alpha"]),
            plain_C=None if params.get("plain_C") is None else float(params["plain_C"]),
            threshold=params["threshold"],
            network=None
            if params.get("network") is None
            else NetworkSpec.from_dict(params["network"]),
            lexicon=bool(params.get("lexicon", False)),
            words=None if params.get("words") is None else WordBlockSpec.from_dict(params["words"]),
            label_noise=None
            if params.get("label_noise") is None
            else LabelNoiseSpec.from_dict(params["label_noise"]),
            sentences=bool(params.get("sentences", False)),
        )
        with np.load(npz) as arrays:
            terms = arrays["vocabulary"].tobytes().decode("utf-8").split("\n")
            model.vocabulary_ = {term: i for i, term in enumerate(terms)}
            model.feature_index_ = FeatureIndex.build(model.vocabulary_, model.features)
            model.idf_ = arrays["idf"].astype(np.float64)
            model.coef_ = arrays["coef"].astype(np.float64)
            model.network_ = Network.from_arrays(arrays) if model.network is not None else None
            model.stack_ = None
            model.lexicon_valence_ = None
            model.lexicon_kind_ = None
            if model.lexicon:
                model.stack_ = Stack.from_dict(meta["stack"])
                model.lexicon_valence_ = arrays["lexicon_valence"].astype(np.float64)
                model.lexicon_kind_ = arrays["lexicon_kind"]
            words = None
            if model.words is not None:
                word_terms = arrays["word_vocabulary"].tobytes().decode("utf-8").split("\n")
                words = (
                    {term: i for i, term in enumerate(word_terms)},
                    arrays["word_idf"].astype(np.float64),
                    arrays["word_coef"].astype(np.float64),
                )
            model._set_word_block(words)
        model.intercept_ = float(meta["intercept"])
        model.threshold_ = float(meta["threshold"])
        model.metadata_ = meta
        return model


def _fit_logistic(
    x: Any, labels: npt.NDArray[np.int64], c: float, weights: FloatArray | None = None
) -> tuple[FloatArray, float]:
    """L2 logistic regression (liblinear; optional sample weights); coefficients, intercept."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(C=c, solver="liblinear", max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            classifier.fit(x, labels, sample_weight=weights)
        except ConvergenceWarning as exc:
            raise RuntimeError(
                f"logistic regression did not converge ({exc}); try a smaller C or a larger min_df"
            ) from exc
    return np.asarray(classifier.coef_[0], dtype=np.float64), float(classifier.intercept_[0])


def _nb_ratio(
    x: Any, labels: npt.NDArray[np.int64], alpha: float, weights: FloatArray | None = None
) -> FloatArray:
    present = (x > 0).astype(np.float64)
    if weights is None:
        p = np.asarray(present[labels == 1].sum(axis=0)).ravel() + alpha
        q = np.asarray(present[labels == 0].sum(axis=0)).ravel() + alpha
    else:  # weighted document counts
        p = np.asarray(present.T @ (weights * (labels == 1))).ravel() + alpha
        q = np.asarray(present.T @ (weights * (labels == 0))).ravel() + alpha
    return np.asarray(np.log((p / p.sum()) / (q / q.sum())), dtype=np.float64)


def _fit_word_block(
    docs: list[str],
    labels: npt.NDArray[np.int64],
    spec: WordBlockSpec,
    weights: FloatArray | None = None,
) -> tuple[dict[str, int], FloatArray, FloatArray, float]:
    """The word block's vocabulary, IDF, NB-scaled coefficients and intercept."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer=lambda doc: word_features(doc, spec.ngram),
        sublinear_tf=True,
        min_df=spec.min_df,
        dtype=np.float64,
    )
    x = vectorizer.fit_transform(docs)
    ratio = _nb_ratio(x, labels, spec.nb_alpha, weights)
    coef, intercept = _fit_logistic(x.multiply(ratio).tocsr(), labels, spec.C, weights)
    vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
    return vocabulary, np.asarray(vectorizer.idf_), coef * ratio, intercept


def _sigmoid(logit: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def _best_threshold(labels: npt.NDArray[np.int64], p: FloatArray) -> float:
    """The threshold on ``p`` (0.05 … 0.95 in steps of 0.01) with the best macro-F1."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [_macro_f1(labels, (p >= t).astype(np.int64)) for t in grid]
    return float(grid[int(np.argmax(scores))])


def _macro_f1(truth: npt.NDArray[np.int64], pred: npt.NDArray[np.int64]) -> float:
    scores = []
    for cls in (0, 1):
        tp = float(np.sum((pred == cls) & (truth == cls)))
        fp = float(np.sum((pred == cls) & (truth != cls)))
        fn = float(np.sum((pred != cls) & (truth == cls)))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def _columns(
    docs: Sequence[str],
    spec: FeatureSpec,
    vocabulary: dict[str, int],
    index: FeatureIndex | None,
) -> tuple[IntArray, IntArray]:
    """``(rows, columns)`` of the known n-grams: vectorised where an index exists."""
    if index is not None:
        return index.columns(docs)
    return string_columns(docs, spec, vocabulary)


def _probabilities(
    rows: IntArray,
    cols: IntArray,
    n_docs: int,
    idf: FloatArray,
    coef: FloatArray,
    intercept: float,
    *,
    network: Network | None = None,
    lexicon: tuple[Stack, Any, Any] | None = None,
    words: tuple[IntArray, IntArray, Any, Any] | None = None,
    sentences: SentenceColumns | None = None,
) -> FloatArray:
    """:func:`_logits` through the logistic."""
    return _sigmoid(
        _logits(
            rows,
            cols,
            n_docs,
            idf,
            coef,
            intercept,
            network=network,
            lexicon=lexicon,
            words=words,
            sentences=sentences,
        )
    )


def _logits(
    rows: IntArray,
    cols: IntArray,
    n_docs: int,
    idf: FloatArray,
    coef: FloatArray,
    intercept: float,
    *,
    network: Network | None = None,
    lexicon: tuple[Stack, Any, Any] | None = None,
    words: tuple[IntArray, IntArray, Any, Any] | None = None,
    sentences: SentenceColumns | None = None,
) -> FloatArray:
    """Sublinear TF-IDF, L2-normalised, dotted with the coefficients, through the logistic.

    ``rows``/``cols`` hold one pair per n-gram occurrence (from :func:`_columns`).
    Equivalent to scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` followed by the linear
    model, without building the sparse matrix: the occurrences of the whole batch are counted
    at once with ``np.unique`` on ``row * n_features + column``. Documents without a known
    n-gram get exactly 0.5 (logit 0). With a ``network``, its logit (from the same normalised
    vector) is added to the linear one; with a ``lexicon`` (the stack and the columns' valence
    and kind), the stack combines that logit with the lexicon figures. With ``words`` (the
    word block's rows, columns, IDF and coefficients), the word n-grams are normalised as a
    block of their own and their dot product is added too. With ``sentences`` (the sentences'
    rows, columns and texts; only with a ``lexicon``), every sentence is scored alone by the
    same linear model and the stack also gets the sentence figures.
    """
    if len(rows) == 0 and (words is None or len(words[0]) == 0):
        return np.zeros(n_docs)
    row, col, weight, norm = _tfidf(rows, cols, n_docs, idf)
    dot = np.bincount(row, weights=weight * coef[col], minlength=n_docs)
    has_features = norm > 0
    safe_norm = np.where(has_features, norm, 1.0)
    linear = dot / safe_norm + intercept
    if words is not None:
        word_rows, word_cols, word_idf, word_coef = words
        w_row, w_col, w_weight, w_norm = _tfidf(word_rows, word_cols, n_docs, word_idf)
        w_dot = np.bincount(w_row, weights=w_weight * word_coef[w_col], minlength=n_docs)
        has_words = w_norm > 0
        linear = linear + w_dot / np.where(has_words, w_norm, 1.0)
        has_features = has_features | has_words
    n_features = len(idf)
    if network is not None:
        linear = linear + network.logits(row, col, weight / safe_norm[row], n_docs, n_features)
    if lexicon is not None:
        stack, valence, kind = lexicon
        figures = lexicon_features(rows, cols, n_docs, valence, kind)
        if sentences is not None:
            figures = np.column_stack(
                [figures, _sentence_figures(sentences, idf, coef, intercept, linear)]
            )
        linear = stack.logits(linear, figures)
    return np.asarray(np.where(has_features, linear, 0.0), dtype=np.float64)


def _sentence_columns(
    docs: Sequence[str],
    spec: FeatureSpec,
    vocabulary: dict[str, int],
    index: FeatureIndex | None,
) -> SentenceColumns:
    """The texts' sentences (:func:`split_sentences`) looked up as texts of their own."""
    sentences, owner = split_sentences(docs)
    rows, cols = _columns(sentences, spec, vocabulary, index)
    return rows, cols, owner


def _sentence_figures(
    sentences: SentenceColumns,
    idf: FloatArray,
    coef: FloatArray,
    intercept: float,
    review_logits: FloatArray,
) -> FloatArray:
    """The sentence figures: each sentence's linear logit, as if it were a review."""
    rows, cols, owner = sentences
    n_sentences = len(owner)
    logits = _logits(rows, cols, n_sentences, idf, coef, intercept)
    scored = np.bincount(rows, minlength=n_sentences) > 0
    return sentence_figures(logits, scored, owner, review_logits)


def _tfidf(
    rows: IntArray, cols: IntArray, n_docs: int, idf: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Distinct ``(row, column)`` pairs, their sublinear TF-IDF weights, and each row's L2 norm."""
    n_features = len(idf)
    keys, counts = np.unique(rows * n_features + cols, return_counts=True)
    row = keys // n_features
    col = keys % n_features
    weight = (1.0 + np.log(counts)) * idf[col]
    norm = np.sqrt(np.bincount(row, weights=weight * weight, minlength=n_docs))
    return row, col, weight, norm


def three_way(p_positive: float, band: tuple[float, float] = NEUTRAL_BAND) -> str:
    """Map a probability to ``"negative"``, ``"neutral"`` or ``"positive"``.

    Examples
    --------
    >>> three_way(0.9), three_way(0.5), three_way(0.1)
    ('positive', 'neutral', 'negative')
    """
    low, high = band
    if p_positive < low:
        return "negative"
    if p_positive > high:
        return "positive"
    return "neutral"


@lru_cache(maxsize=len(LANGUAGES))
def load_model(lang: str) -> SentimentModel:
    """Load the shipped model for ``lang`` (cached; reads the package data only).

    Examples
    --------
    >>> load_model("pt").predict(["produto excelente, chegou antes do prazo"]).tolist()
    [1]
    """
    if lang not in LANGUAGES:
        raise ValueError(f"no sentiment model for language {lang!r}; choose one of {LANGUAGES}")
    folder = resources.files("manyi.text.models")
    meta_file = folder / f"{lang}.json"
    if not meta_file.is_file():
        raise FileNotFoundError(
            f"the shipped model {lang}.json is missing from manyi.text.models; rebuild it with "
            f"`manyi train-sentiment --lang {lang} --data-dir DATA_DIR`"
        )
    meta = json.loads(meta_file.read_text("utf-8"))
    with (folder / f"{lang}.npz").open("rb") as handle:
        return SentimentModel.from_files(handle, meta)
