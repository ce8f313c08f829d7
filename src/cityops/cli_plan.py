"""``cityops plan``: where new cameras cover the most for a budget (docs/PLANNER.md "Command"),
and ``cityops plan mclp``: a classic covering instance solved and printed as JSON."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cityops.cli_support import console, load_settings
from cityops.planner.catalogs import load_sites
from cityops.planner.plan import PlanInputs, PlanResult, run_plan
from cityops.planner.report import write_outputs
from cityops.planner.report_text import TEXT
from cityops.planner.yamldoc import PlannerInputError

plan_app = typer.Typer(
    help="Camera network planner: which new sites and headings cover the most, for a budget.",
    invoke_without_command=True,
)
STEPS = 7


class Language(StrEnum):
    EN = "en"
    BG = "bg"


def _file(text: str) -> typer.models.OptionInfo:
    option: typer.models.OptionInfo = typer.Option(dir_okay=False, help=text)
    return option


def _from_store(municipality: str, history_days: int) -> tuple[list, list]:  # type: ignore[type-arg]
    """The municipality's configured cameras and its incidents of the last ``history_days``."""
    from cityops.store import plans_repo
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    try:
        with db.connect() as conn:
            if not plans_repo.municipality_known(conn, municipality):
                raise PlannerInputError(
                    f"municipality {municipality!r} is not configured here (cityops import-config)"
                )
            since = datetime.now(UTC) - timedelta(days=history_days)
            return plans_repo.camera_views(conn, municipality), plans_repo.incident_places(
                conn, municipality, since
            )
    finally:
        db.dispose()


def _store(municipality: str, name: str, geo: dict) -> int:  # type: ignore[type-arg]
    from cityops.store import plans_repo
    from cityops.store.db import make_engine

    db = make_engine(load_settings().db_url)
    try:
        with db.begin() as conn:
            return plans_repo.save(
                conn,
                municipality,
                name=name,
                geojson=geo,
                created_by=f"cli:{getpass.getuser()}",
                now=datetime.now(UTC),
            )
    finally:
        db.dispose()


def _run(inputs: PlanInputs) -> PlanResult:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("planning", total=STEPS)
        done = [0]

        def step(name: str) -> None:
            if done[0]:
                progress.advance(task)
            done[0] += 1
            progress.update(task, description=name)

        result = run_plan(inputs, step)
        progress.update(task, completed=STEPS, description="done")
    return result


@plan_app.callback()
def plan_cmd(
    ctx: typer.Context,
    osm: Annotated[Path | None, _file("OpenStreetMap extract: .osm, .osm.bz2, .osm.pbf")] = None,
    budget: Annotated[float | None, typer.Option(help="money available")] = None,
    survey: Annotated[Path | None, _file("weights per category and sector (YAML)")] = None,
    models: Annotated[Path | None, _file("camera models: fov, range, cost, PTZ (YAML)")] = None,
    categories: Annotated[Path | None, _file("OSM tags -> key-object categories (YAML)")] = None,
    sites: Annotated[Path | None, _file("mounting sites to add: {id, lon, lat} (YAML)")] = None,
    municipality: Annotated[
        str | None,
        typer.Option(
            "--municipality", "-m", help="count its cameras and incidents; store the plan"
        ),
    ] = None,
    history_days: Annotated[int, typer.Option(min=1, help="incidents of these last days")] = 365,
    out: Annotated[Path, typer.Option(file_okay=False, help="output directory")] = Path("plan"),
    time_limit: Annotated[float, typer.Option(min=1.0, help="seconds per solve")] = 20.0,
    lang: Annotated[Language, typer.Option(help="language of the report")] = Language.EN,
) -> None:
    """Plan new cameras for an OpenStreetMap extract: writes OUT/plan.geojson and
    OUT/report.html (offline); with --municipality, its cameras and incident history count and
    the plan is stored for the console."""
    if ctx.invoked_subcommand is not None:
        return
    if osm is None or budget is None:
        console.print("[red]--osm FILE and --budget N are needed[/red] (or: cityops plan mclp)")
        raise typer.Exit(2)
    try:
        listed = load_sites(sites) if sites else ()
        existing, incidents = _from_store(municipality, history_days) if municipality else ([], [])
        inputs = PlanInputs(
            osm=osm,
            budget=budget,
            survey=survey,
            models=models,
            categories=categories,
            sites=listed,
            incidents=incidents,
            existing=existing,
            time_limit_s=time_limit,
        )
        result = _run(inputs)
        words = TEXT[lang.value]
        title = words["title"].format(place=municipality or osm.name, budget=f"{budget:,.0f}")
        geo = write_outputs(out, result, title, lang.value)
    except PlannerInputError as err:
        console.print(f"[red]plan refused:[/red] {err}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    s = geo["plan"]
    share = s["objective"] / s["total"] if s["total"] else 0.0
    console.print(
        f"{s['cameras']} cameras, cost {s['cost']:,.0f} of {s['budget']:,.0f}; coverage "
        f"{share:.1%}, gap to the proven bound {s['gap']:.2%} ({s['method']})"
    )
    console.print(f"written: {out / 'plan.geojson'}, {out / 'report.html'}")
    if municipality:
        plan_id = _store(municipality, title, geo)
        console.print(f"stored as plan {plan_id} of {municipality}")


@plan_app.command("mclp")
def mclp_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    radius: Annotated[float, typer.Option(help="covering distance")],
    sites: Annotated[int, typer.Option(min=1, help="number of facilities p")],
    exact: Annotated[bool, typer.Option(help="solve the MIP exactly (HiGHS)")] = False,
) -> None:
    """Solve a classic maximal covering instance (Swain, SJC) and print JSON: covered demand,
    proven upper bound, chosen sites."""
    from cityops.planner.mclp import run_mclp

    try:
        result = run_mclp(file, radius, sites, exact=exact)
    except (ValueError, PlannerInputError) as err:
        console.print(f"[red]instance refused:[/red] {err}", highlight=False)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result.to_json()))
