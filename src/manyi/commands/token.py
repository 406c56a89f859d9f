"""``manyi token``: personal API tokens for the REST API (``/api/``)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from manyi.commands.django_setup import setup_django

app = typer.Typer(
    help=(
        "API tokens for the REST API: create one per user and system, list, revoke.\n\n"
        "Example: manyi token create --user ana --name shop-sync --days 90"
    ),
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", "-u", help="Username the token acts as."),
    name: str = typer.Option(..., "--name", "-n", help="What uses the token (for the list)."),
    days: int | None = typer.Option(
        None, "--days", "-d", min=1, help="Expire after this many days (default: never)."
    ),
) -> None:
    """Create a token and print it once; only its digest is stored.

    The token acts as the user: the same role and team rules apply as on the pages.

    Example: manyi token create --user ana --name shop-sync --days 90
    """
    setup_django()
    from django.contrib.auth import get_user_model

    from manyi.desk.accounts.tokens import TokenError, create_api_token

    account = get_user_model().objects.filter(username=user).first()
    if account is None:
        err.print(f"[red]No user {user!r}.[/red]")
        raise typer.Exit(1)
    try:
        token, row = create_api_token(account, name, expires_in_days=days)
    except TokenError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    expires = f"expires {row.expires_at:%Y-%m-%d %H:%M %Z}" if row.expires_at else "never expires"
    err.print(f"Token {row.prefix}… for {user} ({name}), {expires}. It is shown only this once:")
    # The token alone on stdout, so that `manyi token create ... > file` keeps just the token.
    typer.echo(token)


@app.command("revoke")
def revoke(
    prefix: str = typer.Option(..., "--prefix", "-p", help="The prefix shown by `token list`."),
) -> None:
    """Revoke a token at once; requests with it are refused from then on.

    Example: manyi token revoke --prefix mny_AbCd1234
    """
    setup_django()
    from manyi.desk.accounts.tokens import TokenError, revoke_api_token

    try:
        row = revoke_api_token(prefix.rstrip("…").strip())
    except TokenError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Revoked {row.prefix}… ({row.name}) of {row.user.get_username()}.")


@app.command("list")
def list_tokens(
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user's tokens."),
) -> None:
    """List tokens (prefix, user, name, dates and state); tokens themselves are never shown.

    Example: manyi token list --user ana
    """
    setup_django()
    from django.contrib.auth import get_user_model

    from manyi.desk.accounts.tokens import list_api_tokens, token_state

    account = None
    if user is not None:
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            err.print(f"[red]No user {user!r}.[/red]")
            raise typer.Exit(1)
    table = Table(title="API tokens")
    table.add_column("prefix", no_wrap=True)
    for column in ("user", "name", "created", "expires", "last used", "state"):
        table.add_column(column)

    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "—"

    for row in list_api_tokens(account):
        table.add_row(
            f"{row.prefix}…",
            row.user.get_username(),
            row.name,
            when(row.created_at),
            when(row.expires_at),
            when(row.last_used_at),
            token_state(row),
        )
    console.print(table)
