"""N-gram features shared by training and inference."""

from __future__ import annotations

from manyi.text.features import (
    FeatureSpec,
    _negated_words_by_clause,
    extract_features,
    find_words,
    first_and_last_sentence,
    negated_words,
    words_and_sentence_ends,
)


def test_chinese_character_ngrams_are_prefixed_and_counted_with_repeats() -> None:
    assert extract_features("好好", FeatureSpec(char=(1, 2))) == ["\x01好", "\x01好", "\x01好好"]


def test_word_ngrams_keep_apostrophes_and_exclamations() -> None:
    feats = extract_features("doesn't fit!!", FeatureSpec(word=(1, 2)))
    assert feats == ["doesn't", "fit", "!!", "doesn't fit", "fit !!"]


def test_char_wb_ngrams_stay_inside_padded_words() -> None:
    assert extract_features("ok", FeatureSpec(char_wb=(3, 3))) == ["\x01 ok", "\x01ok "]


def test_negation_marks_words_up_to_the_next_punctuation() -> None:
    feats = extract_features(
        "not good at all, but cute", FeatureSpec(word=(1, 1), mark_negation=True)
    )
    assert feats[:3] == ["neg_good", "neg_at", "neg_all"]
    assert "neg_cute" not in feats


def test_accent_folding_merges_spellings_with_and_without_accents() -> None:
    spec = FeatureSpec(word=(1, 1), fold_accents=True)
    assert extract_features("não é bom", spec) == extract_features("nao e bom", spec)


def test_a_spec_survives_its_json_form() -> None:
    spec = FeatureSpec(
        word=(1, 3), char_wb=(2, 5), fold_accents=True, mark_negation=True, mark_position=True
    )
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_position_marking_copies_the_first_and_last_sentence_words() -> None:
    # given a title joined before a two-sentence text
    feats = extract_features(
        "huge. it was cute. returning it!", FeatureSpec(word=(1, 1), mark_position=True)
    )
    # then the first sentence's words come marked \x02, the last one's \x03, then the words
    assert feats == [
        "\x02huge",
        "\x03returning", "\x03it", "\x03!", "\x03returning it", "\x03it !",
        "huge", "it", "was", "cute", "returning", "it", "!",
    ]  # fmt: skip


def test_position_marking_of_a_single_sentence_marks_it_both_ways() -> None:
    feats = extract_features("love it", FeatureSpec(word=(1, 1), mark_position=True))
    assert feats[:6] == ["\x02love", "\x02it", "\x02love it", "\x03love", "\x03it", "\x03love it"]
    assert extract_features("", FeatureSpec(word=(1, 1), mark_position=True)) == []


def test_a_spec_without_the_newer_keys_reads_as_before() -> None:
    # (models saved before mark_position existed have no such key in their JSON)
    assert FeatureSpec.from_dict({"word": [1, 2]}) == FeatureSpec(word=(1, 2))


def test_the_single_scan_negation_equals_the_clause_split() -> None:
    # (negated_words scans once; the first version split into clauses, then found words)
    texts = [
        "not good at all, but cute",
        "o'but no way, not good",
        "no'but good",
        "but'no good at all",
        "not 1but good",
        "não gostei, mas ok. nao recomendo porém sem defeito",
        "i didn't love it (not at all)\nnever again; nothing fits: however no",
        "",
    ]
    assert [negated_words(t) for t in texts] == [_negated_words_by_clause(t) for t in texts]


def test_words_and_sentence_ends_are_the_words_of_the_sentence_split() -> None:
    for text in ["huge. it was cute. returning it!", "love it", "great. . ok", "a! b? c. "]:
        tokens = words_and_sentence_ends(text)
        assert [t for t in tokens if t] == find_words(text)
        sentences = first_and_last_sentence(text)
        assert sentences is not None
        first = tokens[: tokens.index("")] if "" in tokens else tokens
        assert first == find_words(sentences[0])
