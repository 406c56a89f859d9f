"""Readers for the three labelled review corpora and the deterministic held-out split.

Used by ``manyi train-sentiment``, the slow tests, the benchmarks and
``scripts/cut_review_samples.py``; the product never calls them at run time (they read the
data folder the user passes in).

The split: within each stratum (the label for Chinese, the star rating for English and
Portuguese) the rows are ordered by ``blake2b("manyi-holdout-8:" + normalised split key)`` and
the first 20 % form the held-out part. The split key is the model's text for Chinese and
English and the message alone for Portuguese: the Portuguese model reads title + message since
issue 8, and keying on the message keeps its held-out reviews exactly those of the first
models. It needs no random generator (so it does not change with NumPy or scikit-learn
versions), does not depend on row order, and keeps duplicate texts on the same side. It does
depend on :func:`normalize_text` (normaliser version 1): changing the normaliser moves a few
rows across the split, so figures are comparable only within one normaliser version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from manyi.text.normalize import normalize_text

HOLDOUT_SHARE = 0.2
HOLDOUT_SALT = "manyi-holdout-8:"

#: Paths relative to the folder of public data sets given with ``--data-dir``.
CORPUS_FILES: dict[str, str] = {
    "zh": "online_shopping_10_cats/online_shopping_10_cats.dev.csv.gz",
    "en": "womens_clothing_reviews/womens_clothing_ecommerce_reviews.csv.gz",
    "pt": "olist/sample_15k/olist_order_reviews_dataset.csv.gz",
}


@dataclass(frozen=True)
class LabelledCorpus:
    """One corpus: ``frame`` has ``text``, ``label`` (1 positive, 0 negative, -1 excluded
    three-star), ``stratum``, ``split_key`` and ``holdout`` plus the source columns.

    Examples
    --------
    >>> from pathlib import Path
    >>> corpus = read_corpus("zh", Path("public-data"))  # doctest: +SKIP
    >>> len(corpus.train()), len(corpus.holdout())  # doctest: +SKIP
    (40101, 10025)
    """

    lang: str
    frame: pd.DataFrame

    def train(self) -> pd.DataFrame:
        """Rows for training: not held out and labelled 0/1."""
        f = self.frame
        return f[~f["holdout"] & (f["label"] >= 0)]

    def holdout(self, *, include_excluded: bool = False) -> pd.DataFrame:
        """Held-out rows; three-star rows only with ``include_excluded``."""
        f = self.frame
        mask = f["holdout"] if include_excluded else f["holdout"] & (f["label"] >= 0)
        return f[mask]


def holdout_mask(texts: pd.Series, strata: pd.Series, share: float = HOLDOUT_SHARE) -> np.ndarray:
    """Deterministic stratified held-out mask (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> mask = holdout_mask(pd.Series([f"r{i}" for i in range(10)]), pd.Series([0] * 10))
    >>> int(mask.sum())
    2
    """
    keys = texts.map(
        lambda t: hashlib.blake2b(
            (HOLDOUT_SALT + normalize_text(t)).encode("utf-8"), digest_size=8
        ).hexdigest()
    )
    mask = np.zeros(len(texts), dtype=bool)
    frame = pd.DataFrame({"key": keys.to_numpy(), "stratum": strata.to_numpy()})
    for _, group in frame.groupby("stratum", sort=True):
        ordered = group.sort_values("key", kind="stable").index.to_numpy()
        mask[ordered[: round(share * len(group))]] = True
    return mask


def read_corpus(lang: str, data_dir: Path) -> LabelledCorpus:
    """Read one labelled corpus from ``data_dir`` and mark its held-out part.

    - ``zh``: online_shopping_10_cats (``cat,label,review``); stratum = label.
    - ``en``: women's clothing reviews; text = ``Title`` and ``Review Text`` joined by
      ". "; 1-2 stars negative, 4-5 positive, 3 excluded (label -1); stratum = rating.
    - ``pt``: Olist reviews with a ``review_comment_message``; text = ``review_comment_title``
      (where there is one) and the message joined by ". "; same star rule; the split is keyed
      on the message alone.

    Raises
    ------
    FileNotFoundError
        If the corpus file is not under ``data_dir``.
    """
    if lang not in CORPUS_FILES:
        raise ValueError(f"unknown language {lang!r}; choose one of {sorted(CORPUS_FILES)}")
    path = Path(data_dir) / CORPUS_FILES[lang]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: corpus for {lang!r} not found under {data_dir}")
    raw = pd.read_csv(path, dtype_backend="numpy_nullable")
    if lang == "zh":
        frame = raw.rename(columns={"review": "review"}).copy()
        frame = frame[frame["review"].notna()].reset_index(drop=True)
        frame["text"] = frame["review"].astype(str)
        frame["label"] = frame["label"].astype(int)
        frame["stratum"] = frame["label"]
        frame["split_key"] = frame["text"]
    else:
        if lang == "en":
            body, title, rating = "Review Text", "Title", "Rating"
        else:
            body, title, rating = "review_comment_message", "review_comment_title", "review_score"
        frame = raw[raw[body].notna()].reset_index(drop=True).copy()
        titles = frame[title].fillna("").astype(str).str.strip()
        bodies = frame[body].astype(str)
        frame["text"] = np.where(titles != "", titles + ". " + bodies, bodies)
        frame["split_key"] = frame["text"] if lang == "en" else bodies
        stars = frame[rating].astype(int)
        frame["label"] = np.select([stars <= 2, stars >= 4], [0, 1], default=-1)
        frame["stratum"] = stars
    frame["holdout"] = holdout_mask(frame["split_key"], frame["stratum"])
    return LabelledCorpus(lang=lang, frame=frame)
