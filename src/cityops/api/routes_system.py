"""The installation: configuration for the console, health, metrics, overview, base map."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from cityops.api.auth import Caller, allow, now_utc
from cityops.api.deps import Center, Conn, Runtime
from cityops.dispatch.callback import REFUSALS
from cityops.domain.access import Permission
from cityops.services.agency_requests import COUNTS as AGENCY_REQUESTS
from cityops.store import cluster_repo, overview_repo
from cityops.store import observations_repo as obs
from cityops.store.basemap_repo import basemap_json

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/config", summary="What the console needs to start")
def console_config(center: Center, caller: Caller) -> dict[str, Any]:
    mine = set(caller.municipalities(now_utc()))
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
            if rt.id in mine
        ],
        "tile_url": center.settings.tile_url,
        "default_language": center.settings.default_language,
    }


class HealthStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"


class HealthReason(StrEnum):
    INGEST_NOT_RUNNING = "ingest_not_running"
    INGEST_WORKER_DEAD = "ingest_worker_dead"
    INGEST_STALLED = "ingest_stalled"
    """A backlog waits and no batch completed for ``CITYOPS_INGEST_STALL_S``."""
    MQTT_DISCONNECTED = "mqtt_disconnected"
    INGEST_PARTITIONS_UNOWNED = "ingest_partitions_unowned"
    """External ingest: a municipality no live `cityops ingest` member holds (docs/SCALING.md)."""
    INGEST_PARTITION_LOGIN_REFUSED = "ingest_partition_login_refused"
    """External ingest: the broker refuses a member's partition login (``partitions_refused``
    says why, per municipality; docs/SCALING.md "A refused partition login")."""


class Health(BaseModel):
    """The installation's health; the console shows a banner while ``status`` is degraded."""

    status: HealthStatus
    reasons: list[HealthReason] = Field(description="Why degraded; empty when ok")
    mqtt_connected: bool
    ingest_alive: bool = Field(description="The ingest worker thread is running")
    ingest_backlog: int | None = Field(description="Messages received, not yet stored")
    last_progress_age_s: float | None = Field(
        description="Seconds since the ingest worker last completed a batch (or started)"
    )
    data_age_s: float | None = Field(
        description="Commit time minus the readings' own timestamps, median of the last batch "
        "with readings; grows when a backlog waits in the broker (or during a backfill)"
    )
    worker_restarts: int = Field(description="Times the ingest worker died and was restarted")
    ingest_members: int | None = Field(
        default=None,
        description="External ingest (CITYOPS_INGEST=external): the live `cityops ingest` "
        "members; null when this server ingests itself",
    )
    partitions_unowned: list[str] = Field(
        default_factory=list,
        description="External ingest: municipalities no live member holds (their readings wait "
        "in the broker)",
    )
    partitions_refused: dict[str, str] = Field(
        default_factory=dict,
        description="External ingest: municipality -> why the broker refuses the login of the "
        "member holding it (e.g. 'partition login refused: not authorized'); its readings wait "
        "in the broker, or are not queued at all before its session first existed",
    )
    municipalities: list[str]


@router.get("/health", response_model=Health, summary="Liveness and readiness")
def health(center: Center) -> Health:
    reasons = []
    members: int | None = None
    unowned: list[str] = []
    refused: dict[str, str] = {}
    external = center.settings.ingest == "external"
    mqtt = getattr(center, "mqtt_control", None) if external else center.mqtt
    mqtt_ok = mqtt is None or mqtt.connected.is_set()
    if not mqtt_ok:
        reasons.append(HealthReason.MQTT_DISCONNECTED)
    pipeline = center.pipeline
    if external:  # the members ingest: judged from their leases (database time)
        with center.db.connect() as conn:
            members = len(cluster_repo.live_members(conn, center.settings.ingest_lease_s))
            unowned = cluster_repo.unowned(conn, center.runtimes)
            refused = cluster_repo.session_errors(conn, center.runtimes)
        if not members:
            reasons.append(HealthReason.INGEST_NOT_RUNNING)
        if unowned:
            reasons.append(HealthReason.INGEST_PARTITIONS_UNOWNED)
        if refused:
            reasons.append(HealthReason.INGEST_PARTITION_LOGIN_REFUSED)
        worker = None
    elif pipeline is None:
        reasons.append(HealthReason.INGEST_NOT_RUNNING)
        worker = None
    else:
        worker = pipeline.health(center.settings.ingest_stall_s)
        if not worker.alive:
            reasons.append(HealthReason.INGEST_WORKER_DEAD)
        if worker.stalled:
            reasons.append(HealthReason.INGEST_STALLED)
    return Health(
        status=HealthStatus.DEGRADED if reasons else HealthStatus.OK,
        reasons=reasons,
        mqtt_connected=mqtt_ok,
        ingest_alive=worker is not None and worker.alive,
        ingest_backlog=worker.backlog if worker else None,
        last_progress_age_s=_round(worker.last_progress_age_s if worker else None),
        data_age_s=_round(pipeline.metrics.last_data_age_s if pipeline else None),
        worker_restarts=pipeline.metrics.worker_restarts if pipeline else 0,
        municipalities=sorted(center.runtimes),
        ingest_members=members,
        partitions_unowned=unowned,
        partitions_refused=refused,
    )


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


_HELP = {
    "lag_ms": "Receipt-to-commit time (CityOps's own delay; broker queueing not included)",
    "data_age_ms": "Commit time minus the reading's own timestamp (how old data is when seen)",
}


@router.get(
    "/metrics",
    summary="Ingest counters (JSON, or Prometheus text with format=prometheus)",
    dependencies=[allow(Permission.SYSTEM_READ, any_membership=True)],
)
def metrics(center: Center, format: Literal["json", "prometheus"] = "json") -> Response:
    if center.pipeline is None:
        raise HTTPException(503, "ingest is not running")
    snap = center.pipeline.metrics.snapshot()
    snap["ingest_backlog"] = center.pipeline.backlog
    snap["dispatch_ack_refused"] = REFUSALS.snapshot()  # refused agency callbacks, by reason
    snap["agency_requests"] = AGENCY_REQUESTS.snapshot()  # location requests, by outcome
    if format != "prometheus":
        return Response(json.dumps(snap), media_type="application/json")
    lines = []
    for key, value in snap.items():
        if key in _HELP:
            lines.append(f"# HELP cityops_{key} {_HELP[key]}")
        if isinstance(value, dict):
            label = "quantile" if key in _HELP else "reason"
            for name, count in value.items():
                lines.append(f'cityops_{key}{{{label}="{name}"}} {count}')
        elif value is not None:
            lines.append(f"cityops_{key} {value}")
    return PlainTextResponse("\n".join(lines) + "\n")


@router.get(
    "/dead-letters",
    summary="Rejected messages that named no known municipality",
    dependencies=[allow(Permission.DEAD_LETTERS_READ)],  # installation admins only
)
def unassigned_dead_letters(
    conn: Conn, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    rows = obs.list_dead_letters(conn, None, limit)
    return [{**r, "received_at": r["received_at"].isoformat()} for r in rows]


@router.get(
    "/m/{mid}/overview",
    summary="Counts for the overview screen",
    dependencies=[allow(Permission.SYSTEM_READ)],
)
def overview(rt: Runtime, conn: Conn) -> dict[str, Any]:
    counts = overview_repo.incident_counts(conn, rt.id)
    now = datetime.now(UTC)
    ages = {"lt_1h": 0, "1h_6h": 0, "6h_24h": 0, "gt_24h": 0}
    for created in counts.open_created_at:
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
    cams_off = overview_repo.cameras_offline(conn, rt.id)
    return {
        "incidents_by_sector": counts.open_by_sector,
        "incidents_by_status": counts.by_status,
        "open_by_age": ages,
        "sensors_offline": offline,
        "cameras_offline": cams_off,
        "sensors_total": len(rt.config.sensors),
        "cameras_total": len(rt.config.cameras),
    }


@router.get(
    "/m/{mid}/basemap",
    summary="The offline base map imported from OpenStreetMap",
    dependencies=[allow(Permission.SOURCES_READ)],
)
def basemap(rt: Runtime, conn: Conn) -> Response:
    return Response(basemap_json(conn, rt.id), media_type="application/json")
