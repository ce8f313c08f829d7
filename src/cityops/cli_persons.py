"""``cityops persons add|list|remove``: the registry of vulnerable people from the command line
(docs/AGENCIES.md "SOS of vulnerable people"), audited like the API (actor ``cli:<user>``)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cityops.cli_support import console, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cityops.domain.entities import LonLat
    from cityops.services.runtime import MunicipalityRuntime

persons_app = typer.Typer(help="Vulnerable people registered for SOS.", no_args_is_help=True)

Municipality = Annotated[str, typer.Option("--municipality", "-m", help="its municipality")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _engine() -> Engine:
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    return make_engine(settings.db_url)


def _runtime(db: Engine, municipality: str) -> MunicipalityRuntime:
    from cityops.app import load_runtimes

    rt = load_runtimes(db).get(municipality)
    if rt is None:
        console.print(f"[red]no configuration for {municipality!r}[/red] (cityops import first)")
        raise typer.Exit(2)
    return rt


def parse_area(text: str) -> tuple[LonLat, ...]:
    """``lon,lat;lon,lat;...`` -> the corners (typer.BadParameter when it is not that)."""
    from cityops.domain.entities import LonLat

    corners = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        try:
            lon, lat = (float(x) for x in part.split(","))
            corners.append(LonLat(lon, lat))
        except ValueError:
            raise typer.BadParameter(f"{part!r} is not lon,lat") from None
    return tuple(corners)


@persons_app.command("add")
def add(
    municipality: Municipality,
    name: Annotated[str, typer.Option(help="the person's name")],
    device: Annotated[str, typer.Option(help="the device id it reports as")],
    guardian: Annotated[str, typer.Option(help="the guardian's name")],
    phone: Annotated[str, typer.Option(help="the guardian's phone")],
    kind: Annotated[str, typer.Option(help="child, dementia or other")] = "child",
    area: Annotated[
        str, typer.Option(help="the safe area: 'lon,lat;lon,lat;lon,lat;...' (none: SOS only)")
    ] = "",
    notes: Annotated[str, typer.Option(help="what helps find the person")] = "",
    photo: Annotated[Path | None, typer.Option(help="a JPEG or PNG photo", exists=True)] = None,
) -> None:
    """Register a person (with the guardian's consent: docs/PRIVACY.md)."""
    from cityops.domain.persons import Person, PersonError, PersonKind
    from cityops.services import persons

    try:
        kind_ = PersonKind(kind)
    except ValueError:
        raise typer.BadParameter("--kind must be child, dementia or other") from None
    person = Person(municipality, kind_, name, guardian, phone, device, parse_area(area), notes)
    db = _engine()
    try:
        rt = _runtime(db, municipality)
        now = datetime.now(UTC)
        with db.begin() as conn:
            made = persons.register(conn, rt, person, actor=_actor(), now=now)
            if photo is not None:
                assert made.id is not None
                data_dir = load_settings().data_dir
                persons.set_photo(
                    conn,
                    rt,
                    made.id,
                    photo.read_bytes(),
                    actor=_actor(),
                    now=now,
                    data_dir=data_dir,
                )
    except PersonError as err:
        console.print(f"[red]refused:[/red] {err}")
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    console.print(f"registered person [bold]{made.id}[/bold] with device {made.device_id}")


@persons_app.command("list")
def list_cmd(municipality: Municipality) -> None:
    """The registered people (no guardian contact: the console shows it, audited)."""
    from cityops.store import persons_repo

    db = _engine()
    try:
        with db.connect() as conn:
            people = persons_repo.list_persons(conn, municipality)
    finally:
        db.dispose()
    table = Table("id", "kind", "name", "device", "safe area", "photo")
    for p in people:
        corners = f"{len(p.safe_area)} corners" if p.safe_area else "none"
        table.add_row(
            str(p.id), p.kind.value, p.name, p.device_id, corners, "yes" if p.photo else ""
        )
    console.print(table)


@persons_app.command("remove")
def remove(
    municipality: Municipality,
    person_id: Annotated[int, typer.Argument(help="the person's number (persons list)")],
) -> None:
    """Remove a person, the track and the photo."""
    from cityops.services import persons

    db = _engine()
    try:
        rt = _runtime(db, municipality)
        with db.begin() as conn:
            persons.remove(
                conn,
                rt,
                person_id,
                actor=_actor(),
                now=datetime.now(UTC),
                data_dir=load_settings().data_dir,
            )
    except persons.NotFoundError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    console.print(f"removed person {person_id}")
