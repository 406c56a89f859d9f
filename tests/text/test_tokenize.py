"""Tokenising with jieba and the shipped e-commerce dictionary, and the Latin rules."""

from __future__ import annotations

import pytest

from manyi.text.tokenize import tokenize


def test_the_user_dictionary_keeps_ecommerce_words_whole() -> None:
    # jieba's own dictionary splits these into 七天/无/理由 and 快递/员
    assert tokenize("支持七天无理由退货", "zh") == ["支持", "七天无理由", "退货"]
    assert tokenize("快递员态度很好", "zh") == ["快递员", "态度", "很", "好"]


def test_the_global_jieba_dictionary_is_left_untouched() -> None:
    import jieba

    tokenize("支持七天无理由退货", "zh")
    assert "七天无理由" not in jieba.lcut("支持七天无理由退货")


def test_chinese_punctuation_is_dropped() -> None:
    assert tokenize("物流给力！！", "zh") == ["物流", "给力"]


def test_english_and_portuguese_split_on_words() -> None:
    assert tokenize("Doesn't fit, too small!", "en") == ["doesn't", "fit", "too", "small"]
    assert tokenize("Não gostei do acabamento.", "pt") == ["não", "gostei", "do", "acabamento"]


def test_empty_text_gives_no_tokens_and_unknown_languages_are_refused() -> None:
    assert tokenize(None, "zh") == []
    with pytest.raises(ValueError, match="no tokenizer"):
        tokenize("bonjour", "fr")
