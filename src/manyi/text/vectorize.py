"""Feature columns of a batch of texts, found without building n-gram strings.

:func:`manyi.text.features.extract_features` spells out every n-gram as a string, and the
model looks each one up in its vocabulary: for the Chinese model that is about 240 fresh
strings and dictionary look-ups per review, most of the time a review takes. A
:class:`FeatureIndex` finds the same vocabulary columns with array arithmetic instead:

- **Characters** (the ``char`` and ``char_wb`` families). Every character that occurs in a
  vocabulary n-gram gets a rank ``1..A``; an n-gram of ranks ``r1..rn`` gets the integer key
  ``r1·B^(n-1) + ... + rn`` with ``B = A + 1``. The digits are never 0, so this is the
  ordinary base-``B`` representation of the key: two different n-grams (of any lengths) have
  different keys, exactly, with no hashing and so no collisions. The batch's texts become one
  array of code points, the keys of all n-grams of length ``n`` follow from those of length
  ``n - 1`` in one vectorised step, and ``np.searchsorted`` on the sorted keys of the
  vocabulary finds their columns. An n-gram with a character outside the alphabet cannot be in
  the vocabulary and is skipped.
- **Words** (the ``word`` family and the position-marked copies). The words still come from
  the regular expressions of :mod:`manyi.text.features` (one ``findall`` per review) and are
  mapped to word ids with one dictionary look-up each; the n-grams of ids are keyed the same
  way, with the family in the highest digit. Negation-marked words are single words: one
  look-up each, straight to their column.

Keys are plain ``int64`` values, so they are exact only while ``B ** max_n`` (times the number
of word families) stays below ``2 ** 63``; :meth:`FeatureIndex.build` returns ``None`` for a
vocabulary that does not fit, and the caller then uses the string path. Both paths give the
same ``(row, column)`` pairs, hence bit-identical probabilities
(``tests/text/test_vectorize.py`` checks it on the held-out reviews of all three languages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

from manyi.text.features import (
    CHAR_MARK,
    FIRST_MARK,
    LAST_MARK,
    NEGATION_MARK,
    FeatureSpec,
    extract_features,
    negated_words,
    sentence_split,
    strip_accents,
    words_and_sentence_ends,
)

IntArray = npt.NDArray[np.int64]

_KEY_LIMIT = 2**63 - 1
# Word-key families (the highest digit of a word key): plain n-grams, first / last sentence.
_WORD_FAMILIES = {"": 0, FIRST_MARK: 1, LAST_MARK: 2}
_SENTENCE_END_ID = -1


@dataclass(frozen=True)
class _KeyTable:
    """Sorted exact keys of vocabulary n-grams, their columns, and where prefixes prune.

    ``closed`` holds the lengths ``n`` for which every key of length ``n`` has its
    ``(n - 1)``-prefix in the table too. A vocabulary cut only by ``min_df`` is closed at every
    length (an n-gram is in no more reviews than its prefix), and then an n-gram whose prefix
    was not found need not be looked up.
    """

    keys: IntArray
    columns: IntArray
    closed: frozenset[int]

    @classmethod
    def build(
        cls, keys: IntArray, columns: IntArray, lengths: IntArray, prefixes: IntArray
    ) -> _KeyTable:
        """``prefixes`` holds each key's (n - 1)-prefix key (anything for n = 1)."""
        order = np.argsort(keys, kind="stable")
        table = cls(keys=keys[order], columns=columns[order], closed=frozenset())
        has_prefix = table.lookup(prefixes) >= 0
        closed = {
            int(n) for n in np.unique(lengths) if n >= 2 and bool(np.all(has_prefix[lengths == n]))
        }
        return cls(keys=table.keys, columns=table.columns, closed=frozenset(closed))

    def lookup(self, queries: IntArray) -> IntArray:
        """The column of each query key, ``-1`` where it is not a vocabulary key."""
        if len(self.keys) == 0 or len(queries) == 0:
            return np.full(len(queries), -1, dtype=np.int64)
        at = np.searchsorted(self.keys, queries)
        np.minimum(at, len(self.keys) - 1, out=at)
        return np.where(self.keys[at] == queries, self.columns[at], -1)

    def is_unique(self) -> bool:
        return len(self.keys) == 0 or bool(np.all(self.keys[1:] != self.keys[:-1]))


def _code_points(text: str) -> IntArray:
    # UTF-32 has one unit per code point, as Python indexes strings; "surrogatepass" keeps a
    # lone surrogate (text decoded with errors="surrogateescape") as one unit too.
    units = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return units.astype(np.int64)


def _segment_ends(lengths: IntArray) -> IntArray:
    """For each element of the concatenated segments, the end offset of its segment."""
    return np.repeat(np.cumsum(lengths), lengths)


def _ngram_columns(
    table: _KeyTable,
    digits: IntArray,
    segment_lengths: IntArray,
    element_rows: IntArray,
    n_range: tuple[int, int],
    base: int,
    offset: int,
) -> tuple[list[IntArray], list[IntArray]]:
    """Rows and columns of the vocabulary n-grams inside the segments of ``digits``.

    ``digits`` concatenates the segments (ranks or word ids, 0 for unknown),
    ``element_rows`` gives the document row of each element, and ``offset`` is added to every
    key (the word family). Works level by level: ``alive`` holds the start positions whose
    n-gram has only known digits (and, where the table is closed, was found), and the keys of
    the ``(n + 1)``-grams extend theirs by one digit.
    """
    lo, hi = n_range
    ends = _segment_ends(segment_lengths)
    alive = np.flatnonzero(digits > 0)
    keys = digits[alive]
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for n in range(1, hi + 1):
        if n > 1:
            inside = alive + (n - 1) < ends[alive]
            alive, keys = alive[inside], keys[inside]
            following = digits[alive + (n - 1)]
            known = following > 0
            alive, keys = alive[known], keys[known] * base + following[known]
        if len(alive) == 0:
            break
        if n < lo and (n + 1) not in table.closed:
            continue
        found = table.lookup(keys + offset)
        hit = found >= 0
        if n >= lo:
            rows.append(element_rows[alive[hit]])
            cols.append(found[hit])
        if (n + 1) in table.closed:
            alive, keys = alive[hit], keys[hit]
    return rows, cols


def _key_table(
    digits: IntArray, lengths: IntArray, columns: IntArray, base: int, offsets: IntArray
) -> _KeyTable:
    """The table of terms given as concatenated digits (``lengths`` digits each)."""
    # digit j of a term of length L weighs base ** (L - 1 - j): the distance to its end
    ends = _segment_ends(lengths)
    weights = np.asarray(base, dtype=np.int64) ** (ends - 1 - np.arange(len(digits)))
    starts = np.cumsum(lengths) - lengths
    keys = (
        np.add.reduceat(digits * weights, starts) if len(lengths) else np.zeros(0, dtype=np.int64)
    )
    keys = np.asarray(keys, dtype=np.int64)
    return _KeyTable.build(keys + offsets, columns, lengths, keys // base + offsets)


class FeatureIndex:
    """Maps a batch of normalised texts to the vocabulary columns of their n-grams.

    Build it with :meth:`build` from a fitted vocabulary and the model's
    :class:`~manyi.text.features.FeatureSpec`; :meth:`columns` then returns what
    :func:`string_columns` returns, faster.

    Examples
    --------
    >>> spec = FeatureSpec(char=(1, 2))
    >>> vocabulary = {"\\x01好": 0, "\\x01很": 1, "\\x01很好": 2}
    >>> index = FeatureIndex.build(vocabulary, spec)
    >>> rows, cols = index.columns(["很好", "不好"])
    >>> sorted(zip(rows.tolist(), cols.tolist()))
    [(0, 0), (0, 1), (0, 2), (1, 0)]
    """

    def __init__(
        self,
        spec: FeatureSpec,
        *,
        char_ranks: IntArray,
        char_base: int,
        char_table: _KeyTable,
        word_ids: dict[str, int],
        word_base: int,
        family_unit: int,
        word_table: _KeyTable,
        negation_columns: dict[str, int],
    ) -> None:
        self.spec = spec
        self._char_ranks = char_ranks
        self._char_base = char_base
        self._char_table = char_table
        # word -> id, and the sentence end "" of words_and_sentence_ends -> a negative id
        self._token_ids = {**word_ids, "": _SENTENCE_END_ID}
        self._word_base = word_base
        self._family_unit = family_unit
        self._word_table = word_table
        self._negation_columns = negation_columns

    @classmethod
    def build(cls, vocabulary: Mapping[str, int], spec: FeatureSpec) -> FeatureIndex | None:
        """Index ``vocabulary`` (n-gram → column); ``None`` if exact integer keys do not fit.

        Entries that ``spec`` cannot produce are left out (the string path never finds them
        either).
        """
        char_max_n = max(family[1] for family in (spec.char, spec.char_wb, (0, 0)) if family)
        word_max_n = max(spec.word[1] if spec.word else 0, 2 if spec.mark_position else 0)
        char_terms: list[str] = []
        char_cols: list[int] = []
        word_terms: list[tuple[int, list[str]]] = []
        word_cols: list[int] = []
        negation_columns: dict[str, int] = {}
        for term, column in vocabulary.items():
            if term.startswith(CHAR_MARK):
                if 0 < len(term) - 1 <= char_max_n:
                    char_terms.append(term[1:])
                    char_cols.append(column)
            elif term.startswith(NEGATION_MARK):
                negation_columns[term[len(NEGATION_MARK) :]] = column
            elif term:
                family = _WORD_FAMILIES.get(term[0], 0)
                words = (term[1:] if family else term).split(" ")
                if len(words) <= word_max_n:
                    word_terms.append((family, words))
                    word_cols.append(column)

        points = _code_points("".join(char_terms))
        present = np.zeros(int(points.max(initial=0)) + 1, dtype=bool)
        present[points] = True
        alphabet = np.flatnonzero(present) if len(points) else points
        char_base = len(alphabet) + 1
        vocabulary_words = sorted({w for _, ws in word_terms for w in ws})
        word_base = len(vocabulary_words) + 1
        if (
            char_base**char_max_n > _KEY_LIMIT
            or len(_WORD_FAMILIES) * word_base**word_max_n > _KEY_LIMIT
        ):
            return None
        char_ranks = np.zeros(int(alphabet.max(initial=0)) + 2, dtype=np.int64)
        char_ranks[alphabet] = np.arange(1, len(alphabet) + 1)
        char_table = _key_table(
            char_ranks[points],
            np.fromiter(map(len, char_terms), dtype=np.int64, count=len(char_terms)),
            np.asarray(char_cols, dtype=np.int64),
            char_base,
            np.zeros(len(char_terms), dtype=np.int64),
        )

        word_ids = {w: i + 1 for i, w in enumerate(vocabulary_words)}
        family_unit = word_base**word_max_n
        flat = [w for _, ws in word_terms for w in ws]
        word_table = _key_table(
            np.fromiter(map(word_ids.__getitem__, flat), dtype=np.int64, count=len(flat)),
            np.fromiter((len(ws) for _, ws in word_terms), dtype=np.int64, count=len(word_terms)),
            np.asarray(word_cols, dtype=np.int64),
            word_base,
            np.fromiter((f for f, _ in word_terms), dtype=np.int64, count=len(word_terms))
            * family_unit,
        )
        if not (char_table.is_unique() and word_table.is_unique()):
            return None  # unreachable for a vocabulary the spec produced; be safe anyway
        return cls(
            spec,
            char_ranks=char_ranks,
            char_base=char_base,
            char_table=char_table,
            word_ids=word_ids,
            word_base=word_base,
            family_unit=family_unit,
            word_table=word_table,
            negation_columns=negation_columns,
        )

    # -- look-up --------------------------------------------------------------------------
    def columns(self, docs: Sequence[str]) -> tuple[IntArray, IntArray]:
        """``(rows, columns)`` of every vocabulary n-gram occurrence in ``docs``.

        ``docs`` are normalised texts (``normalize_text``); the pairs are those of
        :func:`string_columns`, not necessarily in the same order.
        """
        spec = self.spec
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        if spec.char is not None:
            lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
            one_each = np.ones(len(docs), dtype=np.int64)
            self._char_columns("".join(docs), lengths, one_each, spec.char, rows, cols)
        if spec.word is not None or spec.char_wb is not None or spec.mark_position:
            self._word_columns(docs, rows, cols)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _char_columns(
        self,
        text: str,
        segment_lengths: IntArray,
        doc_lengths: IntArray,
        n_range: tuple[int, int],
        rows: list[IntArray],
        cols: list[IntArray],
    ) -> None:
        """Char n-grams inside each segment of ``text``; ``doc_lengths`` counts segments per
        document (the documents themselves for ``char``, their padded words for ``char_wb``).
        """
        points = _code_points(text)
        np.minimum(points, len(self._char_ranks) - 1, out=points)
        digits = self._char_ranks[points]
        segment_rows = np.repeat(np.arange(len(doc_lengths), dtype=np.int64), doc_lengths)
        element_rows = np.repeat(segment_rows, segment_lengths)
        found_rows, found_cols = _ngram_columns(
            self._char_table, digits, segment_lengths, element_rows, n_range, self._char_base, 0
        )
        rows.extend(found_rows)
        cols.extend(found_cols)

    def _word_columns(
        self, docs: Sequence[str], rows: list[IntArray], cols: list[IntArray]
    ) -> None:
        spec = self.spec
        n_docs = len(docs)
        doc_rows = np.arange(n_docs, dtype=np.int64)
        # One scan per text gives its words and, as "", its sentence ends.
        tokens: list[str] = []
        token_counts = np.zeros(n_docs, dtype=np.int64)
        trailing_end = np.zeros(n_docs, dtype=np.int64)
        negated: list[str] = []
        negated_counts = np.zeros(n_docs, dtype=np.int64)
        for i, doc in enumerate(docs):
            text = strip_accents(doc) if spec.fold_accents else doc
            found = words_and_sentence_ends(text)
            tokens.extend(found)
            token_counts[i] = len(found)
            if text[-1:].isspace():
                # white space after a final full stop opens no sentence (normalised text never
                # ends in white space)
                trailing_end[i] = _ends_with_sentence_end(text)
            if spec.mark_negation:
                neg = negated_words(text)
                negated.extend(neg)
                negated_counts[i] = len(neg)
        if negated:
            found_cols = np.fromiter(
                map(self._negation_columns.get, negated, repeat(-1)),
                dtype=np.int64,
                count=len(negated),
            )
            hit = found_cols >= 0
            rows.append(np.repeat(doc_rows, negated_counts)[hit])
            cols.append(found_cols[hit])
        if not tokens:
            return
        ids = np.fromiter(
            map(self._token_ids.get, tokens, repeat(0)), dtype=np.int64, count=len(tokens)
        )
        token_rows = np.repeat(doc_rows, token_counts)
        is_end = ids == _SENTENCE_END_ID
        is_word = ~is_end
        if spec.word is not None:
            counts = np.bincount(token_rows[is_word], minlength=n_docs)
            self._id_columns(ids[is_word], counts, doc_rows, spec.word, 0, rows, cols)
        if spec.mark_position:
            # sentence number of each token within its text; the first sentence is number 0,
            # the last one the number of sentence ends (less a trailing one)
            ends_before = np.cumsum(is_end) - is_end
            doc_start = np.cumsum(token_counts) - token_counts
            ends_before -= np.repeat(ends_before[np.minimum(doc_start, len(ids) - 1)], token_counts)
            last = np.bincount(token_rows[is_end], minlength=n_docs) - trailing_end
            for family, in_sentence in (
                (_WORD_FAMILIES[FIRST_MARK], ends_before == 0),
                (_WORD_FAMILIES[LAST_MARK], ends_before == last[token_rows]),
            ):
                take = is_word & in_sentence
                counts = np.bincount(token_rows[take], minlength=n_docs)
                self._id_columns(ids[take], counts, doc_rows, (1, 2), family, rows, cols)
        if spec.char_wb is not None:
            words = [t for t in tokens if t]
            word_counts = np.bincount(token_rows[is_word], minlength=n_docs)
            padded = "".join([f" {w} " for w in words])
            lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 2
            self._char_columns(padded, lengths, word_counts, spec.char_wb, rows, cols)

    def _id_columns(
        self,
        ids: IntArray,
        counts: IntArray,
        doc_rows: IntArray,
        n_range: tuple[int, int],
        family: int,
        rows: list[IntArray],
        cols: list[IntArray],
    ) -> None:
        if len(ids) == 0:
            return
        element_rows = np.repeat(doc_rows, counts)
        offset = family * self._family_unit
        found_rows, found_cols = _ngram_columns(
            self._word_table, ids, counts, element_rows, n_range, self._word_base, offset
        )
        rows.extend(found_rows)
        cols.extend(found_cols)


def _ends_with_sentence_end(text: str) -> bool:
    """Whether the last piece of the sentence split is empty (white space after "." at the end)."""
    pieces = sentence_split(text)
    return len(pieces) > 1 and not pieces[-1]


def string_columns(
    docs: Sequence[str], spec: FeatureSpec, vocabulary: Mapping[str, int]
) -> tuple[IntArray, IntArray]:
    """``(rows, columns)`` of every vocabulary n-gram in ``docs``, spelt out as strings.

    The reference path: :func:`~manyi.text.features.extract_features` per text and one
    dictionary look-up per n-gram. Used where no :class:`FeatureIndex` could be built.
    """
    return columns_of_grams(docs, lambda doc: extract_features(doc, spec), vocabulary)


def columns_of_grams(
    docs: Sequence[str],
    features: Callable[[str], Sequence[str]],
    vocabulary: Mapping[str, int],
) -> tuple[IntArray, IntArray]:
    """``(rows, columns)`` of the vocabulary entries among ``features(doc)`` of each doc."""
    grams: list[str] = []
    lengths = np.empty(len(docs), dtype=np.int64)
    for i, doc in enumerate(docs):
        feats = features(doc)
        lengths[i] = len(feats)
        grams.extend(feats)
    # Vocabulary look-up in C: dict.get mapped with a default of -1, read by np.fromiter.
    found = np.fromiter(
        map(vocabulary.get, grams, repeat(-1, len(grams))), dtype=np.int64, count=len(grams)
    )
    rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    known = found >= 0
    return rows[known], found[known]
