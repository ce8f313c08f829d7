"""``cityops devices create|list|revoke`` and ``cityops mqtt sync``: MQTT device credentials
(docs/MQTT.md, "Authentication and ACLs")."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cityops.cli_support import console, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from cityops.domain.catalog import MunicipalityConfig
    from cityops.services.partition_users import PartitionUser

devices_app = typer.Typer(help="MQTT credentials of devices and workers.", no_args_is_help=True)
mqtt_app = typer.Typer(help="The MQTT broker's side of the credentials.", no_args_is_help=True)

KINDS = "gateway, camera, system, worker, frigate, integration, ingest, agency, tracker"


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _engine() -> Engine:
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    return make_engine(settings.db_url)


def _configs(conn: Connection) -> dict[str, MunicipalityConfig]:
    from cityops.config.loader import load_config_text
    from cityops.store import catalog_repo

    return {
        stored.municipality: load_config_text(stored.yaml, f"<{stored.municipality}>")
        for stored in catalog_repo.latest_configs(conn)
    }


def _foreign_frigate(conn: Connection, municipality: str | None, prefix: str) -> str | None:
    """Another municipality whose configured Frigate prefix shares topics with ``prefix``."""
    from cityops.domain.devices import prefixes_overlap

    for other, config in _configs(conn).items():
        theirs = config.frigate.topic_prefix if config.frigate else None
        if other != municipality and theirs and prefixes_overlap(theirs, prefix):
            return other
    return None


def _checked_config(
    conn: Connection, municipality: str | None, devices: list[str], *, agencies: bool = False
) -> MunicipalityConfig | None:
    """The municipality's configuration; exits on a device it does not have (``agencies``: the
    devices are agency ids, of an agency system's credential)."""
    if municipality is None:
        return None
    config = _configs(conn).get(municipality)
    if config is None:
        console.print(f"[yellow]{municipality} has no configuration yet: ids not checked[/yellow]")
        return None
    known = {s.id for s in config.sensors} | {c.id for c in config.cameras}
    what = "sensors or cameras"
    if agencies:
        known, what = {a.id for a in config.agencies}, "agencies"
    unknown = sorted(set(devices) - known)
    if unknown:
        console.print(f"[red]not {what} of {municipality}:[/red] {', '.join(unknown)}")
        raise typer.Exit(2)
    return config


@devices_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="the credential's name within its municipality")],
    kind: Annotated[str, typer.Option(help=KINDS)],
    municipality: Annotated[
        str | None,
        typer.Option("--municipality", "-m", help="its municipality (omit: installation-wide)"),
    ] = None,
    device: Annotated[
        list[str] | None,
        typer.Option(
            "--device",
            "-d",
            help="only this sensor or camera; for --kind agency: the agency's id (repeatable)",
        ),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="a Frigate's topic prefix (default: its configuration's)")
    ] = None,
) -> None:
    """Make a credential; its secret is printed once and stored only as a hash."""
    from cityops.domain.devices import DeviceKind, DeviceScope, ScopeError
    from cityops.services import devices as service

    try:
        kind_ = DeviceKind(kind)
    except ValueError:
        console.print(f"[red]--kind must be one of[/red] {KINDS}")
        raise typer.Exit(2) from None
    db = _engine()
    try:
        with db.begin() as conn:
            agencies = kind_ is DeviceKind.AGENCY
            ids = [] if kind_ is DeviceKind.TRACKER else device or []  # persons' devices
            config = _checked_config(conn, municipality, ids, agencies=agencies)
            if kind_ is DeviceKind.FRIGATE and prefix is None and config and config.frigate:
                prefix = config.frigate.topic_prefix
            scope = DeviceScope(name, kind_, municipality, tuple(device or ()), prefix)
            if prefix is not None and (other := _foreign_frigate(conn, municipality, prefix)):
                raise service.CredentialError(f"prefix {prefix!r} is {other}'s Frigate's")
            issued = service.create(conn, scope, actor=_actor())
    except (ScopeError, service.CredentialError) as err:
        console.print(f"[red]refused:[/red] {err}")
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    console.print(f"username: [bold]{issued.row.username}[/bold]")
    console.print(f"secret:   [bold]{issued.secret}[/bold]", highlight=False)
    console.print(
        "The secret is shown only now. Give it to the device; then run "
        "`cityops mqtt sync` for Mosquitto (the embedded broker needs nothing)."
    )


@devices_app.command("list")
def list_cmd(
    municipality: Annotated[str | None, typer.Option("--municipality", "-m")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="include revoked ones")] = False,
) -> None:
    """The credentials (never their secrets)."""
    from cityops.services import devices as service

    db = _engine()
    try:
        with db.connect() as conn:
            rows = service.listed(conn, municipality=municipality, include_revoked=revoked)
    finally:
        db.dispose()
    table = Table(title="MQTT credentials")
    table.add_column("username", no_wrap=True)
    for column in ("kind", "devices", "created", "by", "revoked"):
        table.add_column(column)
    for row in rows:
        scope = row.scope
        what = ", ".join(scope.devices) or (f"{scope.prefix}/#" if scope.prefix else "all")
        table.add_row(
            row.username,
            scope.kind.value,
            what,
            f"{row.created_at:%Y-%m-%d %H:%M}",
            row.created_by,
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
        )
    console.print(table)


@devices_app.command("revoke")
def revoke(
    username: Annotated[str, typer.Argument(help="e.g. kazanlak.gw-north")],
    reason: Annotated[str | None, typer.Option(help="recorded in the audit log")] = None,
) -> None:
    """Revoke a credential: the embedded broker refuses it within seconds, Mosquitto after
    `cityops mqtt sync`."""
    from cityops.services import devices as service

    db = _engine()
    try:
        with db.begin() as conn:
            service.revoke(conn, username, actor=_actor(), reason=reason)
    except service.CredentialError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    console.print(f"[green]revoked[/green] {username}; run `cityops mqtt sync` for Mosquitto")


@mqtt_app.command("sync")
def sync(
    password_file: Annotated[Path, typer.Option(help="Mosquitto's password_file")],
    acl_file: Annotated[Path, typer.Option(help="Mosquitto's acl_file")],
    pid_file: Annotated[
        Path | None,
        typer.Option(help="SIGHUP the Mosquitto of this pid file (e.g. /run/mosquitto/...)"),
    ] = None,
    print_config: Annotated[
        bool, typer.Option("--print-config", help="also print the mosquitto.conf lines")
    ] = False,
    rotate: Annotated[
        bool,
        typer.Option(
            "--rotate-ingest-secret",
            help="allow changing or removing ingest partition users' passwords (only with "
            "every `cityops ingest` stopped)",
        ),
    ] = False,
) -> None:
    """Write Mosquitto's password and ACL files from the database and make it reload them.
    With CITYOPS_INGEST_SECRET(_FILE) also one user per partition of multi-process ingest
    (docs/SCALING.md "Partition credentials")."""
    from cityops.bus import mosquitto
    from cityops.services import devices as service
    from cityops.services import partition_users as parts

    settings = load_settings()
    try:
        secret = parts.read_secret(settings.ingest_secret, settings.ingest_secret_file)
    except parts.IngestSecretError as err:
        console.print(f"[red]sync refused:[/red] {err}")
        raise typer.Exit(2) from None
    db = _engine()
    try:
        with db.connect() as conn:
            rows = service.listed(conn)
            prefix = settings.ingest_client_prefix
            users = parts.partition_users(conn, secret, prefix, rows) if secret else []
    finally:
        db.dispose()
    try:
        result = mosquitto.sync(rows, password_file, acl_file, pid_file, users, rotate=rotate)
    except mosquitto.PartitionChangeError as err:
        console.print(f"[red]sync refused, nothing written:[/red] {err}")
        raise typer.Exit(2) from None
    except (OSError, ValueError) as err:
        console.print(f"[red]sync failed:[/red] {err}")
        raise typer.Exit(1) from None
    console.print(f"{result.credentials} credentials written to {password_file} and {acl_file}")
    if secret:
        console.print(f"{result.partitions} ingest partition users ({prefix}-<municipality>)")
    if result.reloaded_pid is not None:
        console.print(f"Mosquitto (pid {result.reloaded_pid}) told to reload")
    else:
        console.print("reload Mosquitto now: systemctl reload mosquitto (or SIGHUP)")
    if secret and users:
        _seed(settings.mqtt_url, secret, users, reloading=result.reloaded_pid is not None)
    if print_config:
        # plain, unwrapped: meant to be copied into mosquitto.conf
        typer.echo(mosquitto.config_snippet(password_file.resolve(), acl_file.resolve()), nl=False)


def _seed(url: str | None, secret: str, users: list[PartitionUser], *, reloading: bool) -> None:
    """Make the broker sessions of partitions no member took yet, so the broker queues their
    readings from now on (docs/SCALING.md "A new partition's session")."""
    from cityops.bus.partition_seed import seed_partitions

    if url is None:
        console.print(
            "[yellow]set CITYOPS_MQTT_URL[/yellow] so that sync makes new partitions' sessions: "
            "until a member takes a new partition, its readings are not queued"
        )
        return
    db = _engine()
    try:  # while Mosquitto reloads, a new partition user is refused for a moment
        report = seed_partitions(db, url, secret, users, retry_s=15.0 if reloading else 0.0)
    finally:
        db.dispose()
    console.print(
        f"partition sessions: {len(report.created)} made, {len(report.present)} already in "
        f"the broker, {len(report.held)} held by members"
    )
    if report.refused and not reloading:  # the files are written; the broker has not read them
        console.print(
            f"[yellow]no session yet for {', '.join(report.refused)}[/yellow] (the broker does "
            "not know their users before it reloads): reload Mosquitto, then run the sync again"
        )
        return
    for muni, why in report.refused.items():
        console.print(f"[red]no session for {muni}:[/red] {why}")
    if report.refused:
        raise typer.Exit(1)
