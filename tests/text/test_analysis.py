"""The public API: analyse, aspect_summary, top_complaints."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.text import ASPECTS, analyse, aspect_summary, top_complaints


def test_garbage_and_empty_text_get_a_defined_neutral_result() -> None:
    results = analyse(["", None, "...", "！！！", "12345", float("nan"), "🙂"])
    assert {(r.language, r.p_positive, r.label, r.sentiment) for r in results} == {
        ("unknown", 0.5, None, "neutral")
    }
    assert all(r.aspects == [] for r in results)


def test_mixed_languages_are_routed_to_their_models() -> None:
    # real reviews from the three corpora
    texts = [
        "发货速度很快，平板也不错，包装也很完整。",
        "Poor quality. i expected much more from the material.",
        "Vendedor confiável, produto ok e entrega antes do prazo.",
    ]
    results = analyse(texts)
    assert [r.language for r in results] == ["zh", "en", "pt"]
    assert [r.sentiment for r in results] == ["positive", "negative", "positive"]
    assert [r.label for r in results] == [1, 0, 1]


def test_a_fixed_language_skips_detection() -> None:
    assert analyse(["ok"], lang="pt")[0].language == "pt"
    with pytest.raises(ValueError, match="lang must be one of"):
        analyse(["ok"], lang="fr")


def test_aspects_keep_report_order_with_a_phrase_and_clause() -> None:
    # a real review: logistics positive, quality negative
    text = "发货很快，就是收到书的时候太失望了，一看就是盗版的，质量太差了"
    (result,) = analyse([text])
    assert [(a.aspect, a.polarity) for a in result.aspects] == [
        ("logistics", "positive"),
        ("quality", "negative"),
    ]
    assert result.aspects[1].phrase == "质量太差"  # a lexicon phrase that judges itself
    assert result.aspects_text() == "logistics:+;quality:-"


def test_a_clause_without_opinion_words_is_scored_by_the_model() -> None:
    # the clause names logistics without an opinion word of the lexicon: the model decides
    (result,) = analyse(["快递员把东西放在门口就走了"], lang="zh")
    (mention,) = result.aspects
    assert mention.aspect == "logistics"
    assert -0.5 <= mention.score <= 0.5


def test_aspect_summary_counts_reviews_and_negative_shares() -> None:
    results = analyse(["物流太慢了", "物流很快", "质量很好", "Love it"])
    table = aspect_summary(results)
    assert list(table.index) == list(ASPECTS)
    assert table.loc["logistics"].tolist() == [2.0, 0.5, 1.0, 1.0, 0.5]
    assert table.loc["quality", "share_negative"] == 0.0
    assert math.isnan(table.loc["price", "share_negative"])


def test_top_complaints_rank_phrases_with_examples() -> None:
    texts = ["物流太慢了", "物流太慢了，等了一周", "质量很好", "质量太差", "物流太慢!!"]
    table = top_complaints(texts, analyse(texts), examples=1)
    assert table[["aspect", "phrase", "count"]].values.tolist() == [
        ["logistics", "物流 太慢", 3],
        ["quality", "质量太差", 1],
    ]
    assert table["examples"].tolist() == [["物流太慢了"], ["质量太差"]]


def test_top_complaints_refuses_misaligned_input() -> None:
    with pytest.raises(ValueError, match="2 texts but 1 analyses"):
        top_complaints(["a", "b"], analyse(["a"]))


def test_on_the_bundled_chinese_sample_negative_reviews_carry_most_complaints() -> None:
    frame = pd.read_csv(sample_path("reviews_zh"))
    results = analyse(frame["review"].tolist())
    negative_mentions = [
        label
        for label, r in zip(frame["label"], results, strict=True)
        for a in r.aspects
        if a.polarity == "negative"
    ]
    # most negative aspect mentions come from reviews labelled negative by their writers
    assert sum(1 for lab in negative_mentions if lab == 0) / len(negative_mentions) >= 0.75


def test_on_real_olist_reviews_late_delivery_goes_with_lower_ratings() -> None:
    from manyi.text import aspect_rating_effect

    # given the Olist reviews with a text in the bundled sample
    reviews = pd.read_csv(sample_path("olist") / "olist_order_reviews_dataset.csv.gz")
    reviews = reviews.dropna(subset=["review_comment_message"])
    results = analyse(reviews["review_comment_message"].tolist(), lang="pt")
    # when ratings are related to the aspects
    table = aspect_rating_effect(results, reviews["review_score"].to_numpy())
    logistics = table.loc["logistics"]
    # then complaints about delivery go with lower ratings than praise, in means and jointly
    assert logistics["n_negative"] >= 30
    assert logistics["n_positive"] >= 30
    assert logistics["mean_rating_negative"] < logistics["mean_rating_positive"] - 1.5
    assert logistics["effect_negative"] < 0 < logistics["effect_positive"]


def test_aspect_rating_effect_refuses_misaligned_input() -> None:
    from manyi.text import aspect_rating_effect

    with pytest.raises(ValueError, match="1 analyses but 2 ratings"):
        aspect_rating_effect(analyse(["ok"]), [1, 2])
