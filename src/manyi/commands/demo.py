"""``manyi demo``, ``manyi serve`` and ``manyi manage``: run the desk."""

from __future__ import annotations

import secrets
import sys

import typer
from rich.console import Console
from rich.table import Table

from manyi.commands.django_setup import setup_django

console = Console()


def demo(
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Prepare the database and the accounts, then stop."
    ),
    port: int = typer.Option(8000, "--port", "-p", help="Port to serve on (127.0.0.1 only)."),
) -> None:
    """Prepare a demo shop with real data and serve it on 127.0.0.1.

    Migrates the database (``MANYI_DATABASE_URL``, by default an SQLite file under ``var/``),
    imports the bundled sample of 3,000 real Olist orders (a re-run changes nothing), creates an
    admin, an agent and an analyst with fresh passwords, opens after-sales cases from the
    sample's real 1–2★ reviews (worked to a mix of states), prints the accounts, and serves the
    desk.

    Example: manyi demo --port 8000
    """
    setup_django()
    from django.core.management import call_command
    from django.utils import timezone

    from manyi.commands.imports import run_import
    from manyi.data.samples import sample_path
    from manyi.desk.accounts.roles import Role
    from manyi.desk.accounts.services import create_staff_user, ensure_team
    from manyi.desk.cases.demo import seed_demo_cases

    with console.status("Migrating the database…"):
        call_command("migrate", interactive=False, verbosity=0)
    run_import("olist", sample_path("olist"), label="bundled Olist sample (3,000 orders)")
    ensure_team("returns", "退货退款组 Returns")
    ensure_team("service", "客服组 Service")
    accounts = [
        create_staff_user("admin", _password(), role=Role.MANAGER, superuser=True),
        create_staff_user("agent", _password(), role=Role.AGENT, teams=("returns", "service")),
        create_staff_user("analyst", _password(), role=Role.ANALYST),
    ]
    with console.status("Opening demo cases from the sample's bad reviews…"):
        cases = seed_demo_cases(timezone.now())
    console.print(f"Demo cases: {cases.opened} opened ({cases.skipped} reviews skipped)")
    url = f"http://127.0.0.1:{port}/"
    table = Table(title="Demo accounts", show_lines=False)
    table.add_column("role")
    table.add_column("username")
    table.add_column("password")
    for account in accounts:
        table.add_row(account.role, account.username, account.password)
    console.print(table)
    console.print(f"Open [bold]{url}[/bold] and log in; the admin is at {url}admin/")
    if no_serve:
        return
    _runserver("127.0.0.1", port)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", "-p", help="Port to listen on."),
) -> None:
    """Serve the desk (run ``manyi manage migrate`` first on a new database).

    The embedded server is fine for one shop's team. In production, behind a TLS proxy, use a
    WSGI server on ``manyi.desk.config.wsgi`` with the settings
    ``manyi.desk.config.production``.

    Example: manyi serve --port 8000
    """
    setup_django()
    _runserver(host, port)


def manage(ctx: typer.Context) -> None:
    """Run a Django management command against the desk's settings.

    Example: manyi manage createsuperuser
    """
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manyi manage", *ctx.args])


def _runserver(host: str, port: int) -> None:
    from django.core.management import call_command

    # Static files are served by WhiteNoise straight from the package, with debug off.
    console.print(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
    sys.stdout.flush()
    call_command("runserver", f"{host}:{port}", use_reloader=False, use_threading=True)


def _password() -> str:
    return secrets.token_urlsafe(12)
