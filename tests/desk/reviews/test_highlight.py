"""Marking aspect clauses in the text as written (case, width and spacing differ from the
normalised clauses that manyi.text reports)."""

from __future__ import annotations

from manyi.desk.reviews.highlight import Mark, segments
from manyi.text import analyse


def _marked(text: str) -> list[tuple[str, str | None]]:
    found = analyse([text])[0]
    marks = [Mark(a.aspect, a.polarity, a.clause, a.phrase) for a in found.aspects]
    return [(s.text, s.polarity) for s in segments(text, marks) if s.polarity]


def test_clauses_are_found_across_case_full_width_and_spacing() -> None:
    text = "The FABRIC is cheap,   but shipping was FAST．  Runs small."
    marked = _marked(text)
    assert ("The FABRIC is cheap", "negative") in marked
    assert ("but shipping was FAST", "positive") in marked
    assert ("Runs small", "negative") in marked
    assert "".join(s.text for s in segments(text, [])) == text


def test_chinese_clauses_keep_their_full_width_punctuation_outside_the_marks() -> None:
    text = "快递很慢，但是质量很好！包装也破了"
    assert _marked(text) == [
        ("快递很慢", "negative"),
        ("但是质量很好", "positive"),
        ("包装也破了", "negative"),
    ]


def test_overlapping_marks_of_different_polarity_are_mixed_and_missing_ones_are_skipped() -> None:
    marks = [
        Mark("quality", "negative", "fabric thin"),
        Mark("price", "positive", "fabric thin"),
        Mark("logistics", "negative", "not in the text", phrase="delivery late"),
    ]
    pieces = segments("Fabric   thin, fine.", marks)
    assert [(s.text, s.polarity, s.aspects) for s in pieces] == [
        ("Fabric   thin", "mixed", ("price", "quality")),
        (", fine.", None, ()),
    ]
    assert segments("", marks) == []


def test_a_clause_shortened_by_normalisation_falls_back_to_its_aspect_word() -> None:
    marks = [Mark("logistics", "positive", "delivery was soo fast", phrase="delivery fast")]
    pieces = segments("Delivery was soooo fast", marks)
    assert [(s.text, s.polarity) for s in pieces] == [
        ("Delivery", "positive"),
        (" was soooo fast", None),
    ]
