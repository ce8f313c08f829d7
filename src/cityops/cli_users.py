"""``cityops users create|list|grant|revoke|password|disable``: accounts and their roles per
municipality (docs/SECURITY.md, "Accounts"); API tokens are cli_tokens.py's.

Nothing here has a default password: a password is typed at a hidden prompt (twice) or read
from ``--password-file``; an account may also have none (API tokens or single sign-on only)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cityops.cli_support import console, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from cityops.store.access_repo import UserRow


def demo_account(db: Engine, municipality: str) -> tuple[str, str]:
    """The ``demo`` account, admin of ``municipality``, with a new random password each time
    (``cityops demo`` prints it once): (username, password)."""
    import secrets

    from cityops.domain.access import Membership, Role
    from cityops.services import accounts
    from cityops.store import access_repo

    password = secrets.token_urlsafe(12)
    now = datetime.now(UTC)
    with db.begin() as conn:
        user = access_repo.user_by_name(conn, "demo")
        if user is None:
            user_id = accounts.create_user(
                conn,
                username="demo",
                display_name="Demo Operator",
                password=password,
                installation_admin=True,
                now=now,
                created_by="cityops demo",
            )
        else:
            user_id = user.id
            accounts.set_password(conn, user_id, password)
        admin = Membership(municipality, Role.ADMIN, None, None, False)
        accounts.grant(conn, user_id, admin, granted_by="cityops demo", now=now)
    return "demo", password


users_app = typer.Typer(help="Accounts and their roles per municipality.", no_args_is_help=True)

ROLES = "admin, supervisor, operator, liaison, analyst, auditor"


def cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def open_db() -> Engine:
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    return make_engine(settings.db_url)


def find_user(conn: Connection, username: str) -> UserRow:
    from cityops.store import access_repo

    user = access_repo.user_by_name(conn, username)
    if user is None:
        console.print(f"[red]no account {username!r}[/red] (cityops users create)")
        raise typer.Exit(1)
    return user


def _password(password_file: Path | None) -> str:
    """The new password: the file's first line, else typed twice at a hidden prompt."""
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        console.print(f"[red]not an ISO 8601 time: {text!r}[/red]")
        raise typer.Exit(2) from None
    if when.tzinfo is None:
        console.print("[red]a time needs its zone, e.g. 2026-12-31T18:00:00+02:00[/red]")
        raise typer.Exit(2)
    return when.astimezone(UTC)


Municipality = Annotated[str | None, typer.Option(help="grant a role in this municipality")]
RoleOpt = Annotated[str | None, typer.Option(help=ROLES)]
Agency = Annotated[str | None, typer.Option(help="a liaison's agency (required for liaison)")]
Expires = Annotated[str | None, typer.Option(help="end of the membership, ISO 8601 with zone")]
Unmasked = Annotated[bool, typer.Option(help="may see video without privacy masks")]
PasswordFile = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, readable=True, help="first line: the password"),
]


def _grant(
    conn: Connection,
    user: UserRow,
    municipality: str,
    role: str,
    agency: str | None,
    expires: str | None,
    unmasked_video: bool,
) -> None:
    from cityops.domain.access import Membership, Role
    from cityops.services import accounts

    try:
        membership = Membership(municipality, Role(role), agency, _when(expires), unmasked_video)
    except ValueError:
        console.print(f"[red]unknown role {role!r}[/red] ({ROLES})")
        raise typer.Exit(2) from None
    try:
        accounts.grant(conn, user.id, membership, granted_by=cli_actor(), now=datetime.now(UTC))
    except accounts.AccountError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None


@users_app.command("create")
def users_create(
    username: str,
    display_name: Annotated[str, typer.Option(help="the name shown in timelines")],
    installation_admin: Annotated[
        bool, typer.Option(help="may read installation-wide metrics and dead letters")
    ] = False,
    municipality: Municipality = None,
    role: RoleOpt = None,
    agency: Agency = None,
    expires: Expires = None,
    unmasked_video: Unmasked = False,
    password_file: PasswordFile = None,
    no_password: Annotated[
        bool, typer.Option(help="no password login (API tokens or single sign-on only)")
    ] = False,
) -> None:
    """Create an account (the first admin: --municipality M --role admin)."""
    from cityops.services import accounts

    if (municipality is None) != (role is None):
        console.print("[red]--municipality and --role go together[/red]")
        raise typer.Exit(2)
    password = None if no_password else _password(password_file)
    db = open_db()
    try:
        with db.begin() as conn:
            try:
                user_id = accounts.create_user(
                    conn,
                    username=username,
                    display_name=display_name,
                    password=password,
                    installation_admin=installation_admin,
                    now=datetime.now(UTC),
                    created_by=cli_actor(),
                )
            except accounts.AccountError as err:
                console.print(f"[red]{err}[/red]")
                raise typer.Exit(2) from None
            if municipality is not None and role is not None:
                user = find_user(conn, username)
                _grant(conn, user, municipality, role, agency, expires, unmasked_video)
    finally:
        db.dispose()
    where = f", {role} of {municipality}" if municipality else ""
    console.print(f"[green]account {username} created[/green] (id {user_id}{where})")


@users_app.command("list")
def users_list() -> None:
    """Every account with its memberships."""
    from cityops.store import access_repo

    db = open_db()
    table = Table(title="accounts")
    for column in ("username", "name", "installation admin", "memberships", "login"):
        table.add_column(column)
    now = datetime.now(UTC)
    try:
        with db.connect() as conn:
            for user in access_repo.list_users(conn):
                ms = access_repo.memberships_of(conn, user.id).values()
                roles = ", ".join(
                    f"{m.municipality}:{m.role}"
                    + (f"({m.agency})" if m.agency else "")
                    + ("+unmasked" if m.unmasked_video else "")
                    + ("" if m.active(now) else " [expired]")
                    for m in ms
                )
                login = "disabled" if user.disabled else "password" if user.password_hash else "-"
                admin = "yes" if user.installation_admin else ""
                table.add_row(user.username, user.display_name, admin, roles, login)
    finally:
        db.dispose()
    console.print(table)


@users_app.command("grant")
def users_grant(
    username: str,
    municipality: str,
    role: Annotated[str, typer.Argument(help=ROLES)],
    agency: Agency = None,
    expires: Expires = None,
    unmasked_video: Unmasked = False,
) -> None:
    """Give an account a role in a municipality (or change it)."""
    db = open_db()
    try:
        with db.begin() as conn:
            _grant(
                conn, find_user(conn, username), municipality, role, agency, expires, unmasked_video
            )
    finally:
        db.dispose()
    console.print(f"[green]{username} is {role} of {municipality}[/green]")


@users_app.command("revoke")
def users_revoke(username: str, municipality: str) -> None:
    """Take an account's role in a municipality away."""
    from cityops.services import accounts

    db = open_db()
    try:
        with db.begin() as conn:
            user = find_user(conn, username)
            done = accounts.revoke(
                conn, user.id, municipality, revoked_by=cli_actor(), now=datetime.now(UTC)
            )
    finally:
        db.dispose()
    if not done:
        console.print(f"[yellow]{username} had no role in {municipality}[/yellow]")
        raise typer.Exit(1)
    console.print(f"[green]{username} has no role in {municipality} any more[/green]")


@users_app.command("password")
def users_password(username: str, password_file: PasswordFile = None) -> None:
    """Set an account's password (its console sessions end)."""
    from cityops.services import accounts

    password = _password(password_file)
    db = open_db()
    try:
        with db.begin() as conn:
            try:
                accounts.set_password(conn, find_user(conn, username).id, password)
            except accounts.AccountError as err:
                console.print(f"[red]{err}[/red]")
                raise typer.Exit(2) from None
    finally:
        db.dispose()
    console.print(f"[green]password of {username} changed[/green]")


@users_app.command("disable")
def users_disable(
    username: str,
    enable: Annotated[bool, typer.Option("--enable", help="enable it again instead")] = False,
) -> None:
    """Disable an account at once (its sessions end, its tokens stop working), or --enable it."""
    from cityops.services import accounts

    db = open_db()
    try:
        with db.begin() as conn:
            user = find_user(conn, username)
            accounts.set_disabled(
                conn, user.id, not enable, actor=cli_actor(), now=datetime.now(UTC)
            )
    finally:
        db.dispose()
    console.print(f"[green]{username} {'enabled' if enable else 'disabled'}[/green]")
