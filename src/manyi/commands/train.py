"""``manyi train-sentiment``: rebuild the shipped sentiment models from the labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console()
err = Console(stderr=True, soft_wrap=True)


def _package_folder(module: str) -> Path:
    from importlib import import_module

    return Path(str(import_module(module).__file__)).parent


def train_sentiment(
    lang: str = typer.Option(
        "all", "--lang", help="Which model to train: zh, en, pt or all.", show_default=True
    ),
    data_dir: Path = typer.Option(
        ...,
        "--data-dir",
        help="The shared data folder (holds online_shopping_10_cats/, womens_clothing_reviews/, "
        "olist/sample_15k/).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write the model files here instead of into the installed package "
        "(manyi/text/models/).",
    ),
) -> None:
    """Train the sentiment models on the training parts and report held-out metrics.

    Each corpus is split deterministically (20 % per stratum held out; see
    docs/text-model-card.md); the model is fitted on the rest, measured on the held-out part
    and written as <lang>.npz + <lang>.json. With --lang all the English/Portuguese language
    profiles are rebuilt as well.

    Example: manyi train-sentiment --lang pt --data-dir public-data/ --out /tmp/models
    """
    from manyi.text.corpora import read_corpus
    from manyi.text.language import build_language_profiles, write_language_profiles
    from manyi.text.training import train_language

    choices = ("zh", "en", "pt")
    if lang not in (*choices, "all"):
        err.print(f"[red]--lang must be zh, en, pt or all, not {lang!r}[/red]")
        raise typer.Exit(2)
    if not data_dir.is_dir():
        err.print(f"[red]--data-dir {data_dir}: not a folder[/red]")
        raise typer.Exit(2)
    models_dir = out or _package_folder("manyi.text.models")
    languages = choices if lang == "all" else (lang,)
    results = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
    ) as progress:
        for code in languages:
            task = progress.add_task(f"training {code}", total=None)
            try:
                results[code] = train_language(code, data_dir, models_dir)
            except FileNotFoundError as exc:
                err.print(f"[red]{exc}[/red]")
                raise typer.Exit(1) from exc
            progress.update(task, description=f"trained {code}", completed=1, total=1)
        if lang == "all":
            task = progress.add_task("language profiles", total=None)
            # The profiles read each corpus's split key (en: title + text, pt: the message):
            # the texts they were first built from, so adding Portuguese titles to the
            # sentiment model (issue 8) left language detection as it was.
            texts = {
                code: read_corpus(code, data_dir).train()["split_key"] for code in ("en", "pt")
            }
            profile_dir = out or _package_folder("manyi.text.lexicons")
            write_language_profiles(
                build_language_profiles(texts), profile_dir / "language_profiles.json"
            )
            progress.update(task, completed=1, total=1)
    summary = {code: meta["holdout_metrics"] for code, meta in results.items()}
    console.print_json(json.dumps({"models": str(models_dir), "holdout": summary}))
