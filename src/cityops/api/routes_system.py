"""The installation: configuration for the console, health, metrics, overview, base map."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import func, select

from cityops.api.deps import Center, Conn, Runtime
from cityops.domain.incident import Status
from cityops.store import tables as t
from cityops.store.basemap_repo import basemap_json

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/config", summary="What the console needs to start")
def console_config(center: Center) -> dict[str, Any]:
    return {
        "municipalities": [
            {
                "id": rt.id,
                "name": rt.config.municipality.name,
                "name_local": rt.config.municipality.name_local,
                "timezone": rt.config.municipality.timezone,
                "center": ({"lon": rt.projection.center.lon, "lat": rt.projection.center.lat}),
            }
            for rt in center.runtimes.values()
        ],
        "tile_url": center.settings.tile_url,
        "default_language": center.settings.default_language,
    }


@router.get("/health", summary="Liveness and readiness")
def health(center: Center) -> dict[str, Any]:
    mqtt_ok = center.mqtt is None or center.mqtt.connected.is_set()
    pipeline = center.pipeline
    return {
        "status": "ok" if mqtt_ok and pipeline is not None else "degraded",
        "mqtt_connected": mqtt_ok,
        "ingest_backlog": pipeline.backlog if pipeline else None,
        "municipalities": sorted(center.runtimes),
    }


@router.get("/metrics", summary="Ingest counters (JSON, or Prometheus text with format=prometheus)")
def metrics(center: Center, format: str = "json") -> Response:
    if center.pipeline is None:
        raise HTTPException(503, "ingest is not running")
    snap = center.pipeline.metrics.snapshot()
    snap["ingest_backlog"] = center.pipeline.backlog
    if format != "prometheus":
        return Response(json.dumps(snap), media_type="application/json")
    lines = []
    for key, value in snap.items():
        if isinstance(value, dict):
            label = "quantile" if key == "lag_ms" else "reason"
            for name, count in value.items():
                lines.append(f'cityops_{key}{{{label}="{name}"}} {count}')
        else:
            lines.append(f"cityops_{key} {value}")
    return PlainTextResponse("\n".join(lines) + "\n")


@router.get("/dead-letters", summary="Rejected messages that named no known municipality")
def unassigned_dead_letters(
    conn: Conn, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    c = t.dead_letters.c
    rows = conn.execute(
        select(t.dead_letters).where(c.municipality.is_(None)).order_by(c.id.desc()).limit(limit)
    ).mappings()
    return [{**r, "received_at": r["received_at"].isoformat()} for r in rows]


@router.get("/m/{mid}/overview", summary="Counts for the overview screen")
def overview(rt: Runtime, conn: Conn) -> dict[str, Any]:
    c = t.incidents.c
    mine = c.municipality == rt.id
    open_statuses = [s.value for s in Status if s.is_open]
    by_sector: dict[str, int] = dict(
        conn.execute(
            select(c.sector, func.count())
            .where(mine, c.status.in_(open_statuses))
            .group_by(c.sector)
        ).all()
    )
    by_status: dict[str, int] = dict(
        conn.execute(select(c.status, func.count()).where(mine).group_by(c.status)).all()
    )
    now = datetime.now(UTC)
    ages = {"lt_1h": 0, "1h_6h": 0, "6h_24h": 0, "gt_24h": 0}
    for (created,) in conn.execute(select(c.created_at).where(mine, c.status.in_(open_statuses))):
        age = now - created
        key = (
            "lt_1h"
            if age < timedelta(hours=1)
            else "1h_6h"
            if age < timedelta(hours=6)
            else "6h_24h"
            if age < timedelta(hours=24)
            else "gt_24h"
        )
        ages[key] += 1
    offline = sum(1 for s in rt.config.sensors if rt.engine.sensor_state(s.id).value == "offline")
    cams_off = conn.execute(
        select(func.count()).where(
            t.cameras.c.municipality == rt.id,
            t.cameras.c.active,
            t.cameras.c.health.in_(["offline", "tampered"]),
        )
    ).scalar_one()
    return {
        "incidents_by_sector": by_sector,
        "incidents_by_status": by_status,
        "open_by_age": ages,
        "sensors_offline": offline,
        "cameras_offline": cams_off,
        "sensors_total": len(rt.config.sensors),
        "cameras_total": len(rt.config.cameras),
    }


@router.get("/m/{mid}/basemap", summary="The offline base map imported from OpenStreetMap")
def basemap(rt: Runtime, conn: Conn) -> Response:
    return Response(basemap_json(conn, rt.id), media_type="application/json")
