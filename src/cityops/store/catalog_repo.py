"""Municipality configurations: the YAML as imported (versioned) and its entities as rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from cityops.domain.catalog import MunicipalityConfig
from cityops.store import tables as t
from cityops.store.sql import upsert


@dataclass(frozen=True, slots=True)
class StoredConfig:
    municipality: str
    version: int
    source_name: str
    yaml: str
    imported_at: datetime


def save_config(
    conn: Connection,
    config: MunicipalityConfig,
    *,
    yaml_text: str,
    source_name: str,
    actor: str,
    now: datetime,
) -> int:
    """Store a new configuration version and make its entities the active ones."""
    m = config.municipality
    muni = m.id
    upsert(
        conn,
        t.municipalities,
        [
            {
                "id": muni,
                "name": m.name,
                "name_local": m.name_local,
                "timezone": m.timezone,
                "center_lon": m.center.lon if m.center else None,
                "center_lat": m.center.lat if m.center else None,
                "updated_at": now,
            }
        ],
        ["id"],
    )
    version = conn.execute(
        t.config_versions.insert().values(
            municipality=muni,
            source_name=source_name,
            yaml=yaml_text,
            imported_at=now,
            imported_by=actor,
        )
    ).inserted_primary_key
    # Entities that left the configuration stay as rows (readings and incidents point at
    # them) but are marked inactive.
    for table in (t.agencies, t.key_objects, t.cameras, t.sensors):
        conn.execute(update(table).where(table.c.municipality == muni).values(active=False))
    upsert(
        conn,
        t.agencies,
        [
            {
                "municipality": muni,
                "id": a.id,
                "name": a.name,
                "name_local": a.name_local,
                "kind": a.kind.value,
                "phone": a.phone,
                "email": a.email,
                "webhook_url": a.webhook_url,
                "active": True,
            }
            for a in config.agencies
        ],
        ["municipality", "id"],
    )
    upsert(
        conn,
        t.key_objects,
        [
            {
                "municipality": muni,
                "id": k.id,
                "name": k.name,
                "name_local": k.name_local,
                "kind": k.kind.value,
                "lon": k.position.lon,
                "lat": k.position.lat,
                "importance": {s.value: v for s, v in k.importance.items()},
                "active": True,
            }
            for k in config.key_objects
        ],
        ["municipality", "id"],
    )
    upsert(
        conn,
        t.cameras,
        [
            {
                "municipality": muni,
                "id": c.id,
                "name": c.name,
                "name_local": c.name_local,
                "lon": c.position.lon,
                "lat": c.position.lat,
                "heading_deg": c.heading_deg,
                "fov_deg": c.fov_deg,
                "range_m": c.range_m,
                "stream_url": c.stream_url,
                "privacy_masks": [[list(p) for p in poly] for poly in c.privacy_masks],
                "zones": {z: [list(p) for p in poly] for z, poly in c.zones.items()},
                "active": True,
            }
            for c in config.cameras
        ],
        ["municipality", "id"],
    )
    upsert(
        conn,
        t.sensors,
        [
            {
                "municipality": muni,
                "id": s.id,
                "name": s.name,
                "name_local": s.name_local,
                "kind": s.kind.value,
                "unit": s.unit,
                "lon": s.position.lon,
                "lat": s.position.lat,
                "valid_min": s.valid_min,
                "valid_max": s.valid_max,
                "expected_interval_s": s.expected_interval_s,
                "active": True,
            }
            for s in config.sensors
        ],
        ["municipality", "id"],
    )
    assert version is not None
    return int(version[0])


def newest_version(conn: Connection) -> int:
    """The id of the newest configuration of any municipality (0 when none)."""
    return int(
        conn.execute(select(func.coalesce(func.max(t.config_versions.c.id), 0))).scalar_one()
    )


def latest_configs(conn: Connection) -> list[StoredConfig]:
    """The newest configuration of every municipality."""
    newest = (
        select(func.max(t.config_versions.c.id))
        .group_by(t.config_versions.c.municipality)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(t.config_versions).where(t.config_versions.c.id.in_(newest))
    ).mappings()
    return [
        StoredConfig(
            municipality=r["municipality"],
            version=r["id"],
            source_name=r["source_name"],
            yaml=r["yaml"],
            imported_at=r["imported_at"],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class CameraState:
    health: str
    last_event_at: datetime | None


def camera_states(conn: Connection, municipality: str) -> dict[str, CameraState]:
    """Each stored camera's health and the time of its last event."""
    c = t.cameras.c
    rows = conn.execute(
        select(c.id, c.health, c.last_event_at).where(c.municipality == municipality)
    )
    return {r.id: CameraState(r.health, r.last_event_at) for r in rows}
