"""Normalisation: BOM, full width, repeated punctuation and letters, emoji."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.text.normalize import normalize_text


def test_a_leading_bom_in_the_real_chinese_sample_is_removed() -> None:
    # given the bundled Chinese reviews, some of which start with U+FEFF (as in the corpus)
    reviews = pd.read_csv(sample_path("reviews_zh"))["review"]
    with_bom = reviews[reviews.str.startswith("\ufeff")]
    assert len(with_bom) == 2
    # when normalised
    cleaned = [normalize_text(r) for r in with_bom]
    # then no BOM is left and the first character is the review's own
    assert [c[0] for c in cleaned] == [r[1].lower() for r in with_bom]
    assert all("\ufeff" not in c for c in cleaned)


def test_full_width_forms_fold_to_half_width() -> None:
    assert normalize_text("ＡＢＣ　ｉＰａｄ２！") == "abc ipad2!"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("太差了！！！！！", "太差了!!"),
        ("物流很慢。。。。", "物流很慢。。"),
        ("Sooooo cute!!!!", "soo cute!!"),
        ("bom??? nao", "bom?? nao"),
    ],
)
def test_runs_of_punctuation_and_letters_shorten_to_two(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_emoji_are_kept_once_or_removed() -> None:
    assert normalize_text("Perfeito 😉😉😉") == "perfeito 😉"
    assert normalize_text("Perfeito 😉😉😉", emoji="remove") == "perfeito"
    assert normalize_text("love ❤️❤️") == "love ❤"


@pytest.mark.parametrize("value", [None, float("nan"), 3, ""])
def test_missing_or_non_text_values_give_the_empty_string(value: object) -> None:
    assert normalize_text(value) == ""


def test_an_unknown_emoji_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="emoji must be"):
        normalize_text("x", emoji="translate")


def test_ascii_text_takes_the_short_path_to_the_same_result() -> None:
    # (ASCII skips NFKC and the emoji rules: both leave ASCII unchanged)
    text = "  Soooo GOOD!!!!   Runs   small...  "
    assert text.isascii()
    assert normalize_text(text) == normalize_text(unicodedata.normalize("NFKC", text) + "\u200b")
    assert normalize_text(text) == "soo good!! runs small.."
