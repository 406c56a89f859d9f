"""A small neural partner for the linear sentiment model, stored as plain arrays.

One hidden layer (ReLU) reads the same L2-normalised sublinear TF-IDF vector as the linear
model, restricted to its most frequent n-grams, and gives a second logit that is averaged
with the linear one. Unlike the linear model it can weigh n-grams jointly (a fastText-style
bag of n-gram embeddings with a non-linearity), so its errors differ from the linear model's;
issue 8's cross-validation on the training parts chose where it helps (see
``docs/text-model-card.md``). Training uses scikit-learn's ``MLPClassifier``; prediction is
one sparse-times-dense product and a few NumPy operations, so the shipped files need no
neural-network runtime.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class NetworkSpec:
    """Settings of the neural partner.

    Parameters
    ----------
    columns : int
        Feed the network the ``columns`` n-grams found in most training reviews (the rest of
        the vocabulary keeps only its linear weight; this bounds the file size).
    hidden : int
        Width of the hidden layer.
    alpha : float
        L2 penalty of ``MLPClassifier``.
    epochs : int
        Passes over the training reviews (Adam, batches of 128, no early stopping, so the
        fit is deterministic).
    weight : float
        Weight of the network's logit in the average with the linear model's.

    Examples
    --------
    >>> NetworkSpec(columns=1000, hidden=8, alpha=1e-4, epochs=3, weight=0.3).to_dict()["hidden"]
    8
    """

    columns: int
    hidden: int
    alpha: float
    epochs: int
    weight: float

    def to_dict(self) -> dict[str, float | int]:
        """The settings as JSON-ready data."""
        return {
            "columns": self.columns,
            "hidden": self.hidden,
            "alpha": self.alpha,
            "epochs": self.epochs,
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            columns=int(data["columns"]),
            hidden=int(data["hidden"]),
            alpha=float(data["alpha"]),
            epochs=int(data["epochs"]),
            weight=float(data["weight"]),
        )


@dataclass
class Network:
    """The fitted network's arrays.

    ``columns`` are vocabulary columns (ascending); ``w1`` has one row per column. The
    first-layer weights are kept at float16 precision (the model's largest array; rounded at
    fit time, so a loaded model predicts exactly what the fitted one did).
    """

    columns: IntArray
    w1: npt.NDArray[np.float32]
    b1: npt.NDArray[np.float32]
    w2: npt.NDArray[np.float32]
    b2: float

    def __post_init__(self) -> None:
        self._position: IntArray | None = None

    def position(self, n_features: int) -> IntArray:
        """Row of ``w1`` for each vocabulary column (-1 where the network does not read it)."""
        if self._position is None or len(self._position) != n_features:
            position = np.full(n_features, -1, dtype=np.int64)
            position[self.columns] = np.arange(len(self.columns))
            self._position = position
        return self._position

    def logits(
        self, row: IntArray, col: IntArray, value: FloatArray, n_docs: int, n_features: int
    ) -> FloatArray:
        """The network's logit for each document.

        ``row``/``col``/``value`` are the non-zero entries of the normalised TF-IDF vectors,
        sorted by row (as :func:`manyi.text.sentiment._probabilities` produces them).
        """
        pos = self.position(n_features)[col]
        keep = pos >= 0
        kept_rows = row[keep]
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(kept_rows, minlength=n_docs), out=indptr[1:])
        x = csr_matrix(
            (value[keep].astype(np.float32), pos[keep], indptr),
            shape=(n_docs, len(self.columns)),
        )
        hidden = np.maximum(np.asarray(x @ self.w1) + self.b1, 0.0)
        return np.asarray(hidden @ self.w2, dtype=np.float64) + self.b2

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Arrays to store (``w1`` as float16)."""
        return {
            "net_columns": self.columns.astype(np.int32),
            "net_w1": self.w1.astype(np.float16),
            "net_b1": self.b1,
            "net_w2": self.w2,
            "net_b2": np.array([self.b2], dtype=np.float32),
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> Network:
        """Inverse of :meth:`arrays`."""
        return cls(
            columns=arrays["net_columns"].astype(np.int64),
            w1=arrays["net_w1"].astype(np.float32),
            b1=arrays["net_b1"].astype(np.float32),
            w2=arrays["net_w2"].astype(np.float32),
            b2=float(arrays["net_b2"][0]),
        )


def frequent_columns(x: Any, n: int) -> IntArray:
    """The ``n`` columns of ``x`` non-zero in most rows (ties: lower column), ascending."""
    df = np.bincount(x.tocsr().indices, minlength=x.shape[1])
    return np.sort(np.argsort(-df, kind="stable")[:n]).astype(np.int64)


def fit_network(x: Any, labels: npt.NDArray[np.int64], spec: NetworkSpec) -> Network:
    """Fit the network on the normalised TF-IDF matrix ``x`` (rows: reviews) and 0/1 labels."""
    from sklearn.neural_network import MLPClassifier

    columns = frequent_columns(x, spec.columns)
    inputs = x.tocsr()[:, columns].astype(np.float32)
    classifier = MLPClassifier(
        hidden_layer_sizes=(spec.hidden,),
        alpha=spec.alpha,
        batch_size=128,
        learning_rate_init=1e-3,
        max_iter=spec.epochs,
        random_state=8,
    )
    with warnings.catch_warnings():
        # a fixed number of epochs is the setting, not a failure to converge
        warnings.simplefilter("ignore")
        classifier.fit(inputs, labels)
    w1 = np.asarray(classifier.coefs_[0], dtype=np.float16).astype(np.float32)
    return Network(
        columns=columns,
        w1=w1,
        b1=np.asarray(classifier.intercepts_[0], dtype=np.float32),
        w2=np.asarray(classifier.coefs_[1][:, 0], dtype=np.float32),
        b2=float(np.float32(classifier.intercepts_[1][0])),
    )
