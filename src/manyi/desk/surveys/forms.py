"""The survey form: check a submission against the questions, and lay the page out.

Field names are ``<instrument>.<item>`` (``csat.csat``, ``servqual.P12``); a group of
points questions (SERVQUAL weights) reports a shared error under ``<instrument>.<section>``.
Nothing here touches the database: :func:`parse_submission` returns values or errors, and
``services.submit_response`` writes them all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from manyi.desk.surveys.models import InstrumentVersion, Question, QuestionKind

MAX_TEXT = 4000
POINTS_TOTAL = 100


def field_name(instrument: str, item: str) -> str:
    return f"{instrument}.{item}"


def field_id(instrument: str, item: str) -> str:
    return f"q-{instrument}-{item}"


def pick(lang: str, zh: str, en: str) -> str:
    """The text in ``lang`` (``zh-hans`` or ``en``), falling back to the other one."""
    if lang.startswith("zh"):
        return zh or en
    return en or zh


@dataclass
class Submission:
    """Parsed answers per instrument code: numbers, texts, and per-field errors."""

    numbers: dict[str, dict[str, float]] = field(default_factory=dict)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def answered(self, instrument: str) -> bool:
        return bool(self.numbers.get(instrument) or self.texts.get(instrument))


def _questions(version: InstrumentVersion) -> list[Question]:
    return sorted(version.questions.all(), key=lambda q: q.position)


def parse_submission(versions: Sequence[InstrumentVersion], data: Mapping[str, Any]) -> Submission:
    """Check ``data`` (the POSTed form) against the questions of ``versions``.

    A scale answer must be one of its points, a choice one of its codes; points questions of
    one section are either all left empty or add up to 100 (an empty one counts as 0).
    """
    out = Submission()
    for version in versions:
        code = version.instrument_id
        numbers: dict[str, float] = {}
        texts: dict[str, str] = {}
        points: dict[str, list[tuple[Question, str]]] = {}
        for q in _questions(version):
            name = field_name(code, q.item)
            raw = (data.get(name) or "").strip()
            if q.kind == QuestionKind.POINTS:
                points.setdefault(q.section, []).append((q, raw))
                continue
            if not raw:
                if q.required:
                    out.errors[name] = (
                        _("Choose one of the points.")
                        if q.kind == QuestionKind.SCALE
                        else _("Answer this question.")
                    )
                continue
            if q.kind == QuestionKind.SCALE:
                low, high = _bounds(q)
                number = _whole(raw)
                if number is None or not low <= number <= high:
                    out.errors[name] = _("Choose one of the points from %(low)d to %(high)d.") % {
                        "low": low,
                        "high": high,
                    }
                    continue
                numbers[q.item] = float(number)
            elif q.kind == QuestionKind.CHOICE:
                codes = {str(c.get("code")) for c in q.choices or []}
                if raw not in codes:
                    out.errors[name] = _("Choose one of the options.")
                    continue
                texts[q.item] = raw
            else:
                if len(raw) > MAX_TEXT:
                    out.errors[name] = _("Please keep it under %(n)d characters.") % {"n": MAX_TEXT}
                    continue
                texts[q.item] = raw
        for section, entries in points.items():
            _parse_points(code, section, entries, numbers, out.errors)
        if numbers:
            out.numbers[code] = numbers
        if texts:
            out.texts[code] = texts
    return out


def _parse_points(
    code: str,
    section: str,
    entries: list[tuple[Question, str]],
    numbers: dict[str, float],
    errors: dict[str, str],
) -> None:
    if all(not raw for _q, raw in entries):
        if any(q.required for q, _raw in entries):
            errors[field_name(code, section or "points")] = _("Share the 100 points among these.")
        return
    given: dict[str, int] = {}
    bad = False
    for q, raw in entries:
        number = _whole(raw) if raw else 0
        if number is None or not 0 <= number <= POINTS_TOTAL:
            errors[field_name(code, q.item)] = _("Enter a whole number from 0 to 100.")
            bad = True
            continue
        given[q.item] = number
    if bad:
        return
    total = sum(given.values())
    if total != POINTS_TOTAL:
        errors[field_name(code, section or "points")] = _(
            "The points add up to %(total)d; they should add up to 100."
        ) % {"total": total}
        return
    numbers.update({item: float(n) for item, n in given.items()})


def _bounds(q: Question) -> tuple[int, int]:
    return int(q.scale_min if q.scale_min is not None else 1), int(
        q.scale_max if q.scale_max is not None else 5
    )


def _whole(raw: str) -> int | None:
    try:
        return int(raw, 10)
    except ValueError:
        return None


# --- layout ---------------------------------------------------------------------------------


@dataclass
class Option:
    value: str
    label: str
    id: str
    checked: bool


@dataclass
class Field:
    name: str
    id: str
    kind: str
    legend: str
    help: str
    required: bool
    error: str
    value: str
    options: list[Option]
    #: What the lowest and the highest point of a scale mean ("1 = very dissatisfied").
    anchors: tuple[str, str] | None = None

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def described_by(self) -> str:
        ids = [self.help_id] if self.help or self.anchors else []
        if self.error:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def focus_id(self) -> str:
        """Where the error summary's link takes the keyboard: the first radio, or the input."""
        return self.options[0].id if self.options else self.id

    @property
    def wide(self) -> bool:
        """More points than fit on one line of a phone (the 0-10 NPS scale)."""
        return len(self.options) > 7


@dataclass
class Group:
    """Questions under one section heading; ``points`` groups share one 100-point total."""

    key: str
    title: str
    intro: str
    fields: list[Field]
    points: bool = False
    error: str = ""
    name: str = ""

    @property
    def id(self) -> str:
        return f"g-{self.key}"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"


@dataclass
class Block:
    """One instrument on the page."""

    code: str
    title: str
    intro: str
    groups: list[Group]


@dataclass(frozen=True)
class ErrorLink:
    target: str
    label: str
    message: str


def layout_page(
    versions: Iterable[InstrumentVersion],
    lang: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
) -> tuple[list[Block], list[ErrorLink]]:
    """The page's blocks in ``lang`` with ``values`` filled in and ``errors`` attached, and the
    error summary (in page order) linking to each field."""
    blocks: list[Block] = []
    summary: list[ErrorLink] = []
    for version in versions:
        code = version.instrument_id
        instrument = version.instrument
        groups: list[Group] = []
        for q in _questions(version):
            if not groups or groups[-1].key != f"{code}-{q.section or 'main'}":
                meta = (version.sections or {}).get(q.section, {})
                group_name = field_name(code, q.section or "points")
                groups.append(
                    Group(
                        key=f"{code}-{q.section or 'main'}",
                        title=pick(lang, *_texts(meta.get("title"))),
                        intro=pick(lang, *_texts(meta.get("intro"))),
                        fields=[],
                        points=q.kind == QuestionKind.POINTS,
                        error=errors.get(group_name, "") if q.kind == QuestionKind.POINTS else "",
                        name=group_name,
                    )
                )
            group = groups[-1]
            f = _field(code, q, lang, values, errors)
            group.fields.append(f)
        for group in groups:
            if group.error:
                summary.append(ErrorLink(group.fields[0].focus_id, group.title, group.error))
            summary.extend(
                ErrorLink(f.focus_id, _short(f.legend), f.error) for f in group.fields if f.error
            )
        blocks.append(
            Block(
                code=code,
                title=pick(lang, instrument.name_zh, instrument.name_en),
                intro=pick(lang, *_texts(version.intro)),
                groups=groups,
            )
        )
    return blocks, summary


def _texts(value: object) -> tuple[str, str]:
    if isinstance(value, dict):
        return str(value.get("zh", "")), str(value.get("en", ""))
    return "", ""


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field(
    code: str, q: Question, lang: str, values: Mapping[str, Any], errors: Mapping[str, str]
) -> Field:
    name = field_name(code, q.item)
    fid = field_id(code, q.item)
    value = str(values.get(name, "") or "")
    options: list[Option] = []
    anchors = None
    if q.kind == QuestionKind.SCALE:
        low, high = _bounds(q)
        low_label = pick(lang, q.low_label_zh, q.low_label_en)
        high_label = pick(lang, q.high_label_zh, q.high_label_en)
        options = [
            Option(str(n), str(n), f"{fid}-{n}", value == str(n)) for n in range(low, high + 1)
        ]
        if low_label or high_label:
            anchors = (f"{low} = {low_label}", f"{high} = {high_label}")
    elif q.kind == QuestionKind.CHOICE:
        for c in q.choices or []:
            c_code = str(c.get("code"))
            label = pick(lang, str(c.get("zh", "")), str(c.get("en", "")))
            options.append(Option(c_code, label, f"{fid}-{c_code}", value == c_code))
    return Field(
        name=name,
        id=fid,
        kind=q.kind,
        legend=pick(lang, q.text_zh, q.text_en),
        help=pick(lang, q.help_zh, q.help_en),
        required=q.required,
        error=errors.get(name, ""),
        value=value,
        options=options,
        anchors=anchors,
    )
