"""What the ``cityops`` commands share (cli.py and cli_sim.py): settings with logging set up,
and serving the control center until it is interrupted."""

from __future__ import annotations

import gc

from rich.console import Console

from cityops.logs import configure_logging, uvicorn_log_level
from cityops.settings import Settings

console = Console()


def load_settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


def serve(settings: Settings) -> None:
    """Start the control center and its API; stop both when the server exits."""
    import uvicorn

    from cityops.api.app import create_api
    from cityops.app import ControlCenter

    center = ControlCenter(settings)
    center.start()
    # What the process built to start lives as long as it does: keep it out of the collector's
    # full passes, which walk every object and held ingest up for ~200 ms at a time
    # (p99 trigger-to-console 150-180 -> 79 ms, docs/BENCHMARKS.md).
    gc.freeze()
    url = f"http://{settings.http_host}:{settings.http_port}/"
    console.print(f"[bold green]CityOps console:[/bold green] {url}")
    console.print(f"MQTT broker: {settings.broker_url}   database: {settings.db_url}")
    try:
        uvicorn.run(
            create_api(center),
            host=settings.http_host,
            port=settings.http_port,
            log_level=uvicorn_log_level(settings.log_level),
            timeout_graceful_shutdown=5,  # live feeds never end by themselves
        )
    finally:
        center.stop()
