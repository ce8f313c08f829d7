"""``cityops audit verify|anchor``: check the audit log's hash chains, witness their heads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cityops.cli_support import console, load_settings

audit_app = typer.Typer(
    help="The audit log: verify its chains, anchor their heads.", no_args_is_help=True
)

AnchorsFile = Annotated[
    Path | None,
    typer.Option(
        "--anchors",
        dir_okay=False,
        help="Exported anchors (JSON lines, from `audit anchor --export`) to check against too",
    ),
]


@audit_app.command("verify")
def verify_cmd(
    anchors: AnchorsFile = None,
    municipality: Annotated[
        list[str] | None, typer.Option("--municipality", "-m", help="Only these chains")
    ] = None,
) -> None:
    """Check every chain against its hashes, head and anchors; exit 1 naming each problem."""
    from cityops.services import audit
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    outside = []
    if anchors is not None:
        try:
            outside = audit.load_anchors(anchors)
        except (OSError, ValueError) as err:
            console.print(f"[red]cannot read the anchors:[/red] {err}", soft_wrap=True)
            raise typer.Exit(2) from None
    db = make_engine(settings.db_url)
    try:
        with db.connect() as conn:
            reports = audit.verify(conn, extra_anchors=outside, chains=municipality or ())
    finally:
        db.dispose()
    bad = 0
    for report in reports:
        name = report.chain or "(installation)"
        span = f"seq {report.first_seq}..{report.last_seq}" if report.records else "empty"
        if report.ok:
            console.print(f"[green]ok[/green] {name}: {report.records} records ({span})")
            continue
        bad += len(report.problems)
        console.print(f"[red]TAMPERED[/red] {name}: {report.records} records ({span})")
        for problem in report.problems:
            console.print("  " + problem.describe(), markup=False, highlight=False, soft_wrap=True)
    if not reports:
        console.print("the audit log is empty")
    if bad:
        console.print(f"[red]{bad} problem(s) found[/red]")
        raise typer.Exit(1)


@audit_app.command("anchor")
def anchor_cmd(
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            dir_okay=False,
            help="Append every stored anchor not yet in this file (keep it outside the database)",
        ),
    ] = None,
) -> None:
    """Record every chain's head (seq, hash, time) as an anchor, and optionally export them."""
    from cityops.services import audit
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    try:
        with db.begin() as conn:
            made = audit.anchor(conn, source="cli")
        for a in made:
            console.print(f"anchored {a.chain or '(installation)'} at seq {a.seq}: {a.hash}")
        if not made:
            console.print("nothing to anchor: the audit log is empty")
        if export is not None:
            with db.connect() as conn:
                added = audit.export_anchors(conn, export)
            console.print(f"{added} anchor(s) appended to {export}")
    finally:
        db.dispose()
