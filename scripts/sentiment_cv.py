"""Cross-validation harness of issue 8's English and Portuguese sentiment rounds (ninth round).

Recreates the harness of ``docs/text-model-card.md`` (second to eighth rounds): the same 5
stratified folds of the **training part only** (``StratifiedKFold(5, shuffle=True,
random_state=8)``), vocabulary and IDF fitted on the whole training part, the NB ratios, the
logistic regressions and the lexicon stack fitted inside the folds, and macro-F1 at the best
threshold of the stack's out-of-fold scores. The held-out part is never read beyond what
``read_corpus`` needs to mark it.

Run from the repository root (each language is one process; at most two at once)::

    nice -n 19 .venv/bin/python scripts/sentiment_cv.py --lang en --data-dir ../shared/data
    nice -n 19 .venv/bin/python scripts/sentiment_cv.py --lang pt --data-dir ../shared/data

It prints one line per variant: the shipped stack (reproduced), the ninth round's sentence
scores of the linear model (each sentence scored alone by the fold's out-of-fold model) and
contrast marking (``but_`` copies of the words after a contrast word up to the end of the
sentence), and their combinations with a char_wb 2-5 member (seventh round) and with
label-noise down-weighting (eighth round, nested flags; ``--label-noise``). ``--seed`` draws
other fold assignments (``random_state``; 8, the default, is the harness of every round): the
model card's check of how firm a gain is. ``--star-weights`` prints the lead's probe after the
ninth round instead: the shipped stack with the training reviews weighted by star rating.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold

from manyi.text.corpora import read_corpus
from manyi.text.features import (
    FeatureSpec,
    extract_features,
    find_words,
    sentence_split,
    strip_accents,
)
from manyi.text.lexicon import fit_stack, lexicon_features, lexicon_tables
from manyi.text.normalize import normalize_text
from manyi.text.sentiment import _best_threshold, _fit_logistic, _macro_f1, _nb_ratio
from manyi.text.training import MODEL_SETTINGS
from manyi.text.vectorize import FeatureIndex

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Folds = list[tuple[IntArray, IntArray]]

CONTRAST_MARK = "but_"
#: Contrast words per language and list (one- or two-word; Portuguese accent-folded). The
#: narrow lists are the brief's; the wide ones add words frequent enough in the training
#: part (counts in docs/text-model-card.md, ninth round).
_NARROW = {
    "en": ("but", "however", "though", "although"),
    "pt": ("mas", "porem", "entretanto", "contudo", "todavia", "so que", "pena que", "no entanto"),
}
CONTRAST_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"narrow": _NARROW["en"], "wide": (*_NARROW["en"], "unfortunately", "except", "sadly")},
    "pt": {"narrow": _NARROW["pt"], "wide": (*_NARROW["pt"], "infelizmente", "apesar", "embora")},
}
SENTENCE_FEATURES = ("min", "max", "mean", "last", "negative share", "log sentences")


@dataclass
class Corpus:
    """The training part of one language with its folds and the lexicon figures."""

    lang: str
    spec: FeatureSpec
    docs: list[str]
    labels: IntArray
    folds: Folds
    figures: FloatArray


def log(message: str) -> None:
    """Progress on stderr, results on stdout."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def load(lang: str, data_dir: Path, seed: int = 8) -> Corpus:
    """The training part, the 5 folds and the nine lexicon figures (shipped vocabulary)."""
    train = read_corpus(lang, data_dir).train()
    docs = [normalize_text(t) for t in train["text"]]
    labels = train["label"].to_numpy().astype(np.int64)
    folds = list(
        StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(
            np.zeros(len(labels)), labels
        )
    )
    spec = MODEL_SETTINGS[lang]["features"]
    vectorizer = tfidf(lambda doc: extract_features(doc, spec), MODEL_SETTINGS[lang]["min_df"])
    vectorizer.fit(docs)
    vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
    index = FeatureIndex.build(vocabulary, spec)
    assert index is not None
    rows, cols = index.columns(docs)
    valence, kind = lexicon_tables(lang, vocabulary, spec)
    figures = lexicon_features(rows, cols, len(docs), valence, kind)
    return Corpus(lang, spec, docs, labels, folds, figures)


def tfidf(analyzer: Callable[[str], list[str]], min_df: int) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=min_df, dtype=np.float64)


# -- contrast marking -------------------------------------------------------------------------
def contrast_words(text: str, words: Sequence[str], *, fold_accents: bool) -> list[str]:
    """The words after a contrast word up to the end of its sentence, ``but_``-marked.

    >>> contrast_words("love it. but too small. ok", ("but",), fold_accents=False)
    ['but_too', 'but_small']
    """
    if fold_accents:
        text = strip_accents(text)
    single = {w for w in words if " " not in w}
    double = {tuple(w.split(" ")) for w in words if " " in w}
    out: list[str] = []
    for sentence in sentence_split(text):
        tokens = find_words(sentence)
        marked = False
        for i, token in enumerate(tokens):
            if marked:
                out.append(CONTRAST_MARK + token)
            elif token in single or (i > 0 and (tokens[i - 1], token) in double):
                marked = True
    return out


def analyzer_of(spec: FeatureSpec, contrast: Sequence[str] | None) -> Callable[[str], list[str]]:
    if contrast is None:
        return lambda doc: extract_features(doc, spec)
    return lambda doc: (
        extract_features(doc, spec) + contrast_words(doc, contrast, fold_accents=spec.fold_accents)
    )


# -- members ----------------------------------------------------------------------------------
@dataclass
class Member:
    """Out-of-fold logits of one linear member, and its per-fold models."""

    oof: FloatArray
    models: list[tuple[FloatArray, float]]


def fit_linear(
    x: sparse.csr_matrix,
    labels: IntArray,
    *,
    c: float,
    nb: bool,
    plain_c: float | None,
    weights: FloatArray | None = None,
) -> tuple[FloatArray, float]:
    """The shipped linear family on rows of a fitted TF-IDF matrix (as ``_fit_arrays``)."""
    if nb:
        ratio = _nb_ratio(x, labels, 1.0, weights)
        coef, intercept = _fit_logistic(x.multiply(ratio).tocsr(), labels, c, weights)
        coef = coef * ratio
    else:
        coef, intercept = _fit_logistic(x, labels, c, weights)
    if plain_c is not None:
        plain_coef, plain_intercept = _fit_logistic(x, labels, plain_c, weights)
        coef = (coef + plain_coef) / 2.0
        intercept = (intercept + plain_intercept) / 2.0
    return coef, intercept


def member_oof(
    x: sparse.csr_matrix,
    corpus: Corpus,
    *,
    c: float,
    nb: bool,
    plain_c: float | None,
    fold_weights: list[FloatArray] | None = None,
) -> Member:
    oof = np.zeros(len(corpus.labels))
    models = []
    for k, (train_idx, test_idx) in enumerate(corpus.folds):
        weights = None if fold_weights is None else fold_weights[k]
        coef, intercept = fit_linear(
            x[train_idx], corpus.labels[train_idx], c=c, nb=nb, plain_c=plain_c, weights=weights
        )
        oof[test_idx] = x[test_idx] @ coef + intercept
        models.append((coef, intercept))
    return Member(oof, models)


def shipped_member(x: sparse.csr_matrix, corpus: Corpus, fold_weights=None) -> Member:
    settings = MODEL_SETTINGS[corpus.lang]
    return member_oof(
        x,
        corpus,
        c=settings["C"],
        nb=True,
        plain_c=settings["plain_C"],
        fold_weights=fold_weights,
    )


# -- sentence scores --------------------------------------------------------------------------
@dataclass
class Sentences:
    matrix: sparse.csr_matrix  # one TF-IDF row per sentence, the review's vocabulary
    owner: IntArray  # the review of each sentence (sorted)


def sentences_of(corpus: Corpus, vectorizer: TfidfVectorizer) -> Sentences:
    """Every sentence of every review as a review of its own (the title is the first)."""
    texts: list[str] = []
    owner: list[int] = []
    for i, doc in enumerate(corpus.docs):
        for sentence in sentence_split(doc):
            if sentence.strip():
                texts.append(sentence)
                owner.append(i)
    return Sentences(vectorizer.transform(texts).tocsr(), np.asarray(owner, dtype=np.int64))


def sentence_figures(member: Member, sentences: Sentences, corpus: Corpus) -> FloatArray:
    """The six sentence figures of each review, from the out-of-fold model of its fold.

    Sentences with no known n-gram are not scored; a review without a scored sentence gets
    its own out-of-fold logit as min, max, mean and last.
    """
    n = len(corpus.labels)
    fold_of = np.zeros(n, dtype=np.int64)
    for k, (_, test_idx) in enumerate(corpus.folds):
        fold_of[test_idx] = k
    logit = np.zeros(sentences.matrix.shape[0])
    for k, (coef, intercept) in enumerate(member.models):
        rows = np.flatnonzero(fold_of[sentences.owner] == k)
        logit[rows] = sentences.matrix[rows] @ coef + intercept
    scored = sentences.matrix.getnnz(axis=1) > 0
    owner, logit = sentences.owner[scored], logit[scored]
    count = np.bincount(owner, minlength=n)
    has = count > 0
    starts = np.searchsorted(owner, np.arange(n))
    out = np.column_stack([member.oof] * 4 + [np.zeros(n), np.zeros(n)])
    idx = starts[has]
    out[has, 0] = np.minimum.reduceat(logit, idx)
    out[has, 1] = np.maximum.reduceat(logit, idx)
    out[has, 2] = np.add.reduceat(logit, idx) / count[has]
    out[has, 3] = logit[idx + count[has] - 1]
    out[has, 4] = np.add.reduceat((logit < 0).astype(np.float64), idx) / count[has]
    out[:, 5] = np.log1p(count)
    return out


# -- stack and score --------------------------------------------------------------------------
def stack_score(logits: list[FloatArray], extra: list[FloatArray], corpus: Corpus) -> float:
    """Macro-F1 at the best threshold of the stack's out-of-fold scores.

    The stack (``manyi.text.lexicon.fit_stack``: C 1 on standardised inputs) gets the first
    logit as its "linear logit" and the other logits, the lexicon figures and ``extra`` as
    figures; it is fitted on four folds' out-of-fold inputs and scores the fifth.
    """
    figures = np.column_stack([*logits[1:], corpus.figures, *extra])
    stacked = np.zeros(len(corpus.labels))
    for train_idx, test_idx in corpus.folds:
        part = fit_stack(logits[0][train_idx], figures[train_idx], corpus.labels[train_idx])
        stacked[test_idx] = part.logits(logits[0][test_idx], figures[test_idx])
    p = 1.0 / (1.0 + np.exp(-stacked))
    threshold = _best_threshold(corpus.labels, p)
    return _macro_f1(corpus.labels, (p >= threshold).astype(np.int64))


def linear_score(logit: FloatArray, corpus: Corpus) -> float:
    p = 1.0 / (1.0 + np.exp(-logit))
    threshold = _best_threshold(corpus.labels, p)
    return _macro_f1(corpus.labels, (p >= threshold).astype(np.int64))


# -- label noise (eighth round, nested) -------------------------------------------------------
def nested_weights(
    x: sparse.csr_matrix, corpus: Corpus, *, below: float, weight: float
) -> list[FloatArray]:
    """Per outer fold k, the weights of its training rows from flags that never see fold k.

    Every training review of fold j != k is scored by the shipped family fitted on the three
    folds other than j and k; the lexicon stack fitted on those inner out-of-fold logits gives
    its probability; a review whose probability of its own label is below ``below`` gets
    ``weight``.
    """
    settings = MODEL_SETTINGS[corpus.lang]
    n_folds = len(corpus.folds)
    members = [test for _, test in corpus.folds]
    pair_models: dict[tuple[int, int], tuple[FloatArray, float]] = {}
    for j, k in combinations(range(n_folds), 2):
        rows = np.concatenate([members[f] for f in range(n_folds) if f not in (j, k)])
        pair_models[(j, k)] = fit_linear(
            x[rows], corpus.labels[rows], c=settings["C"], nb=True, plain_c=settings["plain_C"]
        )
    out = []
    for k, (train_idx, _) in enumerate(corpus.folds):
        inner = np.zeros(len(corpus.labels))
        for j in range(n_folds):
            if j != k:
                coef, intercept = pair_models[(min(j, k), max(j, k))]
                inner[members[j]] = x[members[j]] @ coef + intercept
        labels = corpus.labels[train_idx]
        stack = fit_stack(inner[train_idx], corpus.figures[train_idx], labels)
        logit = stack.logits(inner[train_idx], corpus.figures[train_idx])
        p = 1.0 / (1.0 + np.exp(-logit))
        own = np.where(labels == 1, p, 1.0 - p)
        out.append(np.where(own < below, weight, 1.0))
        log(f"fold {k}: {int(np.sum(own < below))} of {len(labels)} flagged")
    return out


# -- star-rating weights (the lead's probe after the ninth round) ------------------------------
#: Training weight per star rating; ratings not named weigh 1.
STAR_WEIGHTS: dict[str, dict[int, float]] = {
    "2, 4 x 2": {2: 2.0, 4: 2.0},
    "2, 4 x 1.5": {2: 1.5, 4: 1.5},
    "5 x 0.5": {5: 0.5},
    "4 x 2": {4: 2.0},
    "2 x 2": {2: 2.0},
    "1, 5 x 0.5": {1: 0.5, 5: 0.5},
}


def run_star_weights(lang: str, data_dir: Path, seed: int = 8) -> None:
    """The shipped stack with the linear member fitted on star-weighted training reviews."""
    corpus = load(lang, data_dir, seed)
    stars = read_corpus(lang, data_dir).train()["stratum"].to_numpy().astype(np.int64)
    settings = MODEL_SETTINGS[lang]
    x = tfidf(analyzer_of(corpus.spec, None), settings["min_df"]).fit_transform(corpus.docs)
    x = x.tocsr()
    shipped = stack_score([shipped_member(x, corpus).oof], [], corpus)
    print(f"{lang}\t{shipped:.4f}\tshipped stack (reproduced)", flush=True)
    for name, by_star in STAR_WEIGHTS.items():
        weights = np.array([by_star.get(int(s), 1.0) for s in stars])
        member = shipped_member(x, corpus, fold_weights=[weights[t] for t, _ in corpus.folds])
        value = stack_score([member.oof], [], corpus)
        print(f"{lang}\t{value:.4f}\t{value - shipped:+.4f}\tstar weights {name}", flush=True)


# -- the table --------------------------------------------------------------------------------
def run(lang: str, data_dir: Path, *, label_noise: bool, seed: int = 8) -> None:
    corpus = load(lang, data_dir, seed)
    settings = MODEL_SETTINGS[lang]
    log(f"{lang}: {len(corpus.docs)} training reviews")
    results: list[tuple[str, float]] = []

    def report(name: str, value: float) -> None:
        results.append((name, value))
        print(f"{lang}\t{value:.4f}\t{name}", flush=True)

    # linear members: shipped features, and with contrast marking
    vectorizers: dict[str, TfidfVectorizer] = {}
    matrices: dict[str, sparse.csr_matrix] = {}
    members: dict[str, Member] = {}
    variants: dict[str, Sequence[str] | None] = {"shipped": None, **CONTRAST_WORDS[lang]}
    for name, words in variants.items():
        vectorizer = tfidf(analyzer_of(corpus.spec, words), settings["min_df"])
        matrices[name] = vectorizer.fit_transform(corpus.docs).tocsr()
        vectorizers[name] = vectorizer
        log(f"{name}: {matrices[name].shape[1]} features")
        members[name] = shipped_member(matrices[name], corpus)
        log(f"{name}: linear {linear_score(members[name].oof, corpus):.4f}")

    base = members["shipped"]
    shipped = stack_score([base.oof], [], corpus)
    report("shipped stack (reproduced)", shipped)

    # sentence figures of every linear member (the sentences as reviews of their own)
    figures: dict[str, FloatArray] = {}
    for name in members:
        sentences = sentences_of(corpus, vectorizers[name])
        figures[name] = sentence_figures(members[name], sentences, corpus)
    log(f"{int(sentences.matrix.shape[0])} sentences")
    subsets: dict[str, tuple[int, ...]] = {
        "all six": (0, 1, 2, 3, 4, 5),
        "min, max": (0, 1),
        "min, max, mean": (0, 1, 2),
        "min, last": (0, 3),
        "last": (3,),
        "min": (0,),
        "negative share, log sentences": (4, 5),
        "min, max, last, negative share": (0, 1, 3, 4),
    }
    for label, cols in subsets.items():
        report(
            f"stack + sentences ({label})",
            stack_score([base.oof], [figures["shipped"][:, cols]], corpus),
        )
    for name in CONTRAST_WORDS[lang]:
        report(f"contrast {name}: stack", stack_score([members[name].oof], [], corpus))
        report(
            f"contrast {name}: stack + sentences (all six)",
            stack_score([members[name].oof], [figures[name]], corpus),
        )

    # the seventh round's char_wb 2-5 member (plain C 3)
    char_spec = FeatureSpec(char_wb=(2, 5), fold_accents=corpus.spec.fold_accents)
    char_x = tfidf(lambda doc: extract_features(doc, char_spec), 2).fit_transform(corpus.docs)
    char = member_oof(char_x.tocsr(), corpus, c=3.0, nb=False, plain_c=None)
    log(f"char_wb: {char_x.shape[1]} features, alone {linear_score(char.oof, corpus):.4f}")
    report("stack + char_wb member", stack_score([base.oof, char.oof], [], corpus))
    report(
        "stack + char_wb + sentences (all six)",
        stack_score([base.oof, char.oof], [figures["shipped"]], corpus),
    )
    for name in CONTRAST_WORDS[lang]:
        report(
            f"contrast {name}: stack + char_wb",
            stack_score([members[name].oof, char.oof], [], corpus),
        )
        report(
            f"contrast {name}: stack + char_wb + sentences (all six)",
            stack_score([members[name].oof, char.oof], [figures[name]], corpus),
        )

    if label_noise:
        x = matrices["shipped"]
        weights = nested_weights(x, corpus, below=0.02, weight=0.2)
        noisy = shipped_member(x, corpus, fold_weights=weights)
        noisy_sentences = sentence_figures(
            noisy, sentences_of(corpus, vectorizers["shipped"]), corpus
        )
        report("label noise (weight 0.2, t 0.02): stack", stack_score([noisy.oof], [], corpus))
        report(
            "label noise: stack + sentences (all six)",
            stack_score([noisy.oof], [noisy_sentences], corpus),
        )
        report("label noise: stack + char_wb", stack_score([noisy.oof, char.oof], [], corpus))
        report(
            "label noise: stack + char_wb + sentences (all six)",
            stack_score([noisy.oof, char.oof], [noisy_sentences], corpus),
        )
        for name in CONTRAST_WORDS[lang]:
            x = matrices[name]
            noisy = shipped_member(x, corpus, fold_weights=weights)
            report(f"label noise + contrast {name}: stack", stack_score([noisy.oof], [], corpus))
            report(
                f"label noise + contrast {name}: stack + char_wb",
                stack_score([noisy.oof, char.oof], [], corpus),
            )

    print(f"\n{lang}: gains over the reproduced shipped stack ({shipped:.4f})")
    for name, value in results:
        print(f"{value - shipped:+.4f}\t{value:.4f}\t{name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "pt"), required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--label-noise", action="store_true", help="also the eighth round's nested flags"
    )
    parser.add_argument(
        "--seed", type=int, default=8, help="random_state of the folds (8: the harness)"
    )
    parser.add_argument(
        "--star-weights",
        action="store_true",
        help="instead of the ninth round's table: the shipped stack with star-weighted training",
    )
    args = parser.parse_args()
    if args.star_weights:
        run_star_weights(args.lang, args.data_dir, seed=args.seed)
    else:
        run(args.lang, args.data_dir, label_noise=args.label_noise, seed=args.seed)


if __name__ == "__main__":
    main()
