"""Mark the clauses of a review that carry its aspects, for the review page.

``manyi.text`` reports each aspect with the clause that decides its polarity, in *normalised*
text (NFKC, lower case, single spaces). To mark the clause in the text as written, each
character of the original is normalised on its own while remembering where it came from, the
clause is searched in that with any run of spaces matching any run of white space, and the
match is mapped back. A clause that cannot be found (normalisation shortened "soooo" to "soo")
falls back to its aspect phrase's first word, and otherwise stays unmarked.

>>> marks = [Mark("logistics", "negative", "快递很慢"), Mark("quality", "positive", "质量很好")]
>>> [(s.text, s.polarity) for s in segments("快递很慢，但是质量很好！", marks)]
[('快递很慢', 'negative'), ('，但是', None), ('质量很好', 'positive'), ('！', None)]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    aspect: str
    polarity: str
    clause: str
    phrase: str = ""


@dataclass(frozen=True)
class Segment:
    text: str
    #: ``"positive"``, ``"negative"``, ``"neutral"``, ``"mixed"`` or ``None`` (unmarked).
    polarity: str | None = None
    aspects: tuple[str, ...] = ()


def _normalised_with_origin(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch).lower()
        for piece in folded:
            out.append(piece)
            origin.append(i)
    return "".join(out), origin


def _pattern(needle: str) -> re.Pattern[str] | None:
    words = needle.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def _find(haystack: str, origin: list[int], needle: str) -> tuple[int, int] | None:
    pattern = _pattern(needle)
    if pattern is None:
        return None
    match = pattern.search(haystack)
    if match is None or match.end() == match.start():
        return None
    return origin[match.start()], origin[match.end() - 1] + 1


def segments(text: str, marks: Sequence[Mark]) -> list[Segment]:
    """Cut ``text`` into unmarked and marked pieces (a piece marked by aspects of different
    polarity is ``"mixed"``)."""
    if not text:
        return []
    haystack, origin = _normalised_with_origin(text)
    owners: list[set[tuple[str, str]]] = [set() for _ in text]
    for mark in marks:
        span = _find(haystack, origin, mark.clause)
        if span is None and mark.phrase:
            span = _find(haystack, origin, mark.phrase.split()[0])
        if span is None:
            continue
        for i in range(*span):
            owners[i].add((mark.aspect, mark.polarity))
    out: list[Segment] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or owners[i] != owners[start]:
            found = owners[start]
            polarities = {p for _, p in found}
            polarity = None if not found else polarities.pop() if len(polarities) == 1 else "mixed"
            aspects = tuple(sorted({a for a, _ in found}))
            out.append(Segment(text[start:i], polarity, aspects))
            start = i
    return out
