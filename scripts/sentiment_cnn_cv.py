"""A word-order CNN as one more lexicon-stack member (issue 8, tenth round; CV only).

A Kim-style CNN (Kim 2014: word embedding, convolutions of widths 2-4, ReLU, max-pool over
time, dropout, one logit) is trained inside the 5 folds of ``scripts/sentiment_cv.py`` on the
**training part only**; its out-of-fold logit is scored alone (``linear_score``) and as one
more stack member next to the shipped linear member (``stack_score([base.oof, cnn_oof], [],
corpus)``), optionally with the seventh round's char_wb member as well. The held-out part is
never read beyond what ``read_corpus`` needs to mark it.

Per fold: words are ``manyi.text.features.find_words`` of the normalised text (accents folded
where the shipped features fold them), cut at 150 words; the vocabulary is the words in at
least 2 reviews of the fold's training part, every other word one UNK id. 10 % of the fold's
training part (stratified, fixed seed) is a validation part: the network is trained on the
other 90 % for at most ``MAX_EPOCHS`` epochs (Adam, batches of 50 from length-sorted pools,
dropout 0.5) and the weights of the epoch with the lowest validation log-loss score the
evaluation fold (training stops after ``PATIENCE`` epochs without improvement). The evaluation
fold never chooses anything. Seeds are fixed; ``torch.set_num_threads`` is ``--threads`` (2
by default).

torch is not a dependency of the project; this script needs its own virtual environment::

    python3.11 -m venv .venv-cnn
    .venv-cnn/bin/pip install -e . torch

Run from the repository root (one process per language; at most two at once)::

    nice -n 19 .venv-cnn/bin/python scripts/sentiment_cnn_cv.py --lang en --variants A,B,C,D \\
        --char-wb --threads 1
    nice -n 19 .venv-cnn/bin/python scripts/sentiment_cnn_cv.py --lang pt --variants B \\
        --char-wb --threads 1 --seed 1
    OPENBLAS_NUM_THREADS=1 nice -n 19 .venv-cnn/bin/python scripts/sentiment_cnn_cv.py \\
        --speed --variants A --epochs 11 --threads 1

``--threads 1`` when two runs share the 2-core machine (two runs of 2 torch threads each
oversubscribe it several times over). ``--seed`` is the folds' ``random_state`` (8: the
harness of every round); ``--char-wb`` adds the seventh round's char_wb member to every stack
(``stack + CNN + char_wb``). Out-of-fold logits are kept in ``var/cnn/`` (ignored by git), and
a setting whose file is there is not trained again.
``--speed`` trains one network on the whole English training part and times a NumPy forward
pass (no torch: convolutions as matrix products, and as per-word look-up tables) against
``manyi.text.analyse(texts, "en", with_aspects=False)`` on the same texts in the same process.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from sklearn.model_selection import StratifiedShuffleSplit
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sentiment_cv import (
    Corpus,
    linear_score,
    load,
    log,
    member_oof,
    shipped_member,
    stack_score,
    tfidf,
)

from manyi.text.features import FeatureSpec, extract_features, find_words, strip_accents
from manyi.text.training import MODEL_SETTINGS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_WORDS = 150
MIN_REVIEWS = 2
MAX_EPOCHS = 30
PATIENCE = 3
BATCH = 50
LEARNING_RATE = 1e-3
DROPOUT = 0.5
VALIDATION_SHARE = 0.1
PAD, UNK = 0, 1


@dataclass(frozen=True)
class Setting:
    dim: int
    filters: int
    widths: tuple[int, ...] = (2, 3, 4)

    def __str__(self) -> str:
        widths = ",".join(map(str, self.widths))
        return f"dim {self.dim}, {self.filters} filters x widths {widths}"


#: The grid, fixed before any run (docs/text-model-card.md, tenth round).
SETTINGS = {
    "A": Setting(32, 50),
    "B": Setting(64, 50),
    "C": Setting(32, 100),
    "D": Setting(64, 100),
}


# -- words and ids ----------------------------------------------------------------------------
def word_lists(corpus: Corpus) -> list[list[str]]:
    fold = corpus.spec.fold_accents
    return [find_words(strip_accents(doc) if fold else doc)[:MAX_WORDS] for doc in corpus.docs]


def build_vocabulary(words: list[list[str]], rows: IntArray) -> dict[str, int]:
    """Words in at least ``MIN_REVIEWS`` of the given reviews, ids from 2 (0 pad, 1 UNK)."""
    counts: Counter[str] = Counter()
    for i in rows:
        counts.update(set(words[i]))
    kept = sorted(w for w, c in counts.items() if c >= MIN_REVIEWS)
    return {w: i + 2 for i, w in enumerate(kept)}


def encode(words: list[list[str]], vocabulary: dict[str, int]) -> list[IntArray]:
    return [np.array([vocabulary.get(w, UNK) for w in ws], dtype=np.int64) for ws in words]


def pad(ids: list[IntArray], extra: int) -> tuple[IntArray, IntArray]:
    """Ids padded to the batch's longest review plus ``extra`` (so every window fits)."""
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    out = np.zeros((len(ids), int(lengths.max(initial=0)) + extra), dtype=np.int64)
    for i, x in enumerate(ids):
        out[i, : len(x)] = x
    return out, lengths


# -- the network ------------------------------------------------------------------------------
class KimCNN(nn.Module):
    """Embedding, convolutions, ReLU, max-pool over the review's own windows, dropout, logit.

    A window starts at each word of the review (the last ones run into zero padding), and
    windows starting in the padding are masked before the max-pool, so a review's logit does
    not depend on the batch it is in (the NumPy forward pass below relies on this).
    """

    def __init__(self, vocabulary_size: int, setting: Setting) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocabulary_size, setting.dim, padding_idx=PAD)
        self.convs = nn.ModuleList(
            nn.Conv1d(setting.dim, setting.filters, w) for w in setting.widths
        )
        self.dropout = nn.Dropout(DROPOUT)
        self.out = nn.Linear(setting.filters * len(setting.widths), 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).transpose(1, 2)
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(x))
            valid = torch.arange(h.shape[2])[None, :] < lengths[:, None]
            pooled.append(h.masked_fill(~valid[:, None, :], 0.0).amax(dim=2))
        return self.out(self.dropout(torch.cat(pooled, dim=1))).squeeze(1)


def predict(model: KimCNN, ids: list[IntArray], extra: int) -> FloatArray:
    model.eval()
    out = np.zeros(len(ids))
    order = np.argsort([len(x) for x in ids])  # similar lengths together: less padding
    with torch.no_grad():
        for start in range(0, len(ids), 500):
            rows = order[start : start + 500]
            batch, lengths = pad([ids[i] for i in rows], extra)
            out[rows] = model(torch.from_numpy(batch), torch.from_numpy(lengths)).numpy()
    return out


def log_loss(labels: IntArray, logit: FloatArray) -> float:
    return float(
        np.mean(np.logaddexp(0.0, -logit) * labels + np.logaddexp(0.0, logit) * (1 - labels))
    )


def batches(lengths: IntArray, rng: np.random.Generator) -> list[IntArray]:
    """Batches of ``BATCH`` in random order, drawn from shuffled pools of 20 batches sorted by
    length (less padding: the English reviews are 64 words on average, up to 125)."""
    order = rng.permutation(len(lengths))
    out = []
    for start in range(0, len(order), BATCH * 20):
        pool = order[start : start + BATCH * 20]
        pool = pool[np.argsort(lengths[pool], kind="stable")]
        out.extend(pool[i : i + BATCH] for i in range(0, len(pool), BATCH))
    return [out[i] for i in rng.permutation(len(out))]


def train(
    ids: list[IntArray],
    labels: IntArray,
    vocabulary_size: int,
    setting: Setting,
    *,
    seed: int,
    validation: tuple[list[IntArray], IntArray] | None,
    epochs: int = MAX_EPOCHS,
) -> tuple[KimCNN, int]:
    """Adam on batches of ``BATCH``; with a validation part, the best epoch's weights."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = KimCNN(vocabulary_size, setting)
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.BCEWithLogitsLoss()
    extra = max(setting.widths) - 1
    target = torch.from_numpy(labels.astype(np.float32))
    best = (np.inf, 0, {k: v.clone() for k, v in model.state_dict().items()})
    lengths_of = np.array([len(x) for x in ids])
    for epoch in range(1, epochs + 1):
        model.train()
        for rows in batches(lengths_of, rng):
            batch, lengths = pad([ids[i] for i in rows], extra)
            optimiser.zero_grad()
            loss = loss_fn(model(torch.from_numpy(batch), torch.from_numpy(lengths)), target[rows])
            loss.backward()
            optimiser.step()
        if validation is None:
            continue
        value = log_loss(validation[1], predict(model, validation[0], extra))
        if value < best[0]:
            best = (value, epoch, {k: v.clone() for k, v in model.state_dict().items()})
        elif epoch - best[1] >= PATIENCE:
            break
    if validation is None:
        return model, epochs
    model.load_state_dict(best[2])
    return model, best[1]


def cnn_oof(corpus: Corpus, words: list[list[str]], setting: Setting) -> FloatArray:
    """Out-of-fold logits of the CNN; the epoch count chosen on a part of each training part."""
    oof = np.zeros(len(corpus.labels))
    extra = max(setting.widths) - 1
    for k, (train_idx, test_idx) in enumerate(corpus.folds):
        started = time.perf_counter()
        vocabulary = build_vocabulary(words, train_idx)
        ids = encode(words, vocabulary)
        splitter = StratifiedShuffleSplit(1, test_size=VALIDATION_SHARE, random_state=k)
        fit_pos, val_pos = next(splitter.split(train_idx, corpus.labels[train_idx]))
        fit_rows, val_rows = train_idx[fit_pos], train_idx[val_pos]
        model, epoch = train(
            [ids[i] for i in fit_rows],
            corpus.labels[fit_rows],
            len(vocabulary) + 2,
            setting,
            seed=100 + k,
            validation=([ids[i] for i in val_rows], corpus.labels[val_rows]),
        )
        oof[test_idx] = predict(model, [ids[i] for i in test_idx], extra)
        log(
            f"fold {k}: {len(vocabulary)} words, best epoch {epoch}, "
            f"{time.perf_counter() - started:.0f} s"
        )
    return oof


# -- the table --------------------------------------------------------------------------------
def char_member(corpus: Corpus) -> FloatArray:
    """The seventh round's char_wb 2-5 member (plain C 3), as in ``sentiment_cv.run``."""
    spec = FeatureSpec(char_wb=(2, 5), fold_accents=corpus.spec.fold_accents)
    x = tfidf(lambda doc: extract_features(doc, spec), 2).fit_transform(corpus.docs)
    return member_oof(x.tocsr(), corpus, c=3.0, nb=False, plain_c=None).oof


def run(lang: str, data_dir: Path, names: list[str], *, char_wb: bool, seed: int) -> None:
    corpus = load(lang, data_dir, seed)
    settings = MODEL_SETTINGS[lang]
    x = tfidf(lambda doc: extract_features(doc, corpus.spec), settings["min_df"])
    base = shipped_member(x.fit_transform(corpus.docs).tocsr(), corpus)
    shipped = stack_score([base.oof], [], corpus)
    print(f"{lang}\tseed {seed}\t{linear_score(base.oof, corpus):.4f}\tshipped linear", flush=True)
    print(f"{lang}\tseed {seed}\t{shipped:.4f}\tshipped stack (reproduced)", flush=True)
    char = char_member(corpus) if char_wb else None
    if char is not None:
        value = stack_score([base.oof, char], [], corpus)
        print(f"{lang}\tseed {seed}\t{value:.4f}\t{value - shipped:+.4f}\tstack + char_wb")
    words = word_lists(corpus)
    out_dir = Path("var/cnn")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        setting = SETTINGS[name]
        path = out_dir / f"{lang}-seed{seed}-{name}.npy"
        if path.exists():
            oof = np.load(path)
        else:
            started = time.perf_counter()
            oof = cnn_oof(corpus, words, setting)
            np.save(path, oof)
            log(f"{name} ({setting}): {time.perf_counter() - started:.0f} s")
        rows = [
            ("CNN alone", linear_score(oof, corpus)),
            ("stack + CNN", stack_score([base.oof, oof], [], corpus)),
        ]
        if char is not None:
            rows.append(("stack + CNN + char_wb", stack_score([base.oof, oof, char], [], corpus)))
        for label, value in rows:
            gain = "" if label == "CNN alone" else f"{value - shipped:+.4f}"
            print(
                f"{lang}\tseed {seed}\t{value:.4f}\t{gain}\t{label}: {name} ({setting})", flush=True
            )


# -- prediction without torch -----------------------------------------------------------------
@dataclass
class Arrays:
    """What a package would store: the vocabulary, the embedding and the layer weights."""

    vocabulary: dict[str, int]
    embedding: npt.NDArray[np.float32]  # (V, d)
    kernels: list[npt.NDArray[np.float32]]  # per width w: (w, d, F), offset-major
    biases: list[npt.NDArray[np.float32]]  # per width: (F,)
    out_weight: npt.NDArray[np.float32]  # (len(widths) * F,)
    out_bias: float

    @classmethod
    def of(cls, model: KimCNN, vocabulary: dict[str, int]) -> Arrays:
        return cls(
            vocabulary,
            model.embedding.weight.detach().numpy().copy(),
            [c.weight.detach().numpy().transpose(2, 1, 0).copy() for c in model.convs],
            [c.bias.detach().numpy().copy() for c in model.convs],
            model.out.weight.detach().numpy()[0].copy(),
            float(model.out.bias.detach().numpy()[0]),
        )

    def stacked(self) -> npt.NDArray[np.float32]:
        """Every width's kernel offsets side by side: (d, sum of w * F)."""
        return np.concatenate([k[i] for k in self.kernels for i in range(k.shape[0])], axis=1)

    def table(self) -> npt.NDArray[np.float32]:
        """The embedding folded into the convolutions: (V, sum of w * F), built at load."""
        return self.embedding @ self.stacked()


def numpy_logits(
    arrays: Arrays,
    ids: list[IntArray],
    *,
    stacked: npt.NDArray[np.float32] | None = None,
    table: npt.NDArray[np.float32] | None = None,
) -> FloatArray:
    """The CNN's logits in NumPy: look-up, convolutions, ReLU, masked max-pool, logit.

    Every word position is projected on every offset of every kernel at once: with
    ``stacked``, one (B * L, d) x (d, sum of w * F) product of the looked-up embeddings; with
    ``table`` (the same product done once per vocabulary word), one look-up of rows. A window's
    value is then the sum of its words' projections on their offsets (shifted slices).
    """
    extra = max(k.shape[0] for k in arrays.kernels) - 1
    batch, lengths = pad(ids, extra)
    b, length = batch.shape
    if table is not None:
        proj = table[batch]
    else:
        assert stacked is not None
        x = arrays.embedding[batch].reshape(b * length, -1)
        proj = (x @ stacked).reshape(b, length, -1)
    valid = np.arange(length)[None, :] < lengths[:, None]
    pooled = []
    col = 0
    for kernel, bias in zip(arrays.kernels, arrays.biases, strict=True):
        width, _, filters = kernel.shape
        span = length - width + 1
        h = proj[:, :span, col : col + filters] + bias
        for i in range(1, width):
            h += proj[:, i : i + span, col + i * filters : col + (i + 1) * filters]
        col += width * filters
        np.maximum(h, 0.0, out=h)
        h *= valid[:, :span, None]
        pooled.append(h.max(axis=1))
    return np.concatenate(pooled, axis=1) @ arrays.out_weight + arrays.out_bias


def speed(data_dir: Path, name: str, epochs: int) -> None:
    """Reviews/s of the NumPy forward pass and of ``analyse`` on the English training texts."""
    from manyi.text import analyse

    corpus = load("en", data_dir)
    setting = SETTINGS[name]
    words = word_lists(corpus)
    vocabulary = build_vocabulary(words, np.arange(len(words)))
    ids = encode(words, vocabulary)
    # trained on the whole part for the CV folds' typical best epoch, as a package would be
    model, _ = train(
        ids, corpus.labels, len(vocabulary) + 2, setting, seed=8, validation=None, epochs=epochs
    )
    arrays = Arrays.of(model, vocabulary)
    reference = predict(model, ids, max(setting.widths) - 1)
    stacked, table = arrays.stacked(), arrays.table()
    texts = corpus.docs

    def cnn_pass(*, use_table: bool, batch: int = 256) -> FloatArray:
        # as a package would: words of the whole call, batches of similar length
        found = encode([find_words(d)[:MAX_WORDS] for d in texts], vocabulary)
        order = np.argsort([len(x) for x in found], kind="stable")
        out = np.zeros(len(texts))
        for s in range(0, len(texts), batch):
            rows = order[s : s + batch]
            out[rows] = numpy_logits(
                arrays,
                [found[i] for i in rows],
                stacked=stacked,
                table=table if use_table else None,
            )
        return out

    for use_table in (False, True):
        got = cnn_pass(use_table=use_table)
        log(f"table {use_table}: max |numpy - torch| {np.max(np.abs(got - reference)):.2e}")

    def words_only() -> None:
        encode([find_words(d)[:MAX_WORDS] for d in texts], vocabulary)

    def both() -> None:
        analyse(texts, "en", with_aspects=False)
        cnn_pass(use_table=False)

    runs = {
        "analyse(texts, 'en', with_aspects=False)": lambda: analyse(
            texts, "en", with_aspects=False
        ),
        "CNN, NumPy, one product per batch (words + forward)": lambda: cnn_pass(use_table=False),
        "CNN, NumPy, look-up table (words + forward)": lambda: cnn_pass(use_table=True),
        "words and ids alone": words_only,
        "analyse + CNN (product), one after the other": both,
    }
    torch.set_num_threads(1)
    best: dict[str, float] = dict.fromkeys(runs, np.inf)
    for _ in range(5):
        for label, fn in runs.items():
            started = time.perf_counter()
            fn()
            best[label] = min(best[label], time.perf_counter() - started)
    size = sum(a.nbytes for a in (arrays.embedding, *arrays.kernels)) / 1e6
    print(f"setting {name} ({setting}), {len(vocabulary)} words, {size:.2f} MB float32 arrays")
    print(f"table: {table.nbytes / 1e6:.1f} MB float32 (built at load)")
    for label, seconds in best.items():
        print(f"{len(texts) / seconds:,.0f} reviews/s\t{label} ({len(texts)} reviews, best of 5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "pt"), default="en")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--variants", default="A,B,C,D", help="names in SETTINGS, comma-separated")
    parser.add_argument("--char-wb", action="store_true", help="also with the char_wb member")
    parser.add_argument("--seed", type=int, default=8, help="random_state of the folds")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads (1 when two processes share 2 cores)"
    )
    parser.add_argument("--speed", action="store_true", help="time the NumPy forward pass (en)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the --speed network")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.speed:
        speed(args.data_dir, args.variants.split(",")[0], args.epochs)
        return
    run(args.lang, args.data_dir, args.variants.split(","), char_wb=args.char_wb, seed=args.seed)


if __name__ == "__main__":
    main()
