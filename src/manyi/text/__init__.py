"""Review text mining in Chinese, English and Portuguese: sentiment and aspects.

Pure Python (no Django). The shipped sentiment models live in ``manyi.text.models`` as plain
arrays (``.npz``) with JSON metadata and are read through :mod:`importlib.resources`; the
aspect lexicons and the jieba user dictionary are curated data files in
``manyi.text.lexicons``.

The public API:

- :func:`analyse` — sentiment, three-way label, language and aspects for each review;
- :func:`aspect_summary` and :func:`top_complaints` — share negative by aspect and the most
  frequent complaint phrases per aspect with example reviews;
- :func:`aspect_rating_effect` — how each aspect's polarity goes with the star rating;
- :func:`detect_language`, :func:`normalize_text`, :func:`tokenize`;
- :func:`load_model` and :class:`SentimentModel` for the classifiers alone.

Examples
--------
>>> from manyi.text import analyse
>>> [a.sentiment for a in analyse(["物流很快，质量不错", "Not worth the price, very thin."])]
['positive', 'negative']
"""

from __future__ import annotations

from manyi.text.analysis import (
    AspectMention,
    ReviewAnalysis,
    analyse,
    aspect_rating_effect,
    aspect_summary,
    top_complaints,
)
from manyi.text.aspects import ASPECTS, extract_aspects
from manyi.text.language import detect_language
from manyi.text.normalize import normalize_text
from manyi.text.sentiment import SentimentModel, load_model
from manyi.text.tokenize import tokenize

__all__ = [
    "ASPECTS",
    "AspectMention",
    "ReviewAnalysis",
    "SentimentModel",
    "analyse",
    "aspect_rating_effect",
    "aspect_summary",
    "detect_language",
    "extract_aspects",
    "load_model",
    "normalize_text",
    "tokenize",
    "top_complaints",
]
