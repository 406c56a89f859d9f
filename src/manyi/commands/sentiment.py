"""``manyi sentiment``: review sentiment and aspects for CSV files, streamed in chunks."""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

app = typer.Typer(
    help=(
        "Review sentiment (positive / neutral / negative) and aspects (logistics, quality, "
        "as described, service, price, packaging) in Chinese, English and Portuguese.\n\n"
        "Example: manyi sentiment predict --input reviews.csv --text-column review "
        "--output scored.csv"
    ),
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)

LANG = typer.Option(
    "auto", "--lang", help="Language of the reviews: auto (detect per review), zh, en or pt."
)
INPUT = typer.Option(..., "--input", "-i", help="CSV file (plain or .gz) with a header row.")
TEXT = typer.Option(..., "--text-column", help="Column holding the review text.")
TITLE = typer.Option(
    None, "--title-column", help="Optional column with the review title (joined before the text)."
)
CHUNK = typer.Option(5000, "--chunk-size", min=100, help="Rows read and scored at a time.")
ENCODING = typer.Option(
    "utf-8-sig",
    "--encoding",
    help="Text encoding of the input (e.g. gbk for files saved by Chinese Excel).",
)

_POSITIVE = {"1", "positive", "pos", "true", "yes"}
_NEGATIVE = {"0", "negative", "neg", "false", "no"}


@contextmanager
def _open_csv(path: Path) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """Yield (raw file, decoded stream); ``raw.tell()`` drives the progress bar."""
    raw = path.open("rb")
    try:
        if path.suffix == ".gz":
            with gzip.open(raw) as stream:
                yield raw, stream  # type: ignore[misc]
        else:
            yield raw, raw
    finally:
        raw.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} reviews"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def _chunks(
    path: Path, columns: list[str], chunk_size: int, encoding: str = "utf-8-sig"
) -> Iterator[tuple[Any, int, IO[bytes]]]:
    import pandas as pd

    if not path.is_file():
        err.print(f"[red]{path}: file not found[/red]")
        raise typer.Exit(2)
    with _open_csv(path) as (raw, stream):
        try:
            reader = pd.read_csv(
                stream,
                chunksize=chunk_size,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding=encoding,
            )
            first_row = 2  # line 1 is the header
            for chunk in reader:
                missing = [c for c in columns if c not in chunk.columns]
                if missing:
                    err.print(
                        f"[red]{path}: line 1 (header): no column {missing[0]!r}; "
                        f"columns are {list(chunk.columns)}[/red]"
                    )
                    raise typer.Exit(2)
                yield chunk, first_row, raw
                first_row += len(chunk)
        except UnicodeDecodeError as exc:
            err.print(
                f"[red]{path}: byte {exc.start} is not valid {encoding}; "
                "pass the file's encoding with --encoding (e.g. gbk)[/red]"
            )
            raise typer.Exit(2) from exc
        except LookupError as exc:
            err.print(f"[red]--encoding {encoding!r}: unknown encoding[/red]")
            raise typer.Exit(2) from exc
        except (pd.errors.ParserError, gzip.BadGzipFile) as exc:
            err.print(f"[red]{path}: cannot read as CSV: {exc}[/red]")
            raise typer.Exit(2) from exc
        except pd.errors.EmptyDataError as exc:
            err.print(f"[red]{path}: the file is empty (no header row)[/red]")
            raise typer.Exit(2) from exc


def _texts(chunk: Any, text_column: str, title_column: str | None) -> list[object]:
    texts = chunk[text_column].tolist()
    if title_column is None:
        return list(texts)
    titles = chunk[title_column].tolist()
    out: list[object] = []
    for title, body in zip(titles, texts, strict=True):
        parts = [p for p in (title, body) if isinstance(p, str) and p.strip()]
        out.append(". ".join(parts) if parts else body)
    return out


def _check_lang(lang: str) -> None:
    if lang not in {"auto", "zh", "en", "pt"}:
        err.print(f"[red]--lang must be auto, zh, en or pt, not {lang!r}[/red]")
        raise typer.Exit(2)


@app.command("predict")
def predict(
    input_path: Path = INPUT,
    text_column: str = TEXT,
    output: Path = typer.Option(
        ..., "--output", "-o", help="CSV to write (.gz compresses): the input plus results."
    ),
    lang: str = LANG,
    title_column: str | None = TITLE,
    chunk_size: int = CHUNK,
    encoding: str = ENCODING,
) -> None:
    """Score every review and write the input with sentiment, p_positive, aspects, language.

    sentiment is positive / neutral / negative (neutral when 0.35 <= p_positive <= 0.65);
    aspects lists aspect:polarity pairs such as "logistics:+;quality:-". Empty or
    unreadable text gets sentiment neutral, p_positive 0.5, no aspects, language unknown.

    Example: manyi sentiment predict -i reviews.csv --text-column review -o scored.csv
    """
    from manyi.text.analysis import analyse

    _check_lang(lang)
    columns = [text_column] + ([title_column] if title_column else [])
    total = input_path.stat().st_size if input_path.is_file() else 0
    rows = 0
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("scoring", total=total, rows=0)
        for index, (chunk, _first, raw) in enumerate(
            _chunks(input_path, columns, chunk_size, encoding)
        ):
            results = analyse(_texts(chunk, text_column, title_column), lang)
            chunk["sentiment"] = [r.sentiment for r in results]
            chunk["p_positive"] = [round(r.p_positive, 4) for r in results]
            chunk["aspects"] = [r.aspects_text() for r in results]
            chunk["language"] = [r.language for r in results]
            chunk.to_csv(output, mode="w" if index == 0 else "a", header=index == 0, index=False)
            rows += len(chunk)
            progress.update(task, completed=raw.tell(), rows=rows)
        progress.update(task, completed=total)
    seconds = time.perf_counter() - started
    err.print(f"wrote {rows:,} reviews to {output} ({rows / max(seconds, 1e-9):,.0f} reviews/s)")


@app.command("evaluate")
def evaluate(
    input_path: Path = INPUT,
    text_column: str = TEXT,
    label_column: str = typer.Option(
        ...,
        "--label-column",
        help="Column with the true label: 1/0, positive/negative (or star ratings with --stars).",
    ),
    lang: str = LANG,
    stars: bool = typer.Option(
        False, "--stars", help="Labels are 1-5 stars: 1-2 negative, 4-5 positive, 3 skipped."
    ),
    title_column: str | None = TITLE,
    chunk_size: int = CHUNK,
    encoding: str = ENCODING,
) -> None:
    """Measure the sentiment model on labelled reviews and print JSON.

    Prints n, accuracy, macro_f1, recall per class, the number of reviews with nothing to
    judge (empty text or unknown language: p_positive 0.5, counted as positive), reviews by
    language and reviews per second (normalisation, language detection and sentiment; CSV
    reading and model loading excluded).

    Example: manyi sentiment evaluate -i reviews.csv --text-column review --label-column label
    """
    import numpy as np

    from manyi.text.analysis import analyse
    from manyi.text.sentiment import LANGUAGES, load_model
    from manyi.text.training import evaluate_predictions

    _check_lang(lang)
    for code in LANGUAGES if lang == "auto" else (lang,):
        load_model(code)  # load before the clock starts: the rate is the steady state
    columns = [text_column, label_column] + ([title_column] if title_column else [])
    total = input_path.stat().st_size if input_path.is_file() else 0
    truth: list[int] = []
    probs: list[float] = []
    languages: Counter[str] = Counter()
    skipped = 0
    undetermined = 0
    scoring_seconds = 0.0
    with _progress() as progress:
        task = progress.add_task("evaluating", total=total, rows=0)
        for chunk, first_row, raw in _chunks(input_path, columns, chunk_size, encoding):
            keep: list[int] = []
            labels: list[int] = []
            for offset, value in enumerate(chunk[label_column].tolist()):
                label = _parse_label(value, stars=stars)
                if label is None:
                    err.print(
                        f"[red]{input_path}: row {first_row + offset}: field "
                        f"{label_column!r}: cannot read {value!r} as a label "
                        f"({'1-5 stars' if stars else '1/0 or positive/negative'})[/red]"
                    )
                    raise typer.Exit(2)
                if label < 0:
                    skipped += 1
                    continue
                keep.append(offset)
                labels.append(label)
            subset = chunk.iloc[keep]
            texts = _texts(subset, text_column, title_column)
            tick = time.perf_counter()
            results = analyse(texts, lang, with_aspects=False)
            scoring_seconds += time.perf_counter() - tick
            truth.extend(labels)
            probs.extend(r.p_positive for r in results)
            languages.update(r.language for r in results)
            undetermined += sum(r.label is None for r in results)
            progress.update(task, completed=raw.tell(), rows=len(truth))
        progress.update(task, completed=total)
    metrics = evaluate_predictions(np.asarray(truth), np.asarray(probs)).to_dict()
    report = {
        **metrics,
        "skipped_three_star": skipped,
        "undetermined": undetermined,
        "languages": dict(languages),
        "reviews_per_second": round(len(truth) / max(scoring_seconds, 1e-9)),
    }
    console.print_json(json.dumps(report))


def _parse_label(value: object, *, stars: bool) -> int | None:
    """1 positive, 0 negative, -1 skipped (three stars), None unreadable."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if stars:
        try:
            rating = float(text)
        except ValueError:
            return None
        if rating not in {1.0, 2.0, 3.0, 4.0, 5.0}:
            return None
        return 0 if rating <= 2 else -1 if rating == 3 else 1
    if text in _POSITIVE:
        return 1
    if text in _NEGATIVE:
        return 0
    return None
