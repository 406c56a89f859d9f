"""Tokenising: jieba with the shipped e-commerce user dictionary for Chinese, rules for
English and Portuguese.

The sentiment models do not need it (they read character and word n-grams); it is for
keywords, complaint phrases and the review inbox's search.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib import resources
from typing import Any

from manyi.text.normalize import normalize_text

_LATIN_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+(?:[.,]\d+)?", re.UNICODE)
_PUNCT_ONLY = re.compile(r"^[\W_]+$", re.UNICODE)
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """A private jieba tokenizer with the user dictionary (the global one stays untouched)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    with (
        resources.as_file(resources.files("manyi.text.lexicons") / "userdict_zh.txt") as path,
        _LOCK,
    ):
        tokenizer.load_userdict(str(path))
    return tokenizer


def tokenize(text: object, lang: str) -> list[str]:
    """Split a review into word tokens (normalised; punctuation dropped).

    Parameters
    ----------
    text : object
        The review; non-strings give ``[]``.
    lang : {"zh", "en", "pt"}

    Examples
    --------
    >>> tokenize("性价比很高，物流给力！", "zh")
    ['性价比', '很', '高', '物流', '给力']
    >>> tokenize("Doesn't fit, too small!", "en")
    ["doesn't", 'fit', 'too', 'small']
    """
    norm = normalize_text(text)
    if not norm:
        return []
    if lang == "zh":
        words = _jieba().lcut(norm)
        return [w for w in words if w.strip() and not _PUNCT_ONLY.match(w)]
    if lang in {"en", "pt"}:
        return _LATIN_TOKEN.findall(norm)
    raise ValueError(f"no tokenizer for language {lang!r}; choose zh, en or pt")
