"""Language detection for reviews: Chinese, English, Portuguese or unknown.

No external model. Chinese is recognised by its script (Han characters against Latin words);
English against Portuguese by a character-trigram log-likelihood under two profiles derived
from the training parts of the English and Portuguese corpora (``language_profiles.json``,
rebuilt by ``manyi train-sentiment``), plus curated stopwords and Portuguese diacritics.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from manyi.text.normalize import normalize_text

UNKNOWN = "unknown"
PROFILE_SIZE = 3000

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-zà-ÿ]+")
_PT_MARKS = re.compile(r"[ãõçâêôáéíóúà]")

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "it",
            "i",
            "to",
            "this",
            "was",
            "of",
            "for",
            "but",
            "not",
            "very",
            "my",
            "with",
            "in",
            "a",
            "on",
            "so",
            "are",
            "be",
            "have",
            "they",
            "you",
            "that",
            "just",
            "like",
            "love",
            "size",
            "fit",
            "wear",
            "would",
            "too",
            "its",
            "it's",
            "really",
            "great",
        ]
    ),
    "pt": frozenset(
        [
            "de",
            "que",
            "o",
            "e",
            "não",
            "nao",
            "é",
            "do",
            "da",
            "um",
            "uma",
            "com",
            "para",
            "muito",
            "produto",
            "chegou",
            "bom",
            "entrega",
            "prazo",
            "recomendo",
            "no",
            "na",
            "os",
            "as",
            "foi",
            "mais",
            "mas",
            "pra",
            "ainda",
            "veio",
            "antes",
            "ótimo",
            "otimo",
        ]
    ),
}


def _trigrams(text: str) -> Iterable[str]:
    for word in _LATIN_WORD.findall(text):
        padded = f" {word} "
        for i in range(len(padded) - 2):
            yield padded[i : i + 3]


def build_language_profiles(texts: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """Derive trigram log-probability profiles (top :data:`PROFILE_SIZE` per language).

    Examples
    --------
    >>> profiles = build_language_profiles({"en": ["the dress fits"], "pt": ["o vestido"]})
    >>> sorted(profiles["languages"])
    ['en', 'pt']
    """
    languages: dict[str, Any] = {}
    for lang, docs in texts.items():
        counts: Counter[str] = Counter()
        for doc in docs:
            counts.update(_trigrams(normalize_text(doc)))
        total = sum(counts.values()) or 1
        top = counts.most_common(PROFILE_SIZE)
        languages[lang] = {
            "logp": {gram: round(math.log(n / total), 3) for gram, n in top},
            "floor": round(math.log(0.5 / total), 3),
        }
    return {"version": 1, "size": PROFILE_SIZE, "languages": languages}


@lru_cache(maxsize=1)
def _profiles() -> dict[str, Any]:
    text = (resources.files("manyi.text.lexicons") / "language_profiles.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def write_language_profiles(profiles: dict[str, Any], path: Path) -> None:
    """Write profiles as JSON (used by the training command)."""
    path.write_text(json.dumps(profiles, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")


def detect_language(text: object) -> str:
    """Return ``"zh"``, ``"en"``, ``"pt"`` or ``"unknown"`` for one review.

    A review is Chinese when it has at least as many Han characters as Latin words (so
    "iPad很好用" is Chinese); Latin text is scored by trigram log-likelihood, with a bonus per
    stopword and per Portuguese diacritic. Text without letters is ``"unknown"``.

    Examples
    --------
    >>> [detect_language(t) for t in ["物流很快", "Love this dress", "Produto ótimo", "!!!"]]
    ['zh', 'en', 'pt', 'unknown']
    """
    return detect_language_normalized(normalize_text(text))


def detect_language_normalized(norm: str) -> str:
    """:func:`detect_language` for text already passed through ``normalize_text``.

    Only the first 400 characters are scored: enough for a review, and long texts stay fast.
    """
    norm = norm[:400]
    han = len(_HAN.findall(norm))
    words = _LATIN_WORD.findall(norm)
    if han and han >= len(words):
        return "zh"
    if not words:
        return UNKNOWN
    # Most reviews settle on stopwords alone; only short or mixed ones need the trigrams.
    first = words[:60]
    hits = {lang: sum(map(_STOPWORDS[lang].__contains__, first)) for lang in ("en", "pt")}
    marks = len(_PT_MARKS.findall(norm))
    if hits["en"] >= 3 and hits["en"] >= 2 * (hits["pt"] + marks):
        return "en"
    if hits["pt"] + marks >= 3 and hits["pt"] + marks >= 2 * hits["en"]:
        return "pt"
    languages = _profiles()["languages"]
    scores: dict[str, float] = {}
    grams = list(_trigrams(norm))
    for lang in ("en", "pt"):
        profile = languages[lang]
        logp = profile["logp"]
        floor = profile["floor"]
        score = sum(logp.get(g, floor) for g in grams) / max(len(grams), 1)
        score += 1.5 * hits[lang] / len(words)
        scores[lang] = score
    scores["pt"] += 0.5 * min(marks, 3)
    return max(scores, key=scores.__getitem__)
