"""``manyi reviews``: analyse the desk's reviews (sentiment, aspects, language) in batches."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from manyi.commands.django_setup import setup_django

app = typer.Typer(
    help=(
        "Reviews in the desk database: text analysis and the bad-review follow-up rule.\n\n"
        "Example: manyi reviews analyse"
    ),
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)


@app.command("analyse")
def analyse(
    redo_all: bool = typer.Option(
        False,
        "--all",
        help="Analyse every review again, not only those new or analysed by older models.",
    ),
    batch_size: int = typer.Option(
        2000, "--batch-size", min=1, max=50_000, help="Reviews analysed and written at a time."
    ),
) -> None:
    """Analyse the reviews not yet analysed by the shipped models, and open follow-up cases
    for the bad, recent ones (the rule's settings are in the admin: "Bad-review rule").

    The worker does the same every round; run this after a large import to see it progress.

    Example: manyi reviews analyse --all
    """
    setup_django()
    from manyi.desk.reviews.analysis import analyse_reviews

    with Progress(
        TextColumn("analysing reviews"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("reviews", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = analyse_reviews(redo_all=redo_all, batch_size=batch_size, progress=advance)
    console.print(
        f"{summary.analysed:,} reviews analysed in {summary.seconds:.1f} s "
        f"({summary.per_second:,.0f} per second; models {summary.model_version} "
        f"loaded in {summary.load_seconds:.1f} s)"
    )
    console.print(f"{summary.follow_ups:,} follow-up cases opened")
