"""Sources: sensors and their readings, cameras, key objects, agencies; HTTP ingest; dead
letters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from cityops.api.deps import Center, Conn, Pipeline, Runtime
from cityops.domain.entities import CameraHealth, SensorState
from cityops.domain.rules import ThresholdRule
from cityops.ingest.pipeline import InboundMessage, MessageOutcome
from cityops.services.views import Position
from cityops.store import tables as t

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["sources"])


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
    ts: datetime
    value: float


@router.get("/sensors", response_model=list[SensorView])
def list_sensors(rt: Runtime, conn: Conn) -> list[SensorView]:
    rows = {
        r["id"]: r
        for r in conn.execute(
            select(t.sensors).where(t.sensors.c.municipality == rt.id, t.sensors.c.active)
        ).mappings()
    }
    out = []
    for s in rt.config.sensors:
        row = rows.get(s.id)
        lines = [
            ThresholdLine(rule_id=r.id, op=r.op.value, value=r.value)
            for r in rt.engine.sensor_rules(s.id)
            if isinstance(r, ThresholdRule)
        ]
        out.append(
            SensorView(
                id=s.id,
                name=s.name,
                name_local=s.name_local,
                kind=s.kind.value,
                unit=s.unit,
                position=Position(lon=s.position.lon, lat=s.position.lat),
                valid_min=s.valid_min,
                valid_max=s.valid_max,
                value=row["last_value"] if row else None,
                ts=row["last_ts"] if row else None,
                received_at=row["last_received_at"] if row else None,
                state=rt.engine.sensor_state(s.id),
                thresholds=lines,
            )
        )
    return out


@router.get("/sensors/{sensor_id}/readings", response_model=list[ReadingPoint])
def sensor_readings(
    rt: Runtime,
    conn: Conn,
    sensor_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100000)] = 5000,
) -> list[ReadingPoint]:
    if sensor_id not in rt.sensors:
        raise HTTPException(404, f"unknown sensor {sensor_id!r}")
    since = since or datetime.now(UTC) - timedelta(hours=6)
    c = t.readings.c
    q = select(c.ts, c.value).where(
        c.municipality == rt.id, c.sensor_id == sensor_id, c.ts >= since
    )
    if until is not None:
        q = q.where(c.ts < until)
    rows = conn.execute(q.order_by(c.ts.desc()).limit(limit)).all()
    return [ReadingPoint(ts=r.ts, value=r.value) for r in reversed(rows)]


@router.get("/cameras", response_model=list[CameraView])
def list_cameras(center: Center, rt: Runtime, conn: Conn) -> list[CameraView]:
    rows = {
        r["id"]: r
        for r in conn.execute(select(t.cameras).where(t.cameras.c.municipality == rt.id)).mappings()
    }
    out = []
    for index, cam in enumerate(rt.config.cameras):
        row = rows.get(cam.id)
        out.append(
            CameraView(
                id=cam.id,
                name=cam.name,
                name_local=cam.name_local,
                position=Position(lon=cam.position.lon, lat=cam.position.lat),
                heading_deg=cam.heading_deg,
                fov_deg=cam.fov_deg,
                range_m=cam.range_m,
                stream_url=cam.stream_url,
                zones=sorted(cam.zones),
                has_video=center.snapshots.stream_url(cam, index) is not None,
                health=CameraHealth(row["health"]) if row else CameraHealth.UNKNOWN,
                last_event_at=row["last_event_at"] if row else None,
            )
        )
    return out


@router.get("/agencies", response_model=list[AgencyView])
def list_agencies(rt: Runtime) -> list[AgencyView]:
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
def list_key_objects(rt: Runtime) -> list[KeyObjectView]:
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


class IngestResult(BaseModel):
    accepted: int
    rejected: list[dict[str, Any]]


@router.post(
    "/readings",
    response_model=IngestResult,
    summary="HTTP batch ingest: the gateway payload of docs/MQTT.md; answers once stored",
)
async def post_readings(rt: Runtime, pipeline: Pipeline, request: Request) -> IngestResult:
    return await _ingest(pipeline, f"cityops/{rt.id}/readings", request)


@router.post("/cameras/{camera_id}/events", response_model=IngestResult)
async def post_camera_events(
    rt: Runtime, pipeline: Pipeline, camera_id: str, request: Request
) -> IngestResult:
    return await _ingest(pipeline, f"cityops/{rt.id}/cameras/{camera_id}/events", request)


async def _ingest(pipeline: Pipeline, topic: str, request: Request) -> IngestResult:
    limit = pipeline.max_payload_bytes
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            body = body[: limit + 1]  # enough to be rejected as too large, and kept
            break
    loop = asyncio.get_running_loop()
    future: asyncio.Future[MessageOutcome] = loop.create_future()

    def done(outcome: MessageOutcome) -> None:
        loop.call_soon_threadsafe(future.set_result, outcome)

    pipeline.submit(InboundMessage(topic, bytes(body), datetime.now(UTC), source="http", done=done))
    outcome = await asyncio.wait_for(future, timeout=60)
    rejected = [
        {"index": r.index, "reason": r.reason.value, "detail": r.detail} for r in outcome.rejections
    ]
    if outcome.accepted == 0 and rejected:
        raise HTTPException(422, {"accepted": 0, "rejected": rejected})
    return IngestResult(accepted=outcome.accepted, rejected=rejected)


class DeadLetterView(BaseModel):
    id: int
    received_at: datetime
    source: str
    topic: str
    reason_code: str
    reason: str
    payload: str
    payload_size: int


@router.get("/dead-letters", response_model=list[DeadLetterView])
def dead_letters(
    rt: Runtime, conn: Conn, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DeadLetterView]:
    c = t.dead_letters.c
    rows = conn.execute(
        select(t.dead_letters).where(c.municipality == rt.id).order_by(c.id.desc()).limit(limit)
    ).mappings()
    return [DeadLetterView(**r) for r in rows]
