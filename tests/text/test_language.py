"""Language detection on real reviews."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.text.corpora import read_corpus
from manyi.text.language import build_language_profiles, detect_language


def test_every_bundled_chinese_review_is_detected_as_chinese() -> None:
    reviews = pd.read_csv(sample_path("reviews_zh"))["review"]
    assert {detect_language(r) for r in reviews} == {"zh"}


def test_every_bundled_english_review_with_text_is_detected_as_english() -> None:
    frame = pd.read_csv(sample_path("reviews_en"))
    texts = frame["Review Text"].dropna()
    assert {detect_language(t) for t in texts} == {"en"}


@pytest.mark.parametrize(
    "text",
    [
        # Real Olist reviews, short and without accents included.
        "Loja nota 10",
        "Vendedor confiável, produto ok e entrega antes do prazo.",
        "não recebi a mercadoria ainda. ",
        "Muito bom alta qualidade!",
        "recomendo",
    ],
)
def test_real_portuguese_reviews_are_detected_as_portuguese(text: str) -> None:
    assert detect_language(text) == "pt"


def test_chinese_with_a_latin_brand_name_is_chinese() -> None:
    # A real review from the corpus's 平板 category mentions "iPad" and "APP".
    assert detect_language("iPad很好用，APP也多") == "zh"


@pytest.mark.parametrize("text", ["", "...", "???", "12345", None])
def test_text_without_letters_is_unknown(text: object) -> None:
    assert detect_language(text) == "unknown"


def test_profiles_keep_the_most_frequent_trigrams_with_a_floor() -> None:
    profiles = build_language_profiles({"en": ["the the the"], "pt": ["de de"]})
    en = profiles["languages"]["en"]
    # " th", "the", "he " appear three times each among nine trigrams
    assert sorted(en["logp"]) == [" th", "he ", "the"]
    assert en["logp"]["the"] == pytest.approx(-1.099, abs=1e-3)


@pytest.mark.slow
def test_detection_on_the_held_out_parts_is_right_for_99_percent(shared_data: Path) -> None:
    # given the held-out parts of all three corpora (garbage such as "." excluded)
    for lang in ("zh", "en", "pt"):
        texts = read_corpus(lang, shared_data).holdout()["text"]
        detected = [detect_language(t) for t in texts]
        judged = [d for d in detected if d != "unknown"]
        # then at least 99 % of the reviews with letters get their corpus's language
        assert sum(d == lang for d in judged) / len(judged) >= 0.99, lang
        assert len(judged) >= 0.99 * len(texts)
