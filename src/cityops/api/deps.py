"""Dependencies shared by the routers: the control center, a connection, the municipality.
Who is calling, and whether they may, is api/auth.py's.

The API never imports the composition root (app.py): it is handed an object that has what
:class:`Backend` lists (``app.ControlCenter`` has) and reaches the rest through it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Path, Query, Request
from pydantic import AfterValidator
from sqlalchemy import Connection, Engine

from cityops.bus.mqtt import MqttIngest
from cityops.ingest.pipeline import IngestPipeline
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime
from cityops.settings import Settings
from cityops.video.snapshots import SnapshotService


class Backend(Protocol):
    """What the API needs of the running control center (read-only)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Engine: ...
    @property
    def live(self) -> LiveBus: ...
    @property
    def runtimes(self) -> Mapping[str, MunicipalityRuntime]: ...
    @property
    def pipeline(self) -> IngestPipeline | None: ...
    @property
    def mqtt(self) -> MqttIngest | None: ...
    @property
    def snapshots(self) -> SnapshotService: ...


async def get_center(request: Request) -> Backend:  # no I/O: async, so no thread hop
    center: Backend = request.app.state.center
    return center


Center = Annotated[Backend, Depends(get_center)]


def get_conn(center: Center) -> Iterator[Connection]:
    with center.db.connect() as conn:
        yield conn


Conn = Annotated[Connection, Depends(get_conn)]


async def get_runtime(
    center: Center, mid: Annotated[str, Path(max_length=64)]
) -> MunicipalityRuntime:  # no I/O: async, so no thread hop
    rt = center.runtimes.get(mid)
    if rt is None:
        raise HTTPException(404, f"unknown municipality {mid!r}")
    return rt


Runtime = Annotated[MunicipalityRuntime, Depends(get_runtime)]


def get_pipeline(center: Center) -> IngestPipeline:
    if center.pipeline is None:
        raise HTTPException(503, "ingest is not running")
    return center.pipeline


Pipeline = Annotated[IngestPipeline, Depends(get_pipeline)]

IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The incident's number")]
"""An incident id in a path: a positive 32-bit integer (the column's range), else 422."""

EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def _bounded_time(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if ts.tzinfo is None:
        raise ValueError("a time must carry a zone (e.g. 2026-11-22T08:00:00Z)")
    # the year is checked as written, before any conversion: 0001-01-01 at +14:00 has no UTC
    if not EARLIEST_YEAR <= ts.year <= LATEST_YEAR:
        raise ValueError(f"a time between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return ts.astimezone(UTC)


QueryTime = Annotated[
    datetime | None,
    Query(description="ISO 8601 with a zone, between 1970 and 2200"),
    AfterValidator(_bounded_time),
]
"""A ``since``/``until`` query parameter: aware and in a sane range, else 422 (never 500)."""
