"""Chinese word segmentation for the sentiment model's word block, one batch at a time.

The segmentation is the most probable path over a fixed dictionary, as jieba's
``cut(HMM=False)`` finds it, reduced to what can be computed for a whole batch with array
operations:

- **Dictionary.** jieba's ``dict.txt`` (MIT; see ``lexicons/segment_NOTICE.md``), normalised as
  reviews are (``normalize_text``): its words of 2-4 characters, and its single characters
  for their weights. A word's *weight* is its log-probability ``ln(freq / total)`` (``total``
  the sum of all frequencies in jieba's file) times ``SCALE`` = 10,000, rounded to an integer
  once, when the dictionary is built; a character jieba does not list weighs as frequency 1.
- **Definition.** Every character is a token by itself, and every dictionary word of 2-4
  characters is a candidate token. The segmentation of a text is the path of tokens from its
  start to its end with the largest sum of weights (integers, so sums are exact). **Ties**:
  the path is chosen from the end backwards (``best[i] = max over tokens t starting at i of
  weight(t) + best[i + len(t)]``), and where several tokens starting at ``i`` reach that
  maximum the longest one is taken (jieba's ``max((score, end))`` does the same). Nothing else
  is special: no HMM for unknown words, no grouping of Latin letters or digits (a Latin word is
  a run of one-character tokens unless the dictionary lists it).

:func:`segment_reference` is that definition in plain Python, one text at a time.
:class:`Segmenter` computes the same tokens for a batch: dictionary words are looked up for all
positions at once with exact base-``B`` keys of character ranks (as
:mod:`manyi.text.vectorize` does for n-grams); a boundary between two characters that no
candidate word crosses splits the text into independent *blocks* (every path passes it, so
the choices inside a block do not depend on what follows it); and the backward pass runs over
the positions of all blocks of the batch at once, step ``k`` handling every position ``k``
characters before its block's end. A batch of reviews needs as many steps as its longest
block has characters (a few dozen), not as its longest review. ``tests/text/test_segment.py``
checks that both give the same tokens on real reviews.

:class:`WordIndex` maps the tokens of a batch to the columns of a word-n-gram vocabulary (the
word block of :class:`~manyi.text.sentiment.SentimentModel`); :func:`word_features` is the
string path it replaces.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from manyi.text.normalize import normalize_text
from manyi.text.vectorize import (
    IntArray,
    _code_points,
    _key_table,
    _KeyTable,
    _ngram_columns,
    _segment_ends,
    columns_of_grams,
)

#: Weights are ``round(SCALE * ln(freq / total))``.
SCALE = 10_000
#: The longest dictionary word, in characters.
MAX_WORD = 4
DICTIONARY_FILE = "segment_zh.npz"
_NO_WORD = -(2**50)  # the weight of a candidate that is no dictionary word (never chosen)
_KEY_LIMIT = 2**63 - 1
_SPACE = ord(" ")


@dataclass(frozen=True)
class SegmentDictionary:
    """Dictionary entries (1-4 characters) and their integer weights.

    ``points`` concatenates the entries' code points, ``lengths`` gives each entry's length,
    ``weights`` its weight; ``unknown_weight`` is the weight of a character not listed.
    """

    points: IntArray
    lengths: IntArray
    weights: IntArray
    unknown_weight: int

    @classmethod
    def from_jieba(cls, path: Path) -> SegmentDictionary:
        """Build from a jieba-format dictionary (``word freq [tag]`` per line).

        Words are normalised as reviews are; those that become 1-4 characters without white
        space are kept (frequencies of words that normalise alike are added up).
        """
        frequencies: dict[str, int] = {}
        total = 0
        for line in path.read_text("utf-8").splitlines():
            parts = line.split(" ")
            if len(parts) < 2:
                continue
            freq = int(parts[1])
            total += freq
            word = normalize_text(parts[0])
            if 1 <= len(word) <= MAX_WORD and " " not in word and freq > 0:
                frequencies[word] = frequencies.get(word, 0) + freq
        words = sorted(frequencies)
        log_total = math.log(total)
        return cls(
            points=_code_points("".join(words)),
            lengths=np.array([len(w) for w in words], dtype=np.int64),
            weights=np.array(
                [round(SCALE * (math.log(frequencies[w]) - log_total)) for w in words],
                dtype=np.int64,
            ),
            unknown_weight=round(SCALE * -log_total),
        )

    def save(self, path: Path) -> None:
        """Write the arrays as a compressed ``.npz``."""
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                points=self.points.astype(np.uint32),
                lengths=self.lengths.astype(np.uint8),
                weights=self.weights.astype(np.int32),
                unknown_weight=np.array([self.unknown_weight], dtype=np.int64),
            )

    @classmethod
    def load(cls, source: Any) -> SegmentDictionary:
        """Read what :meth:`save` wrote (a path or an open binary file)."""
        with np.load(source) as arrays:
            return cls(
                points=arrays["points"].astype(np.int64),
                lengths=arrays["lengths"].astype(np.int64),
                weights=arrays["weights"].astype(np.int64),
                unknown_weight=int(arrays["unknown_weight"][0]),
            )

    def entries(self) -> list[str]:
        """The entries as strings, in the arrays' order."""
        text = self.points.astype(np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
        ends = np.cumsum(self.lengths).tolist()
        return [text[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]

    def weight_table(self) -> dict[str, int]:
        """Entry → weight, for :func:`segment_reference`."""
        return dict(zip(self.entries(), self.weights.tolist(), strict=True))


@lru_cache(maxsize=1)
def shipped_dictionary() -> SegmentDictionary:
    """The dictionary shipped in ``manyi.text.lexicons`` (built from jieba 0.42.1's)."""
    with (resources.files("manyi.text.lexicons") / DICTIONARY_FILE).open("rb") as handle:
        return SegmentDictionary.load(handle)


@lru_cache(maxsize=1)
def _shipped_weight_table() -> dict[str, int]:
    return shipped_dictionary().weight_table()


def segment_reference(
    text: str, table: Mapping[str, int] | None = None, unknown_weight: int | None = None
) -> list[str]:
    """The tokens of ``text`` (the definition in the module docstring), in plain Python.

    ``table`` maps entries to weights (default: the shipped dictionary's).

    Examples
    --------
    >>> segment_reference("质量很好物流也快")
    ['质量', '很', '好', '物流', '也', '快']
    """
    if table is None:
        table = _shipped_weight_table()
    if unknown_weight is None:
        unknown_weight = shipped_dictionary().unknown_weight
    n = len(text)
    best = [0] * (n + 1)
    length = [1] * n
    for i in range(n - 1, -1, -1):
        top = table.get(text[i], unknown_weight) + best[i + 1]
        choice = 1
        for size in range(2, min(MAX_WORD, n - i) + 1):
            weight = table.get(text[i : i + size])
            if weight is not None and weight + best[i + size] >= top:  # ties: the longer
                top, choice = weight + best[i + size], size
        best[i] = top
        length[i] = choice
    tokens: list[str] = []
    i = 0
    while i < n:
        tokens.append(text[i : i + length[i]])
        i += length[i]
    return tokens


def word_features(text: str, n_range: tuple[int, int]) -> list[str]:
    """Word n-grams of a normalised text: its tokens but spaces, joined by one space.

    Examples
    --------
    >>> word_features("很好 质量", (1, 2))
    ['很', '好', '质量', '很 好', '好 质量']
    """
    tokens = [t for t in segment_reference(text) if t != " "]
    lo, hi = n_range
    out: list[str] = []
    for n in range(lo, hi + 1):
        if n == 1:
            out.extend(tokens)
        else:
            out.extend([" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)])
    return out


@dataclass(frozen=True)
class WordBlockSpec:
    """The word block of a Chinese sentiment model: a second, separately normalised member.

    Sublinear TF-IDF of the word n-grams of :func:`word_features` (L2-normalised on their own),
    an NB-weighted logistic regression on them, and its logit averaged with the character
    model's: ``(1 - weight) * characters + weight * words``.

    Parameters
    ----------
    ngram : tuple of int
        ``(min_n, max_n)`` of the word n-grams.
    min_df : int
        Keep word n-grams found in at least this many training reviews.
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    nb_alpha : float
        Smoothing of the naive-Bayes log-count ratios.
    weight : float
        The word member's share of the averaged logit, in (0, 1).

    Examples
    --------
    >>> WordBlockSpec.from_dict(WordBlockSpec(weight=0.25).to_dict()).weight
    0.25
    """

    ngram: tuple[int, int] = (1, 2)
    min_df: int = 2
    C: float = 10.0
    nb_alpha: float = 1.0
    weight: float = 0.33

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as JSON-ready data."""
        data = asdict(self)
        data["ngram"] = list(self.ngram)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WordBlockSpec:
        """Build a spec from :meth:`to_dict` output."""
        return cls(
            ngram=(int(data["ngram"][0]), int(data["ngram"][1])),
            min_df=int(data["min_df"]),
            C=float(data["C"]),
            nb_alpha=float(data["nb_alpha"]),
            weight=float(data["weight"]),
        )


@dataclass(frozen=True)
class _WordTable:
    """Sorted keys of the words of one length (and prefixes of longer words)."""

    keys: IntArray
    weights: IntArray  # _NO_WORD for a key that is only a prefix
    entries: IntArray  # index of the dictionary entry, -1 for a prefix only


@dataclass(frozen=True)
class Tokens:
    """The tokens of a batch: start offsets in the joined text, lengths, dictionary entries.

    ``entries`` is the dictionary entry of a token of 2-4 characters, -1 for one character.
    """

    starts: IntArray
    lengths: IntArray
    entries: IntArray


class Segmenter:
    """Segments a batch of texts as :func:`segment_reference` does, with array operations.

    Examples
    --------
    >>> segmenter = Segmenter(shipped_dictionary())
    >>> text = "质量很好物流也快"
    >>> tokens = segmenter.segment(_code_points(text), np.array([len(text)]))
    >>> [text[a : a + n] for a, n in zip(tokens.starts.tolist(), tokens.lengths.tolist())]
    ['质量', '很', '好', '物流', '也', '快']
    """

    def __init__(self, dictionary: SegmentDictionary) -> None:
        points, lengths = dictionary.points, dictionary.lengths
        alphabet = np.unique(points)
        self._ranks = np.zeros(int(alphabet.max(initial=0)) + 2, dtype=np.int64)
        self._ranks[alphabet] = np.arange(1, len(alphabet) + 1)
        self._base = base = len(alphabet) + 1
        if base**MAX_WORD > _KEY_LIMIT:
            raise ValueError(f"{len(alphabet)} characters: word keys would not fit in 63 bits")
        self._unknown_weight = dictionary.unknown_weight
        self._n_entries = len(lengths)
        digits = self._ranks[points]
        starts = np.cumsum(lengths) - lengths
        single = lengths == 1
        self._char_weights = np.full(base, dictionary.unknown_weight, dtype=np.int64)
        self._char_weights[digits[starts[single]]] = dictionary.weights[single]
        # keys of every entry's first k characters, k = 2..4 (0 where it is shorter)
        tables: dict[int, _WordTable] = {}
        key = digits[starts]
        for size in range(2, MAX_WORD + 1):
            longer = lengths >= size
            key = np.where(longer, key * base + digits[np.where(longer, starts + size - 1, 0)], 0)
            is_word = lengths == size
            # words of this length, and the prefixes of longer words (to prune the look-ups)
            all_keys = key[longer]
            unique_keys = np.unique(all_keys)
            weights = np.full(len(unique_keys), _NO_WORD, dtype=np.int64)
            entries = np.full(len(unique_keys), -1, dtype=np.int64)
            at = np.searchsorted(unique_keys, key[is_word])
            weights[at] = dictionary.weights[is_word]
            entries[at] = np.flatnonzero(is_word)
            tables[size] = _WordTable(unique_keys, weights, entries)
        self._tables = tables

    @property
    def n_entries(self) -> int:
        return self._n_entries

    def segment(self, points: IntArray, doc_lengths: IntArray) -> Tokens:
        """Tokens of the texts whose code points are concatenated in ``points``.

        ``doc_lengths`` holds each text's length; tokens never cross from one text to the next.
        """
        n = len(points)
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Tokens(empty, empty, empty)
        positions = np.arange(n, dtype=np.int64)
        digits = self._ranks[np.minimum(points, len(self._ranks) - 1)]
        room = _segment_ends(doc_lengths) - positions  # characters left in the text
        # candidate weights and entries; column j holds tokens of 4 - j characters, so that
        # argmax (the first maximum) prefers the longest token on ties
        weight = np.full((n, MAX_WORD), _NO_WORD, dtype=np.int64)
        entry = np.full((n, MAX_WORD), -1, dtype=np.int64)
        weight[:, MAX_WORD - 1] = self._char_weights[digits]
        alive = np.flatnonzero((digits > 0) & (room >= 2))
        keys = digits[alive]
        crossing_starts: list[IntArray] = []
        crossing_ends: list[IntArray] = []
        for size in range(2, MAX_WORD + 1):
            if size > 2:
                more = room[alive] >= size
                alive, keys = alive[more], keys[more]
            following = digits[alive + size - 1]
            known = following > 0
            alive, keys = alive[known], keys[known] * self._base + following[known]
            table = self._tables[size]
            if len(alive) == 0 or len(table.keys) == 0:
                break
            at = np.minimum(np.searchsorted(table.keys, keys), len(table.keys) - 1)
            hit = table.keys[at] == keys
            alive, keys, at = alive[hit], keys[hit], at[hit]
            is_word = table.entries[at] >= 0
            words = alive[is_word]
            weight[words, MAX_WORD - size] = table.weights[at[is_word]]
            entry[words, MAX_WORD - size] = table.entries[at[is_word]]
            crossing_starts.append(words)
            crossing_ends.append(words + size - 1)
        # a boundary after position p is crossed if a candidate word covers p and p + 1
        cover = np.zeros(n + 1, dtype=np.int64)
        if crossing_starts:
            cover += np.bincount(np.concatenate(crossing_starts), minlength=n + 1)
            cover -= np.bincount(np.concatenate(crossing_ends), minlength=n + 1)
        crossed = np.cumsum(cover[:n]) > 0
        is_start = np.ones(n, dtype=bool)
        is_start[1:] = ~crossed[:-1]
        block_starts = np.flatnonzero(is_start)
        block_ends = np.append(block_starts[1:], n)
        end = np.repeat(block_ends, np.diff(np.append(block_starts, n)))
        # where each candidate leads: the next position, or n (best 0) at its block's end
        target = positions[:, None] + np.arange(MAX_WORD, 0, -1)[None, :]
        target = np.where(target >= end[:, None], n, target)
        best = np.zeros(n + 1, dtype=np.int64)
        choice = np.full(n, MAX_WORD - 1, dtype=np.int64)
        distance = end - positions
        order = np.argsort(distance, kind="stable")
        bounds = np.cumsum(np.bincount(distance))
        # step 1: the last character of every block is a token of its own
        last = order[: bounds[1]]
        best[last] = weight[last, MAX_WORD - 1]
        for step in range(2, len(bounds)):
            at_step = order[bounds[step - 1] : bounds[step]]
            score = weight[at_step] + best[target[at_step]]
            pick = score.argmax(axis=1)
            choice[at_step] = pick
            best[at_step] = score[np.arange(len(at_step)), pick]
        # forward: follow the chosen tokens from every block's start
        size_of = MAX_WORD - choice
        following_start = np.where(positions + size_of >= end, n, positions + size_of)
        on_path = np.zeros(n + 1, dtype=bool)
        frontier = block_starts
        while len(frontier):
            on_path[frontier] = True
            frontier = following_start[frontier]
            frontier = frontier[frontier < n]
        token_starts = np.flatnonzero(on_path[:n])
        return Tokens(
            starts=token_starts,
            lengths=size_of[token_starts],
            entries=entry[token_starts, choice[token_starts]],
        )


@lru_cache(maxsize=1)
def shipped_segmenter() -> Segmenter:
    """A :class:`Segmenter` of the shipped dictionary (built once per process)."""
    return Segmenter(shipped_dictionary())


class WordIndex:
    """Maps a batch of normalised texts to the columns of a word-n-gram vocabulary.

    The vocabulary's terms are what :func:`word_features` produces (tokens, and n-grams of
    tokens joined by one space); :meth:`columns` gives the ``(row, column)`` pairs
    :func:`word_columns_of_strings` gives, without building strings.

    Examples
    --------
    >>> index = WordIndex({"质量": 0, "好": 1, "质量 好": 2}, (1, 2))
    >>> rows, cols = index.columns(["质量好", "好"])
    >>> sorted(zip(rows.tolist(), cols.tolist()))
    [(0, 0), (0, 1), (0, 2), (1, 1)]
    """

    def __init__(self, vocabulary: Mapping[str, int], n_range: tuple[int, int]) -> None:
        self.n_range = n_range
        self._segmenter = shipped_segmenter()
        dictionary_ids = _dictionary_ids()
        terms: list[list[str]] = []
        columns: list[int] = []
        for term, column in vocabulary.items():
            tokens = term.split(" ")
            if n_range[0] <= len(tokens) <= n_range[1] and all(tokens):
                terms.append(tokens)
                columns.append(column)
        words = sorted({t for tokens in terms for t in tokens})
        word_ids = {w: i + 1 for i, w in enumerate(words)}
        self._base = len(words) + 1
        if self._base ** n_range[1] > _KEY_LIMIT:
            raise ValueError("word n-gram keys would not fit in 63 bits")
        singles = [w for w in words if len(w) == 1]
        top = max((ord(w) for w in singles), default=0)
        self._single_ids = np.zeros(top + 2, dtype=np.int64)
        for w in singles:
            self._single_ids[ord(w)] = word_ids[w]
        self._entry_ids = np.zeros(self._segmenter.n_entries + 1, dtype=np.int64)
        for w in words:
            if len(w) > 1 and w in dictionary_ids:
                self._entry_ids[dictionary_ids[w]] = word_ids[w]
        flat = [t for tokens in terms for t in tokens]
        self._table: _KeyTable = _key_table(
            np.fromiter(map(word_ids.__getitem__, flat), dtype=np.int64, count=len(flat)),
            np.fromiter(map(len, terms), dtype=np.int64, count=len(terms)),
            np.asarray(columns, dtype=np.int64),
            self._base,
            np.zeros(len(terms), dtype=np.int64),
        )

    def columns(self, docs: Sequence[str]) -> tuple[IntArray, IntArray]:
        """``(rows, columns)`` of every vocabulary word n-gram occurrence in ``docs``."""
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        points = _code_points("".join(docs))
        tokens = self._segmenter.segment(points, lengths)
        first = points[tokens.starts]
        keep = ~((tokens.lengths == 1) & (first == _SPACE))
        single = tokens.lengths[keep] == 1
        ids = np.where(
            single,
            self._single_ids[np.minimum(first[keep], len(self._single_ids) - 1)],
            self._entry_ids[tokens.entries[keep]],
        )
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        token_rows = doc_of[tokens.starts[keep]]
        counts = np.bincount(token_rows, minlength=len(docs))
        found_rows, found_cols = _ngram_columns(
            self._table, ids, counts, token_rows, self.n_range, self._base, 0
        )
        if not found_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found_rows), np.concatenate(found_cols)


@lru_cache(maxsize=1)
def _dictionary_ids() -> dict[str, int]:
    return {w: i for i, w in enumerate(shipped_dictionary().entries())}


def word_columns_of_strings(
    docs: Sequence[str], n_range: tuple[int, int], vocabulary: Mapping[str, int]
) -> tuple[IntArray, IntArray]:
    """The string path of :meth:`WordIndex.columns`: :func:`word_features` and a dict look-up."""
    return columns_of_grams(docs, lambda doc: word_features(doc, n_range), vocabulary)
