"""The ``cityops`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cityops.cli_support import console, load_settings, serve

app = typer.Typer(
    help="CityOps: an open integrated control center for municipalities.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    from cityops.store.db import upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    console.print(f"[green]database is up to date[/green]: {settings.db_url}")


@app.command("import-config")
def import_config_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Validate a municipality's YAML configuration and make it the active one."""
    import getpass

    from cityops.app import import_config
    from cityops.config.errors import ConfigError
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    try:
        rt = import_config(db, file, actor=f"cli:{getpass.getuser()}")
    except ConfigError as err:
        console.print(f"[red]configuration rejected[/red] ({len(err.issues)} problems):")
        console.print(str(err), markup=False, highlight=False)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    c = rt.config
    table = Table(title=f"{c.municipality.name} ({c.municipality.id}) imported")
    table.add_column("section")
    table.add_column("count", justify="right")
    for name, items in (
        ("agencies", c.agencies),
        ("key objects", c.key_objects),
        ("cameras", c.cameras),
        ("sensors", c.sensors),
        ("rules", c.rules),
        ("procedures", c.sops),
    ):
        table.add_row(name, str(len(items)))
    console.print(table)
    console.print("a running `cityops serve` applies it within a few seconds")


@app.command("import-osm")
def import_osm_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    municipality: Annotated[str, typer.Option("--municipality", "-m")] = "kazanlak",
    bbox: Annotated[
        str | None, typer.Option(help="minlon,minlat,maxlon,maxlat (default: the file's box)")
    ] = None,
) -> None:
    """Import an OpenStreetMap extract (.osm, .osm.bz2, .osm.pbf) as the offline base map."""
    from datetime import UTC, datetime

    from cityops.mapdata.osm import OsmImportError, load_osm
    from cityops.store.basemap_repo import save_basemap
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    box = None
    if bbox:
        try:
            a, b, c, d = (float(x) for x in bbox.split(","))
        except ValueError:
            raise typer.BadParameter("--bbox takes minlon,minlat,maxlon,maxlat") from None
        box = (a, b, c, d)
    with console.status(f"reading {file.name}"):
        try:
            base = load_osm(file, box)
        except OsmImportError as err:
            console.print(f"[red]import failed:[/red] {err}")
            raise typer.Exit(2) from None
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    payload = base.to_dict()
    with db.begin() as conn:
        save_basemap(
            conn,
            municipality,
            layers=dict(payload["layers"]),
            bounds=payload["bounds"],
            source_name=file.name,
            now=datetime.now(UTC),
        )
    db.dispose()
    table = Table(title=f"base map of {municipality} from {file.name}")
    table.add_column("layer")
    table.add_column("features", justify="right")
    for name, n in base.stats.items():
        table.add_row(name, str(n))
    console.print(table)


@app.command("serve")
def serve_cmd() -> None:
    """Run the control center: ingest, rules, incidents, API and console."""
    serve(load_settings())


@app.command("video-worker")
def video_worker_cmd(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            exists=True, dir_okay=False, help="municipality YAML files (default: the demo town)"
        ),
    ] = None,
    worker_id: Annotated[
        str | None, typer.Option("--id", help="id on the presence topic (default host-pid)")
    ] = None,
    keepalive: Annotated[
        int | None,
        typer.Option(
            min=2, help="MQTT keep-alive, s: a vanished worker's cameras move after 1.5x this + 6 s"
        ),
    ] = None,
    hold_s: Annotated[
        float | None, typer.Option(help="report camera health problems after this many s")
    ] = None,
) -> None:
    """Analyse the cameras' streams and publish events, counts and camera health over MQTT,
    sharing the cameras with the other live workers (never touches the database)."""
    import signal
    import threading

    from cityops.app import video_worker
    from cityops.config.errors import ConfigError
    from cityops.config.loader import load_config
    from cityops.data import DEMO_CONFIG
    from cityops.mqtt_url import redacted

    settings = load_settings()
    settings.video_worker_id = worker_id or settings.video_worker_id
    settings.video_keepalive_s = keepalive or settings.video_keepalive_s
    try:
        configs = [load_config(f) for f in files or [DEMO_CONFIG]]
    except ConfigError as err:
        console.print("[red]configuration rejected[/red]:")
        console.print(str(err), markup=False, highlight=False)
        raise typer.Exit(2) from None
    worker = video_worker(settings, configs, tamper_hold_s=hold_s)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    console.print(
        f"video worker [bold]{worker.worker_id}[/bold] on "
        f"{redacted(settings.video_mqtt_url or settings.broker_url)}: "
        f"{len(worker.jobs)} cameras to share; takeover of a dead worker's within "
        f"{worker.takeover_s:.0f} s"
    )
    if worker.evidence is not None:  # shared with the server when it runs on another host
        console.print(f"evidence (snapshots, clips) into {worker.evidence.root}", highlight=False)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()


def _register_ingest_command() -> None:
    from cityops import cli_ingest

    app.command("ingest")(cli_ingest.ingest_cmd)


_register_ingest_command()


def _register_device_commands() -> None:
    from cityops import cli_devices

    app.add_typer(cli_devices.devices_app, name="devices")
    app.add_typer(cli_devices.mqtt_app, name="mqtt")


_register_device_commands()


def _register_audit_commands() -> None:
    from cityops import cli_audit, cli_privacy

    app.add_typer(cli_audit.audit_app, name="audit")
    app.add_typer(cli_privacy.privacy_app, name="privacy")
    app.add_typer(cli_privacy.retention_app, name="retention")


_register_audit_commands()


def _register_user_commands() -> None:
    from cityops import cli_tokens, cli_users

    app.add_typer(cli_users.users_app, name="users")
    app.add_typer(cli_tokens.tokens_app, name="tokens")


_register_user_commands()


def _register_town_commands() -> None:
    from cityops import cli_sim

    app.command("simulate")(cli_sim.simulate)
    app.command("replay")(cli_sim.replay)
    app.command("demo")(cli_sim.demo)


_register_town_commands()


def _register_planner_commands() -> None:
    from cityops import cli_plan

    app.add_typer(cli_plan.plan_app, name="plan")


_register_planner_commands()


def _register_cap_commands() -> None:
    from cityops import cli_cap

    app.add_typer(cli_cap.cap_app, name="cap")


_register_cap_commands()


def _register_persons_commands() -> None:
    from cityops import cli_persons

    app.add_typer(cli_persons.persons_app, name="persons")


_register_persons_commands()

if __name__ == "__main__":  # pragma: no cover
    app()
