"""Aspect extraction with clause-level polarity, negation and degree words.

Which of six aspects a review talks about, and how it judges each. The lexicons are curated
YAML files in ``manyi.text.lexicons`` (``aspects_<lang>.yaml``). A review is cut into
clauses at punctuation and contrast words ("但是", "but", "mas"); in each clause the lexicon
entries are found longest-first, and every opinion word is scored ``±1`` times the degree
words before it (strong ×1.5, weak ×0.5) and flipped by an odd number of negators before it
("不太好" → negative, weakened; "not bad" → positive). The clause's score goes to every aspect
named in it; an aspect phrase that carries its own judgement ("发货快", "runs small") counts
as an opinion too. A clause that names an aspect but has no opinion word gets no polarity
here; :func:`manyi.text.analysis.analyse` then scores that clause with the sentiment model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from manyi.text.normalize import normalize_text

#: The six aspects, in report order.
ASPECTS: tuple[str, ...] = (
    "logistics",
    "quality",
    "as_described",
    "service",
    "price",
    "packaging",
)
_STRONG = 1.5
_WEAK = 0.5
# How far back (in lexicon hits, with at most this many characters between them) a negator
# or degree word still modifies an opinion word.
_MAX_GAP = {"zh": 2, "en": 12, "pt": 12}


@dataclass(frozen=True)
class _Entry:
    aspect: str | None = None
    polarity: float = 0.0
    negator: bool = False
    degree: float = 1.0


@dataclass(frozen=True)
class ClauseAspect:
    """One aspect mention in one clause.

    ``score`` is ``None`` when the clause names the aspect without an opinion word.
    """

    aspect: str
    clause: str
    term: str
    score: float | None
    opinion: str = ""


@dataclass(frozen=True)
class _Lexicon:
    lang: str
    entries: dict[str, _Entry]
    pattern: re.Pattern[str]
    splitter: re.Pattern[str]


def _fold(term: str) -> str:
    """Drop accents ("não" → "nao") so unaccented Portuguese reviews match."""
    decomposed = unicodedata.normalize("NFD", term)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _merge(entries: dict[str, _Entry], term: str, entry: _Entry) -> None:
    old = entries.get(term)
    if old is None:
        entries[term] = entry
        return
    entries[term] = _Entry(
        aspect=old.aspect or entry.aspect,
        polarity=old.polarity or entry.polarity,
        negator=old.negator or entry.negator,
        degree=old.degree if old.degree != 1.0 else entry.degree,
    )


def _trie_pattern(terms: Iterable[str]) -> str:
    """One regex for many terms, factorised by common prefixes, longest match first.

    A plain ``a|b|c|...`` alternation of ~600 entries makes ``re`` try every branch at every
    position; the prefix tree tries one character at a time (several times faster). Greedy
    optional groups keep "longest first", and backtracking still finds a shorter entry when a
    longer one fails the word-boundary check.
    """
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@lru_cache(maxsize=3)
def load_lexicon(lang: str) -> _Lexicon:
    """Load and compile ``aspects_<lang>.yaml`` (cached)."""
    if lang not in {"zh", "en", "pt"}:
        raise ValueError(f"no aspect lexicon for language {lang!r}")
    text = (resources.files("manyi.text.lexicons") / f"aspects_{lang}.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    entries: dict[str, _Entry] = {}

    def add(term: object, entry: _Entry) -> None:
        word = normalize_text(str(term))
        if not word:
            return
        _merge(entries, word, entry)
        if lang == "pt":
            _merge(entries, _fold(word), entry)

    # Order matters only for _merge's "first wins" on aspect: aspects first.
    for aspect, spec in data["aspects"].items():
        if aspect not in ASPECTS:
            raise ValueError(f"aspects_{lang}.yaml: unknown aspect {aspect!r}")
        for term in spec.get("positive", []):
            add(term, _Entry(aspect=aspect, polarity=1.0))
        for term in spec.get("negative", []):
            add(term, _Entry(aspect=aspect, polarity=-1.0))
        for term in spec.get("terms", []):
            add(term, _Entry(aspect=aspect))
    for term in data["opinions"]["positive"]:
        add(term, _Entry(polarity=1.0))
    for term in data["opinions"]["negative"]:
        add(term, _Entry(polarity=-1.0))
    for term in data["negators"]:
        add(term, _Entry(negator=True))
    for term in data["degree"]["strong"]:
        add(term, _Entry(degree=_STRONG))
    for term in data["degree"]["weak"]:
        add(term, _Entry(degree=_WEAK))
    alternatives = _trie_pattern(entries)
    contrast = "|".join(
        re.escape(normalize_text(str(t))) for t in sorted(data["contrast"], key=len, reverse=True)
    )
    if lang == "zh":
        pattern = re.compile(f"(?:{alternatives})")
        splitter = re.compile(f"[,.!?;:、。!?;\\n~…]+|(?=(?:{contrast}))")
    else:
        pattern = re.compile(f"(?<![\\w'])(?:{alternatives})(?![\\w'])")
        splitter = re.compile(f"[,.!?;:\\n()…]+|(?<![\\w'])(?=(?:{contrast})(?![\\w']))")
    return _Lexicon(lang=lang, entries=entries, pattern=pattern, splitter=splitter)


def split_clauses(text: str, lang: str) -> list[str]:
    """Cut a normalised review into clauses at punctuation and contrast words.

    Examples
    --------
    >>> split_clauses("物流很快,但是包装破了", "zh")
    ['物流很快', '但是包装破了']
    """
    lexicon = load_lexicon(lang)
    return [c.strip() for c in lexicon.splitter.split(text) if c and c.strip()]


def _score_clause(clause: str, lexicon: _Lexicon) -> list[ClauseAspect]:
    search_text = _fold(clause) if lexicon.lang == "pt" else clause
    hits = [(m.start(), m.end(), m.group()) for m in lexicon.pattern.finditer(search_text)]
    if not hits:
        return []
    gap = _MAX_GAP[lexicon.lang]
    score = 0.0
    has_opinion = False
    opinions: list[str] = []
    for k, (start, _end, term) in enumerate(hits):
        entry = lexicon.entries[term]
        if not entry.polarity:
            continue
        has_opinion = True
        value = entry.polarity
        flips = 0
        boundary = start
        # Walk back over the modifiers directly before the opinion word.
        for prev_start, prev_end, prev_term in reversed(hits[:k]):
            prev = lexicon.entries[prev_term]
            if boundary - prev_end > gap or prev.polarity or prev.aspect:
                break
            if prev.negator:
                flips += 1
            value *= prev.degree
            boundary = prev_start
        if not entry.aspect:
            opinions.append(
                clause[boundary:_end]
                if lexicon.lang == "zh"
                else " ".join(clause[boundary:_end].split())
            )
        if flips % 2:
            # A negated judgement is weaker than its opposite: "not bad" is not "great".
            value = -0.5 * value
        score += value
    result: list[ClauseAspect] = []
    seen: set[str] = set()
    for _start, _end, term in hits:
        aspect = lexicon.entries[term].aspect
        if aspect is None or aspect in seen:
            continue
        seen.add(aspect)
        result.append(
            ClauseAspect(
                aspect=aspect,
                clause=clause,
                term=term,
                score=round(score, 3) if has_opinion else None,
                opinion=" ".join(opinions),
            )
        )
    return result


def extract_aspects(text: object, lang: str) -> list[ClauseAspect]:
    """Aspect mentions with clause-level scores for one review in ``lang``.

    Parameters
    ----------
    text : object
        The review (normalised here); non-strings give ``[]``.
    lang : {"zh", "en", "pt"}

    Returns
    -------
    list of ClauseAspect
        In text order; an aspect may appear in several clauses.

    Examples
    --------
    >>> [(a.aspect, a.score) for a in extract_aspects("物流很快，但是质量不太好", "zh")]
    [('logistics', 1.5), ('quality', -0.75)]
    >>> [(a.aspect, a.score) for a in extract_aspects("The fabric is not bad", "en")]
    [('quality', 0.5)]
    """
    return extract_aspects_normalized(normalize_text(text), lang)


def extract_aspects_normalized(norm: str, lang: str) -> list[ClauseAspect]:
    """:func:`extract_aspects` for text already passed through ``normalize_text``."""
    if not norm:
        return []
    lexicon = load_lexicon(lang)
    mentions: list[ClauseAspect] = []
    for clause in split_clauses(norm, lang):
        mentions.extend(_score_clause(clause, lexicon))
    return mentions
