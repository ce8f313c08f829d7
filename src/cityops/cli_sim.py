"""``cityops simulate``, ``cityops replay`` and ``cityops demo``: the town over MQTT."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cityops.app import reading_window
from cityops.cli_support import console, load_settings, serve
from cityops.domain.catalog import MunicipalityConfig

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Municipality YAML (default: the Kazanlak demo)"),
]
MqttOpt = Annotated[
    str | None, typer.Option("--mqtt-url", help="Broker (default: CITYOPS_MQTT_URL or embedded)")
]


def _config(path: Path | None) -> MunicipalityConfig:
    from cityops.config.loader import load_config
    from cityops.data import DEMO_CONFIG

    return load_config(path or DEMO_CONFIG)


def run_simulation(
    config: MunicipalityConfig,
    url: str,
    *,
    speed: float,
    backfill: timedelta,
    seed: int,
    stop: threading.Event,
    duration: timedelta | None = None,
    rendered: bool = False,
) -> None:
    """``rendered``: the video worker analyses the cameras' rendered scenes, so the scenes'
    scripts replace the published accident and intrusion (sim/runner.py ``demo_plan``)."""
    from cityops.sim.publisher import MqttPublisher
    from cityops.sim.runner import SimProgress, demo_simulator

    with (
        MqttPublisher(url) as pub,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress,
    ):
        task = progress.add_task("catching up", total=backfill.total_seconds() or 1, status="")

        def on_progress(p: SimProgress) -> None:
            done = backfill.total_seconds() - max(0.0, (p.wall_time - p.sim_time).total_seconds())
            progress.update(
                task,
                completed=backfill.total_seconds() if p.live else done,
                description="live" if p.live else "catching up",
                status=f"{p.readings} readings, {p.events} events; "
                f"{', '.join(p.active) or 'no scenario'}",
            )

        sim, plan = demo_simulator(
            config,
            pub,
            speed=speed,
            backfill=backfill,
            seed=seed,
            progress=on_progress,
            rendered=rendered,
        )
        for line in plan.summary(config.municipality.timezone):
            progress.console.print(f"  {line}")
        until = plan.now + duration if duration else None
        sim.run(until=until, stop_event=stop)


def simulate(
    config: ConfigOpt = None,
    mqtt_url: MqttOpt = None,
    speed: Annotated[float, typer.Option(help="catch-up speed (x real time)")] = 600.0,
    backfill_h: Annotated[float, typer.Option("--backfill-hours", help="hours to replay")] = 26.0,
    minutes: Annotated[
        float | None, typer.Option(help="stop after this many minutes of simulated time past now")
    ] = None,
    seed: int = 0,
) -> None:
    """Publish the simulated town (daily cycles, silent sensors, scripted scenarios) over MQTT."""
    settings = load_settings()
    stop = threading.Event()
    try:
        run_simulation(
            _config(config),
            mqtt_url or settings.broker_url,
            speed=speed,
            backfill=timedelta(hours=backfill_h),
            seed=seed,
            stop=stop,
            duration=timedelta(minutes=minutes) if minutes is not None else None,
        )
    except KeyboardInterrupt:
        stop.set()


def replay(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    config: ConfigOpt = None,
    mqtt_url: MqttOpt = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="QUANTITY=SENSOR (e.g. P1=aq-centre-pm10); repeatable"),
    ] = None,
    speed: Annotated[
        float | None, typer.Option(help="x real time; default: as fast as the broker takes it")
    ] = None,
    keep_time: Annotated[
        bool, typer.Option("--keep-time", help="publish the original timestamps")
    ] = False,
    station: Annotated[list[str] | None, typer.Option(help="Sofia CSV: station codes")] = None,
    param: Annotated[list[str] | None, typer.Option(help="Sofia CSV: parameter codes")] = None,
) -> None:
    """Feed real series (sensor.community, Environment Agency 15-min, Sofia air stations)
    through the same MQTT path as live devices."""
    from cityops.sim.publisher import MqttPublisher
    from cityops.sim.replay import ReplayFormatError, replay_files

    settings = load_settings()
    cfg = _config(config)
    mapping = None
    if map_:
        pairs = [m.split("=", 1) for m in map_]
        if any(len(p) != 2 for p in pairs):
            raise typer.BadParameter("--map takes QUANTITY=SENSOR")
        mapping = {p[0]: p[1] for p in pairs}
    try:
        with MqttPublisher(mqtt_url or settings.broker_url) as pub:
            _series, stats = replay_files(
                files,
                cfg,
                pub,
                mapping=mapping,
                speed=speed,
                shift_to_now=not keep_time,
                stations=station,
                params=param,
            )
    except (ReplayFormatError, ValueError) as err:
        console.print(f"[red]replay failed:[/red] {err}")
        raise typer.Exit(2) from None
    console.print(
        f"published {stats.published} readings in {stats.messages} messages "
        f"({stats.first_ts} .. {stats.last_ts}); skipped {stats.skipped} empty, "
        f"{stats.unmapped} unmapped, {stats.bad} bad {dict(stats.reasons)}"
    )
    for sensor, n in sorted(stats.per_sensor.items()):
        console.print(f"  {sensor}: {n}")
    horizon = reading_window(settings).max_age
    first = stats.first_ts
    if horizon is not None and first is not None and datetime.now(UTC) - first > horizon:
        console.print(
            "[yellow]readings older than CITYOPS_READING_MAX_AGE_S "
            f"({horizon.total_seconds():.0f} s) are rejected by the server as too_old[/yellow]"
        )


def demo(
    speed: Annotated[float, typer.Option(help="simulator catch-up speed")] = 600.0,
    backfill_h: Annotated[float, typer.Option("--backfill-hours")] = 26.0,
) -> None:
    """Server, embedded broker and simulator together on the Kazanlak demo configuration."""
    from cityops.app import import_config
    from cityops.cli_users import demo_account
    from cityops.data import DEMO_CONFIG
    from cityops.store import catalog_repo
    from cityops.store.db import make_engine, upgrade

    settings = load_settings()
    # the simulator publishes anonymously to the embedded broker (docs/MQTT.md, Authentication)
    settings.mqtt_anonymous = True
    settings.env = "development"  # a laptop's demonstration (docs/SECURITY.md, Hardening)
    if settings.demo_video_dir is None:
        shared = os.environ.get("CITYOPS_SHARED_DATA") or "../shared/data"
        clips = Path(shared) / "video"
        if clips.is_dir():  # real surveillance clips stand in for the town's cameras
            settings.demo_video_dir = clips
            console.print(f"cameras show the recorded clips in {clips}")
    if settings.demo_video_dir is None:  # no clips: the cameras show scenes CityOps renders
        settings.demo_synthetic = True
        console.print("cameras show rendered street scenes (no recorded clips found)")
    rendered = settings.demo_synthetic and settings.video_worker
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    with db.connect() as conn:
        stored = {c.municipality: c.yaml for c in catalog_repo.latest_configs(conn)}
    if stored.get("kazanlak") != DEMO_CONFIG.read_text(encoding="utf-8"):
        import_config(db, DEMO_CONFIG, actor="demo")
    username, password = demo_account(db, "kazanlak")  # a new password at every start
    db.dispose()
    settings.session_cookie_secure = False  # the demo is served over plain http on loopback
    console.print(
        f"console login: [bold]{username}[/bold] / [bold]{password}[/bold] "
        "(shown only now; a new one at the next start)",
        highlight=False,
    )
    stop = threading.Event()
    url = settings.broker_url

    def simulator() -> None:
        time.sleep(3.0)  # let the server and its broker come up
        try:
            run_simulation(
                _config(None),
                url,
                speed=speed,
                backfill=timedelta(hours=backfill_h),
                seed=0,
                stop=stop,
                rendered=rendered,
            )
        except Exception as err:  # the demo server keeps running without it
            console.print(f"[red]simulator stopped:[/red] {err}")

    thread = threading.Thread(target=simulator, name="cityops-simulator", daemon=True)
    thread.start()
    try:
        serve(settings)
    finally:
        stop.set()
