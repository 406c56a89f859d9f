"""Aspect extraction on real review sentences from the three corpora (quoted verbatim)."""

from __future__ import annotations

import pytest

from manyi.text.aspects import extract_aspects


def _polarities(text: str, lang: str) -> dict[str, str]:
    """aspect -> polarity of its clause scores, summed per aspect (lexicon only)."""
    totals: dict[str, float] = {}
    for mention in extract_aspects(text, lang):
        totals[mention.aspect] = totals.get(mention.aspect, 0.0) + (mention.score or 0.0)
    return {
        aspect: "+" if score > 0 else "-" if score < 0 else "0" for aspect, score in totals.items()
    }


# Each sentence is a real review (online_shopping_10_cats, women's clothing reviews, Olist).
REAL_SENTENCES = [
    ("zh", "就是物流有点慢，四天才到货。。。。", {"logistics": "-"}),
    ("zh", "虽然物流慢了些，平板还是可以的，这是第一天用暂时没有什么问题。", {"logistics": "-"}),
    (
        "zh",
        "还不错，但是送来的时候包装都破了，屏幕比例看着有点不舒服，续航很满意！",
        {"packaging": "-", "quality": "+"},
    ),
    (
        "zh",
        "什么全球最大的中文网上商城，我呸！乱发货不说，客服态度差、处理速度慢、不主动。",
        {"service": "-", "logistics": "-"},
    ),
    ("zh", "性价比太低，太低。还用彩页印刷。真是的。", {"price": "-"}),
    ("zh", "给孩子买的 性价比很高 支持国产", {"price": "+"}),
    ("zh", "分辨率太低，相素太差了与描述不符。", {"as_described": "-"}),
    (
        "zh",
        "用了很久才来评价，手机质量不错，价格合理，给个五星，支持京东购物。",
        {"quality": "+", "price": "+"},
    ),
    (
        "zh",
        "发货很快，就是收到书的时候太失望了，一看就是盗版的，质量太差了",
        {"logistics": "+", "quality": "-"},
    ),
    ("zh", "发货速度很快，平板也不错，包装也很完整。", {"logistics": "+", "packaging": "+"}),
    (
        "en",
        "Cute lil romper. This is a great fit and super cute, price not bad either!!",
        {"as_described": "+", "price": "+"},
    ),
    ("en", "Poor quality. i expected much more from the material.", {"quality": "-"}),
    (
        "en",
        "Cute pattern, but the shirt is very thin and runs small and short!",
        {"quality": "-", "as_described": "-"},
    ),
    (
        "en",
        "Beautiful shirt for a great price. i love a good striped shirt and i got it on sale!",
        {"price": "+"},
    ),
    (
        "en",
        "Not worth the money. Much lower quality than other robes i have purchased",
        {"price": "-"},
    ),
    (
        "en",
        "This is an absolutely beautiful dress, but arrived with several holes in it!",
        {"quality": "-"},
    ),
    ("pt", "Não gostei tecido ruim péssimo ", {"quality": "-"}),
    (
        "pt",
        "Recomendo com ressalvas. Não gostei do acabamento. "
        "Mas a cortinha é bonita, apesar de fina!",
        {"quality": "-"},
    ),
    (
        "pt",
        "Vendedor confiável, produto ok e entrega antes do prazo.",
        {"service": "+", "logistics": "+"},
    ),
    (
        "pt",
        "Recebi antes do prazo, a embalagem foi muito bem feita e o produto funciona corretamente.",
        {"logistics": "+", "packaging": "+"},
    ),
    ("pt", "não recebi a mercadoria ainda. ", {"logistics": "-"}),
    ("pt", "Qualidade e preço justo, com entrega em tempo recorde.", {"price": "+"}),
    (
        "pt",
        "Recebi um produto diferente do que foi requisitado. "
        "A imagem do anúncio não condiz com o produto recebido.",
        {"as_described": "-"},
    ),
    ("pt", "Ótimo atendimento, gostei", {"service": "+"}),
]


@pytest.mark.parametrize(("lang", "text", "expected"), REAL_SENTENCES)
def test_real_sentences_get_the_aspects_and_polarities_a_reader_sees(
    lang: str, text: str, expected: dict[str, str]
) -> None:
    # given a real review; when aspects are extracted
    found = _polarities(text, lang)
    # then every aspect a reader sees is there with the reader's polarity
    assert {a: found.get(a) for a in expected} == expected
