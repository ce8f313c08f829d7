"""Sources: sensors and their readings, cameras, key objects, agencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel
from pydantic_core import to_json

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Center, Conn, QueryTime, Runtime
from cityops.domain.access import Permission, Principal
from cityops.domain.engine import RuleEngine
from cityops.domain.entities import CameraHealth, SensorState
from cityops.domain.rules import ThresholdRule
from cityops.services.access_scope import visible_cameras
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.views import Position
from cityops.store import catalog_repo, rollups_repo, sensors_repo
from cityops.store import observations_repo as obs

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["sources"])

Reader = Annotated[Principal, allow(Permission.SOURCES_READ)]


class ThresholdLine(BaseModel):
    rule_id: str
    op: str
    value: float


class SensorView(BaseModel):
    id: str
    name: str
    name_local: str | None
    kind: str
    unit: str
    position: Position
    valid_min: float | None
    valid_max: float | None
    value: float | None
    ts: datetime | None
    received_at: datetime | None
    state: SensorState
    thresholds: list[ThresholdLine]


class CameraView(BaseModel):
    id: str
    name: str
    name_local: str | None
    position: Position
    heading_deg: float
    fov_deg: float
    range_m: float
    stream_url: str | None
    zones: list[str]
    has_video: bool
    """A stream (or a demonstration clip) to take snapshots and live views from."""
    health: CameraHealth
    last_event_at: datetime | None


class AgencyView(BaseModel):
    id: str
    name: str
    name_local: str | None
    kind: str
    phone: str | None
    email: str | None


class KeyObjectView(BaseModel):
    id: str
    name: str
    name_local: str | None
    kind: str
    position: Position
    importance: dict[str, int]


class ReadingPoint(BaseModel):
    """A raw reading (count 1, min = max = value) or an hour's or day's mean with its extremes:
    the same shape at every resolution (docs/STORAGE.md)."""

    ts: datetime
    value: float
    min: float
    max: float
    count: int


Static = tuple[dict[str, Any], list[dict[str, Any]]]
"""A sensor's fields that do not change (id … valid_max), and its threshold lines."""
_described: dict[int, tuple[RuleEngine, list[Static]]] = {}
"""Per rule engine (one per configuration a runtime was built from): what does not change of
each sensor, so that the console's largest start-up request builds it once (issue 8: the first
render's cost), not once per request."""


def _sensor_statics(rt: MunicipalityRuntime) -> list[Static]:
    held = _described.get(id(rt.engine))
    if held is not None and held[0] is rt.engine:
        return held[1]
    statics = [
        (
            {
                "id": s.id,
                "name": s.name,
                "name_local": s.name_local,
                "kind": s.kind.value,
                "unit": s.unit,
                "position": {"lon": s.position.lon, "lat": s.position.lat},
                "valid_min": s.valid_min,
                "valid_max": s.valid_max,
            },
            [
                {"rule_id": r.id, "op": r.op.value, "value": r.value}
                for r in rt.engine.sensor_rules(s.id)
                if isinstance(r, ThresholdRule)
            ],
        )
        for s in rt.config.sensors
    ]
    if len(_described) >= 32:  # configurations replaced meanwhile
        _described.clear()
    _described[id(rt.engine)] = (rt.engine, statics)
    return statics


@router.get("/sensors", response_model=list[SensorView])
def list_sensors(caller: Reader, rt: Runtime, conn: Conn) -> Response:
    """Every sensor with its latest reading and state. Written straight to JSON by
    pydantic-core from the rows (the same encoding as the models'; the models document the
    shape): one model per sensor cost more than the rest of the request (issue 8)."""
    if caller.limited(rt.id, now_utc()):
        return Response(b"[]", media_type="application/json")  # a liaison: no sensors
    latest = obs.sensor_latest(conn, rt.id)
    state = rt.engine.sensor_state
    rows = []
    for static, thresholds in _sensor_statics(rt):
        row = latest.get(static["id"])
        rows.append(
            {  # the model's order
                **static,
                "value": row.value if row else None,
                "ts": row.ts if row else None,
                "received_at": row.received_at if row else None,
                "state": state(static["id"]),
                "thresholds": thresholds,
            }
        )
    return Response(to_json(rows), media_type="application/json")


@router.get("/sensors/{sensor_id}/readings", response_model=list[ReadingPoint])
def sensor_readings(
    caller: Reader,
    rt: Runtime,
    conn: Conn,
    response: Response,
    sensor_id: str,
    since: QueryTime = None,
    until: QueryTime = None,
    limit: Annotated[int, Query(ge=1, le=100000)] = 5000,
    resolution: Annotated[Literal["auto", "raw", "hour", "day"], Query()] = "auto",
) -> list[ReadingPoint]:
    """A sensor's chart: raw readings for windows up to two days, hourly rollups up to two
    months, daily ones beyond (``resolution`` forces one; the answer's ``X-Resolution`` says
    which was used)."""
    if sensor_id not in rt.sensors or caller.limited(rt.id, now_utc()):
        raise HTTPException(404, f"unknown sensor {sensor_id!r}")
    since = since or datetime.now(UTC) - timedelta(hours=6)
    if resolution == "auto":
        end = until or datetime.now(UTC)
        chosen = sensors_repo.pick_resolution(since, end, rollups_repo.horizon(conn, rt.id))
    else:
        chosen = sensors_repo.Resolution(resolution)
    response.headers["X-Resolution"] = chosen.value
    rows = sensors_repo.series(conn, rt.id, sensor_id, since, until, limit, chosen)
    return [ReadingPoint(ts=p.ts, value=p.value, min=p.min, max=p.max, count=p.count) for p in rows]


@router.get("/cameras", response_model=list[CameraView])
def list_cameras(caller: Reader, center: Center, rt: Runtime, conn: Conn) -> Response:
    """The cameras the caller may see, with their health. Written straight to JSON in the
    model's order and encoding, as /sensors is (a start-up request of the console)."""
    states = catalog_repo.camera_states(conn, rt.id)
    seen = visible_cameras(conn, caller, rt.id, now_utc())
    out = []
    for index, cam in enumerate(rt.config.cameras):
        if seen is not None and cam.id not in seen:
            continue
        row = states.get(cam.id)
        out.append(
            {
                "id": cam.id,
                "name": cam.name,
                "name_local": cam.name_local,
                "position": {"lon": cam.position.lon, "lat": cam.position.lat},
                "heading_deg": cam.heading_deg,
                "fov_deg": cam.fov_deg,
                "range_m": cam.range_m,
                "stream_url": cam.stream_url,
                "zones": sorted(cam.zones),
                "has_video": center.snapshots.stream_url(cam, index) is not None,
                "health": CameraHealth(row.health) if row else CameraHealth.UNKNOWN,
                "last_event_at": row.last_event_at if row else None,
            }
        )
    return Response(to_json(out), media_type="application/json")


@router.get("/agencies", response_model=list[AgencyView])
def list_agencies(caller: Reader, rt: Runtime) -> list[AgencyView]:
    return [
        AgencyView(
            id=a.id,
            name=a.name,
            name_local=a.name_local,
            kind=a.kind.value,
            phone=a.phone,
            email=a.email,
        )
        for a in rt.config.agencies
    ]


@router.get("/key-objects", response_model=list[KeyObjectView])
def list_key_objects(caller: Reader, rt: Runtime) -> list[KeyObjectView]:
    return [
        KeyObjectView(
            id=k.id,
            name=k.name,
            name_local=k.name_local,
            kind=k.kind.value,
            position=Position(lon=k.position.lon, lat=k.position.lat),
            importance={s.value: v for s, v in k.importance.items()},
        )
        for k in rt.config.key_objects
    ]
