"""The vectorised segmentation gives exactly the tokens of the plain-Python definition."""

from __future__ import annotations

import doctest
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.text import segment
from manyi.text.corpora import read_corpus
from manyi.text.normalize import normalize_text
from manyi.text.segment import (
    SegmentDictionary,
    Segmenter,
    WordBlockSpec,
    WordIndex,
    segment_reference,
    shipped_dictionary,
    shipped_segmenter,
    word_columns_of_strings,
    word_features,
)
from manyi.text.vectorize import _code_points

EDGE_TEXTS = [
    "",
    "好",
    " ",
    "好 评",
    "!!",
    "😊",
    "\ud800好",
    "ᚠᚢᚦ",
    "ipad很好用",
    "中华人民共和国成立了",
    "质量很好，物流也快 " * 300,
]


def _vectorised_tokens(segmenter: Segmenter, docs: list[str]) -> list[list[str]]:
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    joined = "".join(docs)
    tokens = segmenter.segment(_code_points(joined), lengths)
    doc_of = np.repeat(np.arange(len(docs)), lengths)
    out: list[list[str]] = [[] for _ in docs]
    for start, size in zip(tokens.starts.tolist(), tokens.lengths.tolist(), strict=True):
        out[int(doc_of[start])].append(joined[start : start + size])
    return out


def _zh_sample_docs() -> list[str]:
    frame = pd.read_csv(sample_path("reviews_zh"))
    return [normalize_text(t) for t in frame["review"]]


def test_the_vectorised_segmentation_is_the_reference_one_on_reviews_and_edge_cases() -> None:
    # given the bundled Chinese reviews and texts at the edges, in one batch
    docs = [*_zh_sample_docs(), *EDGE_TEXTS]
    # when both segment them
    fast = _vectorised_tokens(shipped_segmenter(), docs)
    # then every text gets the same tokens, which spell the text out again
    assert fast == [segment_reference(d) for d in docs]
    assert ["".join(tokens) for tokens in fast] == docs


def test_ties_go_to_the_longer_token_in_both_implementations() -> None:
    # given a dictionary where "ab" weighs exactly what "a" + "b" weigh, and "abc" exactly
    # what "ab" + "c" and "a" + "bc" weigh
    words = {"a": -5, "b": -5, "c": -5, "ab": -10, "bc": -10, "abc": -15, "cd": -1}
    ordered = sorted(words)
    dictionary = SegmentDictionary(
        points=_code_points("".join(ordered)),
        lengths=np.array([len(w) for w in ordered], dtype=np.int64),
        weights=np.array([words[w] for w in ordered], dtype=np.int64),
        unknown_weight=-20,
    )
    docs = ["ab", "abc", "abcd", "xabx", "ba"]
    # when both segment
    expected = [segment_reference(d, words, -20) for d in docs]
    # then the longest of the tied tokens is taken, and both agree
    assert expected == [["ab"], ["abc"], ["ab", "cd"], ["x", "ab", "x"], ["b", "a"]]
    assert _vectorised_tokens(Segmenter(dictionary), docs) == expected


@pytest.mark.slow
def test_the_vectorised_segmentation_is_the_reference_one_on_the_corpus(
    shared_data: Path,
) -> None:
    # given 6,000 real reviews of the Chinese corpus (both parts)
    corpus = read_corpus("zh", shared_data)
    texts = [*corpus.train()["text"].head(3000), *corpus.holdout()["text"].head(3000)]
    docs = [normalize_text(t) for t in texts]
    # then both implementations give the same tokens
    assert _vectorised_tokens(shipped_segmenter(), docs) == [segment_reference(d) for d in docs]


def test_the_shipped_dictionary_is_jiebas_rebuilt(tmp_path: Path) -> None:
    # given jieba's own dictionary file (jieba is a dependency)
    import jieba

    source = Path(jieba.__file__).parent / "dict.txt"
    # when it is rebuilt and saved
    rebuilt = SegmentDictionary.from_jieba(source)
    rebuilt.save(tmp_path / "dict.npz")
    # then the arrays are the shipped ones
    shipped = shipped_dictionary()
    again = SegmentDictionary.load(tmp_path / "dict.npz")
    for got in (rebuilt, again):
        np.testing.assert_array_equal(got.points, shipped.points)
        np.testing.assert_array_equal(got.lengths, shipped.lengths)
        np.testing.assert_array_equal(got.weights, shipped.weights)
        assert got.unknown_weight == shipped.unknown_weight
    assert resources.files("manyi.text.lexicons").joinpath("segment_NOTICE.md").is_file()


def test_the_word_index_finds_what_the_strings_find() -> None:
    # given a word vocabulary from the bundled reviews (unigrams and bigrams of tokens)
    docs = [*_zh_sample_docs(), *EDGE_TEXTS]
    terms = sorted({g for d in docs[:300] for g in word_features(d, (1, 2))})
    vocabulary = {t: i for i, t in enumerate(terms)}
    # when both paths look the word n-grams of all texts up
    fast = WordIndex(vocabulary, (1, 2)).columns(docs)
    slow = word_columns_of_strings(docs, (1, 2), vocabulary)
    # then they find the same (row, column) pairs
    assert sorted(zip(*(a.tolist() for a in fast), strict=True)) == sorted(
        zip(*(a.tolist() for a in slow), strict=True)
    )
    assert len(slow[0]) > 1000


def test_the_word_block_spec_round_trips() -> None:
    spec = WordBlockSpec(ngram=(1, 1), min_df=3, C=4.0, nb_alpha=0.5, weight=0.25)
    assert WordBlockSpec.from_dict(spec.to_dict()) == spec


def test_the_docstring_examples_of_the_segmentation_run() -> None:
    result = doctest.testmod(segment)
    assert result.attempted > 0
    assert result.failed == 0
