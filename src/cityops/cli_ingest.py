"""``cityops ingest``: one member of multi-process ingest (docs/SCALING.md)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from cityops.app.ingest_role import IngestProcess, IngestRefusedError
from cityops.cli_support import console, load_settings, refuse, settings_problems
from cityops.mqtt_url import redacted


def ingest_cmd() -> None:
    """Consume readings for a share of the municipalities, next to other `cityops ingest`
    processes and one `cityops serve` with CITYOPS_INGEST=external (PostgreSQL only).
    SIGTERM or Ctrl-C leaves gracefully: what was received is stored and acknowledged and
    the partitions are handed over at once; a killed process's partitions are taken over
    when its leases expire."""
    settings = load_settings()
    judged = settings
    if settings.ingest_secret is not None or settings.ingest_secret_file is not None:
        # the partition sessions log in with their own credentials: CITYOPS_MQTT_URL's user
        # and password are not used, so a URL without a password is no weakness
        judged = settings.model_copy(update={"mqtt_url": None})
    refuse(settings_problems(judged))
    try:
        process = IngestProcess(settings)
    except IngestRefusedError as err:
        console.print(f"[red]refused[/red]: {err}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    stop = threading.Event()

    def leave(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    process.start()
    console.print(
        f"ingest member [bold]{process.member}[/bold] on {redacted(settings.broker_url)}, "
        f"database {redacted(settings.db_url)}",
        highlight=False,
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        process.stop()
