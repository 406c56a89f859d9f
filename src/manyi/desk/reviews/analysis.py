"""The analysis step: each review's title and text through ``manyi.text.analyse``, stored.

Reviews are analysed in batches (``analyse_reviews``: the worker job after an import and
``manyi reviews analyse``) or one at a time when posted through the API (``analyse_one``).
Each stored analysis carries the version of the models that made it, so after the models are
retrained the next run re-analyses what the old ones did. After storing a batch, the step calls
the bad-review rule for it explicitly (``follow_ups.apply_follow_up_rule``), in the same
transaction: a batch is analysed and has its follow-up cases, or neither (a killed run leaves
the batch pending and the next run does it again).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from manyi.desk.commerce.models import Review
from manyi.desk.reviews.follow_ups import RuleConfig, apply_follow_up_rule
from manyi.desk.reviews.models import ReviewAnalysis, ReviewAspect

#: Languages with a shipped sentiment model; other review languages are detected per review.
MODEL_LANGUAGES = ("zh", "en", "pt")
BATCH_SIZE = 2000
#: ``ReviewAspect.phrase`` is a ``varchar(255)``.
PHRASE_LENGTH = 255

#: Called after each batch with (reviews analysed so far, reviews to analyse in this run).
Progress = Callable[[int, int], None]


@lru_cache(maxsize=1)
def model_version() -> str:
    """A short fingerprint of the shipped sentiment models (their metadata: training data,
    parameters, intercept, vocabulary size); a retrained model gives another one.

    The models are loaded once per process (``manyi.text.load_model`` caches them).
    """
    from manyi.text import load_model

    digest = hashlib.sha256()
    for lang in MODEL_LANGUAGES:
        meta = load_model(lang).metadata_
        digest.update(json.dumps(meta, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class _Row:
    pk: int
    title: str | None
    body: str | None
    language: str | None


@dataclass
class AnalysisSummary:
    analysed: int = 0
    follow_ups: int = 0
    #: Wall time of the batches (analysis, writes, follow-up cases), model loading excluded.
    seconds: float = 0.0
    #: Wall time to load the models; 0 once a process has them (the worker keeps them).
    load_seconds: float = 0.0
    model_version: str = ""

    @property
    def per_second(self) -> float:
        return self.analysed / self.seconds if self.seconds > 0 else 0.0


def review_text(title: str | None, body: str | None) -> str:
    """Title and text as one document; the full stop keeps them in separate clauses."""
    parts = [p.strip() for p in (title, body) if p and p.strip()]
    return ". ".join(parts)


def _analyse(rows: Sequence[_Row]) -> list[Any]:
    """``manyi.text.analyse`` per language group: a review's stored language is trusted when
    a model exists for it (short texts such as "Ótimo" are hard to detect), else detected."""
    from manyi.text import analyse

    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        lang = (row.language or "").lower()
        groups[lang if lang in MODEL_LANGUAGES else "auto"].append(i)
    results: list[Any] = [None] * len(rows)
    for lang, idx in groups.items():
        texts = [review_text(rows[i].title, rows[i].body) for i in idx]
        for i, result in zip(idx, analyse(texts, lang=lang), strict=True):
            results[i] = result
    return results


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field[Any, Any]]:
    fields = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field) or not field.column:
            raise TypeError(f"{model.__name__}.{name} is not a column")
        fields.append(field)
    return fields


def _insert(
    cursor: Any,
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    upsert: bool = False,
) -> None:
    """Insert ``rows`` (values of the fields ``names``, in order) into ``model``'s table.

    ``upsert``: on a conflict on the first field (the key), update the other columns
    (``INSERT ... ON CONFLICT DO UPDATE``, the same on SQLite 3.24+ and PostgreSQL).

    Plain SQL instead of ``bulk_create``: building a model instance per row took longer than
    the analysis itself. SQLite gets ``executemany`` (in process, cheap per row). PostgreSQL
    gets one statement per batch with one array per column (``unnest``): ``executemany``
    costs a round trip per row, and a many-row ``VALUES`` list is re-parsed by psycopg on
    every call (the query is too long for its cache).
    """
    if not rows:
        return
    connection = cursor.db
    quote = connection.ops.quote_name
    fields = _fields(model, names)
    columns = [quote(f.column) for f in fields]
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
    tail = ""
    if upsert:
        tail = f" ON CONFLICT ({columns[0]}) DO UPDATE SET " + ", ".join(
            f"{c} = EXCLUDED.{c}" for c in columns[1:]
        )
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        columns_of_rows = [list(col) for col in zip(*rows, strict=True)]
        cursor.execute(f"{sql}SELECT * FROM unnest({arrays}){tail}", columns_of_rows)
    else:
        values = ", ".join(["%s"] * len(fields))
        cursor.executemany(f"{sql}VALUES ({values}){tail}", rows)


_ANALYSIS_FIELDS = (
    "review",
    "language",
    "sentiment",
    "p_positive",
    "label",
    "model_version",
    "analysed_at",
)
_ASPECT_FIELDS = ("review", "aspect", "polarity", "score", "phrase", "clause")


def _store(rows: Sequence[_Row], results: Sequence[Any], version: str, now: datetime) -> None:
    """Write the analyses (replacing older ones) and their aspects; call inside a
    transaction."""
    connection = transaction.get_connection()
    stamp = connection.ops.adapt_datetimefield_value(now)
    analyses = [
        (row.pk, r.language[:8], r.sentiment, r.p_positive, r.label, version, stamp)
        for row, r in zip(rows, results, strict=True)
    ]
    aspects = [
        (row.pk, m.aspect, m.polarity, m.score, m.phrase[:PHRASE_LENGTH], m.clause)
        for row, r in zip(rows, results, strict=True)
        for m in r.aspects
    ]
    with connection.cursor() as cursor:
        _insert(cursor, ReviewAnalysis, _ANALYSIS_FIELDS, analyses, upsert=True)
        ReviewAspect.objects.filter(review_id__in=[row.pk for row in rows]).delete()
        _insert(cursor, ReviewAspect, _ASPECT_FIELDS, aspects)


def _pending(version: str, redo_all: bool) -> Any:
    reviews = Review.objects.all()
    if not redo_all:
        # Never analysed, or analysed by other models than the shipped ones.
        reviews = reviews.exclude(analysis__model_version=version)
    return reviews


def analyse_reviews(
    *,
    redo_all: bool = False,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> AnalysisSummary:
    """Analyse every review not yet analysed by the current models (``redo_all``: every
    review), in batches, and apply the bad-review rule to each batch.

    Several runs may work at once on PostgreSQL: a batch's rows are locked with
    ``FOR NO KEY UPDATE SKIP LOCKED``, so each run takes other reviews, while replies and
    status changes (which only reference the review) are not blocked. ``now`` is the rule's
    clock (the age limit); it defaults to the current time.

    Examples
    --------
    >>> summary = analyse_reviews()                             # doctest: +SKIP
    >>> summary.analysed, summary.follow_ups                    # doctest: +SKIP
    (2980, 17)
    """
    started = time.perf_counter()
    version = model_version()
    summary = AnalysisSummary(model_version=version)
    summary.load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    config = RuleConfig.load()
    pending = _pending(version, redo_all)
    total = pending.count()
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = [
                _Row(*values)
                for values in pending.filter(pk__gt=last_pk)
                .order_by("pk")
                .select_for_update(skip_locked=True, no_key=True, of=("self",))
                .values_list("pk", "title", "body", "language")[:batch_size]
            ]
            if not batch:
                break
            last_pk = batch[-1].pk
            stamp = now or timezone.now()
            _store(batch, _analyse(batch), version, stamp)
            opened = apply_follow_up_rule([row.pk for row in batch], now=stamp, config=config)
        summary.analysed += len(batch)
        summary.follow_ups += len(opened)
        if progress is not None:
            progress(summary.analysed, max(total, summary.analysed))
    summary.seconds = time.perf_counter() - started
    return summary


def analyse_one(review: Review, *, now: datetime | None = None) -> list[int]:
    """Analyse one review now and apply the rule to it (the API's inline path); returns the
    follow-up cases opened. Call inside the transaction that created the review."""
    now = now or timezone.now()
    row = _Row(review.pk, review.title, review.body, review.language)
    _store([row], _analyse([row]), model_version(), now)
    return apply_follow_up_rule([review.pk], now=now)
