"""The ``cityops`` command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cityops.settings import Settings

app = typer.Typer(
    help="CityOps: an open integrated control center for municipalities.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return settings


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    from cityops.store.db import upgrade

    settings = _settings()
    upgrade(settings.db_url)
    console.print(f"[green]database is up to date[/green]: {settings.db_url}")


@app.command("import-config")
def import_config_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Validate a municipality's YAML configuration and make it the active one."""
    from cityops.app import import_config
    from cityops.config.errors import ConfigError
    from cityops.store.db import make_engine, upgrade

    settings = _settings()
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    try:
        rt = import_config(db, file)
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
    console.print("restart `cityops serve` to apply it")


@app.command()
def serve() -> None:
    """Run the control center: ingest, rules, incidents, API and console."""
    settings = _settings()
    _serve(settings)


def _serve(settings: Settings) -> None:
    import uvicorn

    from cityops.api.app import create_api
    from cityops.app import ControlCenter

    center = ControlCenter(settings)
    center.start()
    url = f"http://{settings.http_host}:{settings.http_port}/"
    console.print(f"[bold green]CityOps console:[/bold green] {url}")
    console.print(f"MQTT broker: {center.mqtt_url}   database: {settings.db_url}")
    try:
        uvicorn.run(
            create_api(center),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
        )
    finally:
        center.stop()


def _register_town_commands() -> None:
    from cityops import cli_sim

    app.command("simulate")(cli_sim.simulate)
    app.command("replay")(cli_sim.replay)
    app.command("demo")(cli_sim.demo)


_register_town_commands()

if __name__ == "__main__":  # pragma: no cover
    app()
