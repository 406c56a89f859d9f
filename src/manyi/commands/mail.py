"""``manyi mail``: e-mail in. Receive over SMTP, import saved messages, poll an IMAP mailbox.

Every way ends in ``manyi.desk.channels.inbound``: replies land on their case, new mail opens a
case, auto-replies and duplicates are skipped. See docs/email.md.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from rich.console import Console

from manyi.commands.django_setup import setup_django

app = typer.Typer(
    help=(
        "E-mail in: receive the shop's support mail over SMTP, import .eml files, or poll an "
        "IMAP mailbox.\n\nExample: manyi mail receive --host 0.0.0.0 --port 2525"
    ),
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

#: sysexits.h EX_TEMPFAIL: a mail server that pipes a message into ``manyi mail import -``
#: keeps it queued and tries again (Postfix, Exim and sendmail all do).
EX_TEMPFAIL = 75


def _log_to_console() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("manyi").setLevel(logging.INFO)


@app.command("receive")
def receive(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(2525, "--port", "-p", help="Port to listen on (25 needs root)."),
) -> None:
    """Run the SMTP receiver for the support addresses (MANYI_INBOUND_ADDRESSES).

    Point the shop's MX record (or a forwarding rule of the mail provider) at this host; mail
    for other addresses is refused. Stop with Ctrl-C.

    Example: MANYI_INBOUND_ADDRESSES=service@shop.example manyi mail receive --port 2525
    """
    setup_django()
    _log_to_console()
    from manyi.desk.channels.smtp_receiver import run_receiver

    run_receiver(host, port)


@app.command("import")
def import_files(
    files: list[Path] = typer.Argument(
        ..., help="Saved messages (.eml, RFC 5322); '-' reads one message from standard input."
    ),
) -> None:
    """Import saved e-mails once, as if they had just arrived (a re-run changes nothing).

    With '-' it reads one message from standard input, so a mail server can deliver into it
    (a Postfix alias such as  service: "|manyi mail import -"); a database error then exits
    with 75 (temporary failure) and the server retries.

    Example: manyi mail import exported/*.eml
    """
    setup_django()
    from manyi.desk.channels.inbound import Outcome, receive_message

    failed = 0
    for path in files:
        name = "stdin" if str(path) == "-" else str(path)
        try:
            raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
            result = receive_message(raw)
        except OSError as exc:
            err.print(f"{name}: {exc}", style="red", markup=False)
            failed += 1
            continue
        except Exception as exc:
            err.print(f"{name}: could not be stored: {exc}", style="red", markup=False)
            if str(path) == "-":
                raise typer.Exit(EX_TEMPFAIL) from exc
            failed += 1
            continue
        where = f" case #{result.case_id}" if result.case_id else ""
        detail = f" ({result.detail})" if result.detail else ""
        # One line per file, never wrapped or styled: callers grep it.
        console.print(
            f"{name}: {result.outcome}{where}{detail}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
        if result.outcome == Outcome.REJECTED:
            failed += 1
    if failed:
        raise typer.Exit(1)


@app.command("poll")
def poll(
    imap: str = typer.Option(
        ...,
        "--imap",
        envvar="MANYI_IMAP_URL",
        help="imaps://user:password@host/INBOX (percent-encode '@' in the user as %40). "
        "Prefer the MANYI_IMAP_URL variable: a password on the command line shows in ps.",
    ),
    interval: float = typer.Option(60.0, "--interval", help="Seconds between rounds."),
    once: bool = typer.Option(False, "--once", help="Poll once and stop."),
) -> None:
    """Poll an IMAP mailbox: UNSEEN messages are processed, then marked \\Seen.

    Example: MANYI_IMAP_URL='imaps://service%40shop.example:PASSWORD@imap.exmail.qq.com/INBOX'
    manyi mail poll --interval 60
    """
    setup_django()
    _log_to_console()
    from manyi.desk.channels.imap_poll import (
        PollReport,
        outcome_counts,
        parse_imap_url,
        poll_forever,
    )

    try:
        url = parse_imap_url(imap)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    def show(report: PollReport) -> None:
        counts = outcome_counts(report)
        console.log(", ".join(f"{n} {k}" for k, n in counts.items()) or "no new mail")

    try:
        poll_forever(url, interval=interval, once=once, on_round=show)
    except KeyboardInterrupt:
        return
    except Exception as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
