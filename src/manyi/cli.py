"""The ``manyi`` command: ``manyi --help`` lists everything; each command has an example.

Command groups live in ``manyi.commands``; this module only assembles them, so importing it
stays cheap (Django and the analysis stack load when a command runs, not before).
"""

from __future__ import annotations

import typer

from manyi import __version__
from manyi.commands import (
    clv,
    demo,
    drivers,
    imports,
    mail,
    monitor,
    report,
    reviews,
    sentiment,
    surveys,
    synth,
    token,
    train,
    worker,
)

app = typer.Typer(
    name="manyi",
    help=(
        "manyi (满意): after-sales service, customer satisfaction and what it is worth in "
        "sales.\n\nExample: manyi demo"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"manyi {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """manyi (满意): after-sales service, satisfaction and sales for online shops."""


app.command("demo")(demo.demo)
app.command("serve")(demo.serve)
app.command(
    "manage",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(demo.manage)
app.add_typer(imports.app, name="import")
app.command("generate")(synth.generate)
app.add_typer(clv.app, name="clv")
app.add_typer(drivers.app, name="drivers")
app.add_typer(sentiment.app, name="sentiment")
app.add_typer(reviews.app, name="reviews")
app.add_typer(report.app, name="report")
app.command("review-campaign")(monitor.review_campaign)
app.add_typer(monitor.alerts_app, name="alerts")
app.add_typer(surveys.app, name="surveys")
app.command("train-sentiment")(train.train_sentiment)
app.add_typer(token.app, name="token")
app.command("worker")(worker.worker)
app.add_typer(mail.app, name="mail")


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
