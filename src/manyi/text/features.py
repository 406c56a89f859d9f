"""N-gram features for the sentiment models (the same code for training and inference).

Chinese uses character n-grams (no word segmentation: faster than jieba and, on the
online-shopping corpus, as accurate); English and Portuguese use word n-grams and, where
configured, character n-grams inside word boundaries and position-marked copies of the words of
the first and the last sentence. Character n-grams are prefixed with ``\\x01`` and
position-marked ones with ``\\x02`` (first sentence) or ``\\x03`` (last sentence), so they
never collide with a word n-gram of the same letters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from itertools import pairwise

#: Prefixes that keep the n-gram families apart (no word n-gram contains them).
CHAR_MARK = "\x01"
FIRST_MARK = "\x02"
LAST_MARK = "\x03"
NEGATION_MARK = "neg_"

# Words: letters (with accents) and apostrophes, numbers, "!" / "?" runs, and emoji.
_WORD = re.compile(
    r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|[!?]+|[\U0001f300-\U0001faff\u2600-\u27bf]", re.UNICODE
)


@dataclass(frozen=True)
class FeatureSpec:
    """Which n-grams a model uses; ``None`` switches a family off.

    Parameters
    ----------
    char : tuple of int or None
        ``(min_n, max_n)`` character n-grams over the whole normalised text.
    char_wb : tuple of int or None
        ``(min_n, max_n)`` character n-grams inside space-padded words.
    word : tuple of int or None
        ``(min_n, max_n)`` word n-grams.
    fold_accents : bool
        Drop accents before the word and word-boundary features ("não" and "nao" become one
        feature: Portuguese reviewers often type without accents).
    mark_negation : bool
        Add a ``neg_`` copy of every word between a negator ("not", "não", "never", ...)
        and the next punctuation mark, so "not good" also feeds ``neg_good``.
    mark_position : bool
        Add copies of the word 1- and 2-grams of the first sentence (prefixed ``\\x02``) and
        of the last sentence (prefixed ``\\x03``). A review's title, joined before its text,
        is its first sentence, and the last sentence often holds the verdict ("returning it",
        "recomendo"): the same words there say more than in the middle of a fit description.

    Examples
    --------
    >>> extract_features("很好", FeatureSpec(char=(1, 2)))
    ['\\x01很', '\\x01好', '\\x01很好']
    """

    char: tuple[int, int] | None = None
    char_wb: tuple[int, int] | None = None
    word: tuple[int, int] | None = None
    fold_accents: bool = False
    mark_negation: bool = False
    mark_position: bool = False

    def to_dict(self) -> dict[str, list[int] | bool | None]:
        """Return the spec as JSON-ready data."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, list[int] | bool | None]) -> FeatureSpec:
        """Build a spec from :meth:`to_dict` output."""

        def pair(key: str) -> tuple[int, int] | None:
            value = data.get(key)
            if isinstance(value, list):
                return (int(value[0]), int(value[1]))
            return None

        return cls(
            char=pair("char"),
            char_wb=pair("char_wb"),
            word=pair("word"),
            fold_accents=bool(data.get("fold_accents", False)),
            mark_negation=bool(data.get("mark_negation", False)),
            mark_position=bool(data.get("mark_position", False)),
        )


_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "nothing",
        "nor",
        "don't",
        "didn't",
        "doesn't",
        "isn't",
        "wasn't",
        "aren't",
        "weren't",
        "won't",
        "wouldn't",
        "couldn't",
        "can't",
        "cannot",
        "dont",
        "didnt",
        "doesnt",
        "isnt",
        "wasnt",
        "não",
        "nao",
        "nem",
        "nunca",
        "jamais",
        "nenhum",
        "nenhuma",
        "sem",
    ]
)
_CONTRAST = r"\b(?:but|mas|porém|porem|however)\b"
_CLAUSE_END = re.compile(r"[.,;:!?()\n]|" + _CONTRAST)
_NEG_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*", re.UNICODE)
# One scan instead of a split into clauses and a findall per clause: a clause end gives "",
# a word gives itself. The two agree unless a contrast word follows an apostrophe ("o'but":
# one word for the scan, a clause end for the split), where negated_words splits.
_NEGATION_SCAN = re.compile(r"[.,;:!?()\n]|" + _CONTRAST + r"|([^\W\d_]+(?:'[^\W\d_]+)*)")
_APOSTROPHE_CONTRAST = re.compile("'" + _CONTRAST)
# A sentence ends at ".", "!" or "?" followed by a space ("5'8\"." or "3.5" do not split).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# The words of _WORD and, as "", every sentence end of _SENTENCE_END, in one scan: a sentence
# end is the first white-space character after ".", "!" or "?", where no word can start.
_WORDS_AND_SENTENCE_ENDS = re.compile(r"(?<=[.!?])(?=\s)|" + _WORD.pattern)


def strip_accents(text: str) -> str:
    """Drop combining marks after canonical decomposition (``"não"`` → ``"nao"``).

    Examples
    --------
    >>> strip_accents("não é ótimo")
    'nao e otimo'
    """
    if text.isascii():
        return text
    return "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )


def find_words(text: str) -> list[str]:
    """The word tokens the word n-grams are made of (see ``_WORD``)."""
    return _WORD.findall(text)


def negated_words(text: str) -> list[str]:
    """The words between a negator and the end of its clause, in order (without ``neg_``).

    Examples
    --------
    >>> negated_words("not good at all, but cute")
    ['good', 'at', 'all']
    """
    if "'" in text and _APOSTROPHE_CONTRAST.search(text):
        return _negated_words_by_clause(text)
    out: list[str] = []
    negated = False
    for word in _NEGATION_SCAN.findall(text):
        if not word:  # a clause end
            negated = False
        elif negated:
            out.append(word)
        elif word in _NEGATORS:
            negated = True
    return out


def _negated_words_by_clause(text: str) -> list[str]:
    """:func:`negated_words` as first written: split into clauses, then find the words."""
    out: list[str] = []
    for clause in _CLAUSE_END.split(text):
        negated = False
        for word in _NEG_WORD.findall(clause):
            if negated:
                out.append(word)
            elif word in _NEGATORS:
                negated = True
    return out


def sentence_split(text: str) -> list[str]:
    """Split at white space after ".", "!" or "?" (``"5'8\"."`` or ``"3.5"`` do not split)."""
    return _SENTENCE_END.split(text)


def first_and_last_sentence(text: str) -> tuple[str, str] | None:
    """The first and the last sentence (the same one for a single sentence); ``None`` if empty.

    Examples
    --------
    >>> first_and_last_sentence("huge. it was cute. returning it!")
    ('huge.', 'returning it!')
    """
    sentences = [s for s in sentence_split(text) if s.strip()]
    if not sentences:
        return None
    return sentences[0], sentences[-1]


def words_and_sentence_ends(text: str) -> list[str]:
    """:func:`find_words` with ``""`` where a sentence ends (see :func:`first_and_last_sentence`).

    The words between two ``""`` are those of one sentence; a trailing ``""`` (text ending in
    white space after a full stop) opens no sentence.

    Examples
    --------
    >>> words_and_sentence_ends("huge. it was cute. returning it!")
    ['huge', '', 'it', 'was', 'cute', '', 'returning', 'it', '!']
    """
    return _WORDS_AND_SENTENCE_ENDS.findall(text)


def _position_words(text: str) -> list[str]:
    ends = first_and_last_sentence(text)
    if ends is None:
        return []
    out: list[str] = []
    for mark, sentence in zip((FIRST_MARK, LAST_MARK), ends, strict=True):
        words = _WORD.findall(sentence)
        out.extend([mark + w for w in words])
        out.extend([f"{mark}{a} {b}" for a, b in pairwise(words)])
    return out


def extract_features(text: str, spec: FeatureSpec) -> list[str]:
    """Return the n-grams of an already normalised text.

    Parameters
    ----------
    text : str
        Output of :func:`manyi.text.normalize.normalize_text`.
    spec : FeatureSpec
        The n-gram families and lengths.

    Returns
    -------
    list of str
        Every n-gram occurrence (repeats included; the model counts them).

    Examples
    --------
    >>> extract_features("not bad", FeatureSpec(word=(1, 2)))
    ['not', 'bad', 'not bad']
    """
    out: list[str] = []
    if spec.char is not None:
        lo, hi = spec.char
        size = len(text)
        for n in range(lo, hi + 1):
            out.extend([CHAR_MARK + text[i : i + n] for i in range(size - n + 1)])
    if spec.word is not None or spec.char_wb is not None or spec.mark_position:
        if spec.fold_accents:
            text = strip_accents(text)
        words = _WORD.findall(text)
        if spec.mark_negation:
            out.extend([NEGATION_MARK + w for w in negated_words(text)])
        if spec.mark_position:
            out.extend(_position_words(text))
        if spec.word is not None:
            lo, hi = spec.word
            for n in range(lo, hi + 1):
                if n == 1:
                    out.extend(words)
                else:
                    out.extend([" ".join(words[i : i + n]) for i in range(len(words) - n + 1)])
        if spec.char_wb is not None:
            lo, hi = spec.char_wb
            for word in words:
                padded = f" {word} "
                size = len(padded)
                for n in range(lo, hi + 1):
                    out.extend([CHAR_MARK + padded[i : i + n] for i in range(size - n + 1)])
    return out
