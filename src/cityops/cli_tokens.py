"""``cityops tokens create|list|revoke``: API tokens for ``Authorization: Bearer``
(docs/SECURITY.md, "Accounts"). A token is printed once, when it is made; the database keeps
only its SHA-256."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from cityops.cli_support import console
from cityops.cli_users import cli_actor, find_user, open_db

tokens_app = typer.Typer(help="API tokens (Authorization: Bearer).", no_args_is_help=True)


@tokens_app.command("create")
def tokens_create(
    username: str, name: Annotated[str, typer.Option(help="what the token is for")] = "api"
) -> None:
    """Make an API token for the account and print it (only now: it is not stored)."""
    from cityops.services import tokens

    db = open_db()
    try:
        with db.begin() as conn:
            user = find_user(conn, username)
            token_id, token = tokens.create_token(
                conn, user.id, name, actor=cli_actor(), now=datetime.now(UTC)
            )
    finally:
        db.dispose()
    console.print(f"token {token_id} for {username} (shown once; send as Authorization: Bearer):")
    typer.echo(token)


@tokens_app.command("list")
def tokens_list(username: str) -> None:
    """The account's tokens (never the tokens themselves)."""
    from cityops.store import access_repo

    db = open_db()
    table = Table(title=f"tokens of {username}")
    for column in ("id", "name", "created", "last used", "revoked"):
        table.add_column(column)
    try:
        with db.connect() as conn:
            for t in access_repo.tokens_of(conn, find_user(conn, username).id):
                used = t.last_used_at.isoformat() if t.last_used_at else "-"
                revoked = t.revoked_at.isoformat() if t.revoked_at else ""
                table.add_row(str(t.id), t.name, t.created_at.isoformat(), used, revoked)
    finally:
        db.dispose()
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    from cityops.services import tokens

    db = open_db()
    try:
        with db.begin() as conn:
            done = tokens.revoke_token(conn, token_id, actor=cli_actor(), now=datetime.now(UTC))
    finally:
        db.dispose()
    if not done:
        console.print(f"[yellow]no live token {token_id}[/yellow]")
        raise typer.Exit(1)
    console.print(f"[green]token {token_id} revoked[/green]")
