"""``cityops privacy find|erase`` (data-subject requests, docs/PRIVACY.md) and
``cityops retention run``."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from cityops.cli_support import console, load_settings
from cityops.domain.evidence import EvidenceRecord
from cityops.services.privacy import Request

privacy_app = typer.Typer(
    help="Data-subject requests: find and erase a person's recorded images.",
    no_args_is_help=True,
)
retention_app = typer.Typer(help="Retention: remove what is past its age.", no_args_is_help=True)


def _time(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise typer.BadParameter(f"{value!r} needs a zone (e.g. 2026-11-20T10:00:00+02:00)")
    return at.astimezone(UTC)


Municipality = Annotated[str, typer.Option("--municipality", "-m", help="The municipality")]
Camera = Annotated[str | None, typer.Option("--camera", "-c", help="One camera (default: all)")]
Since = Annotated[datetime, typer.Option(parser=_time, help="From (ISO 8601 with a zone)")]
Until = Annotated[datetime, typer.Option(parser=_time, help="Until (ISO 8601 with a zone)")]
Operator = Annotated[
    str | None, typer.Option("--operator", help="Who handles the request (default: cli:<login>)")
]
Reference = Annotated[
    str | None, typer.Option("--request", help="The request's reference (its file number)")
]


def _request(
    municipality: str,
    camera: str | None,
    since: datetime,
    until: datetime,
    operator: str | None,
    reference: str | None,
) -> Request:
    if until < since:
        raise typer.BadParameter("--until is before --since")
    actor = operator or f"cli:{getpass.getuser()}"
    return Request(municipality, camera, since, until, actor, reference)


def _show(records: Sequence[EvidenceRecord], title: str) -> None:
    table = Table(title=title)
    for column in ("event", "camera", "kind", "time (UTC)", "snapshot", "clip"):
        table.add_column(column, overflow="fold")
    for r in records:
        when = f"{r.ts:%Y-%m-%d %H:%M:%S}"
        table.add_row(r.event_id, r.camera_id, r.kind, when, r.snapshot or "", r.clip or "")
    console.print(table)


@privacy_app.command("find")
def find_cmd(
    municipality: Municipality,
    since: Since,
    until: Until,
    camera: Camera = None,
    operator: Operator = None,
    request: Reference = None,
) -> None:
    """List the recorded snapshots and clips that may show a person there and then (audited)."""
    from cityops.services import privacy
    from cityops.store.db import make_engine, upgrade

    req = _request(municipality, camera, since, until, operator, request)
    settings = load_settings()
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    try:
        with db.begin() as conn:
            found = privacy.find(conn, req)
    finally:
        db.dispose()
    _show(found, f"{len(found)} recorded event(s) with images in {municipality}")


@privacy_app.command("erase")
def erase_cmd(
    municipality: Municipality,
    since: Since,
    until: Until,
    reason: Annotated[str, typer.Option(help="Why (the legal ground of the erasure)")],
    request: Annotated[str, typer.Option("--request", help="The request's reference")],
    camera: Camera = None,
    operator: Operator = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete those snapshots and clips, files and records (audited, with reason and request)."""
    from cityops.services import evidence, privacy
    from cityops.store.db import make_engine, upgrade

    req = _request(municipality, camera, since, until, operator, request)
    settings = load_settings()
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    try:
        with db.connect() as conn:
            pending = evidence.find(conn, municipality, camera, req.since, req.until)
        _show(pending, f"{len(pending)} recorded event(s) with images to erase")
        if not yes and not typer.confirm("erase these for good?"):
            raise typer.Exit(1)
        with db.begin() as conn:
            erased = privacy.erase(conn, settings.evidence_root, req, reason)
    finally:
        db.dispose()
    console.print(f"[green]erased[/green] the images of {len(erased)} event(s); audited")


@retention_app.command("run")
def retention_run_cmd(
    municipality: Annotated[
        list[str] | None, typer.Option("--municipality", "-m", help="Only these")
    ] = None,
) -> None:
    """Run retention now for every municipality (or the given ones), as the server's job does."""
    from cityops.app import load_runtimes
    from cityops.domain.retention import RetentionPolicy
    from cityops.services import retention
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    store = retention.EvidenceStore(settings.evidence_root, settings.evidence_retention_days)
    try:
        runtimes = load_runtimes(db)
        unknown = sorted(set(municipality or ()) - set(runtimes))
        if unknown:
            console.print(f"[red]unknown municipality:[/red] {', '.join(unknown)}")
            raise typer.Exit(2)
        for mid, rt in sorted(runtimes.items()):
            if municipality and mid not in municipality:
                continue
            policy = rt.config.retention or RetentionPolicy()
            run = retention.run(db, mid, policy, store, actor=f"cli:{getpass.getuser()}")
            removed = ", ".join(f"{k} {v}" for k, v in sorted(run.removed.items())) or "nothing"
            state = "[green]ok[/green]" if run.ok else f"[red]failed[/red] {run.error}"
            console.print(f"{mid}: {state}; removed: {removed}", soft_wrap=True)
    finally:
        db.dispose()
