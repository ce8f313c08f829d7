"""Camera network plans of a municipality (``tables_planner``), and what the planner reads from
the store: the cameras already configured and the incident history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from cityops.store import tables as t
from cityops.store.tables_planner import plans


@dataclass(frozen=True)
class PlanSummary:
    id: int
    municipality: str
    name: str
    budget: float
    cost: float
    cameras: int
    coverage: float
    gap: float
    created_by: str
    created_at: datetime


_SUMMARY = [c for c in plans.c if c.name != "geojson"]


def save(
    conn: Connection,
    municipality: str,
    *,
    name: str,
    geojson: dict[str, Any],
    created_by: str,
    now: datetime,
) -> int:
    """Store a plan (``planner.geojson.plan_geojson``'s shape); returns its id."""
    s = geojson["plan"]
    total = float(s["total"])
    row = {
        "municipality": municipality,
        "name": name[:200],
        "budget": float(s["budget"]),
        "cost": float(s["cost"]),
        "cameras": int(s["cameras"]),
        "coverage": float(s["objective"]) / total if total > 0 else 0.0,
        "gap": float(s["gap"]),
        "geojson": json.dumps(geojson, ensure_ascii=False),
        "created_by": created_by[:200],
        "created_at": now,
    }
    key = conn.execute(insert(plans).values(row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def list_plans(conn: Connection, municipality: str, limit: int = 100) -> list[PlanSummary]:
    """A municipality's plans, newest first."""
    q = (
        select(*_SUMMARY)
        .where(plans.c.municipality == municipality)
        .order_by(plans.c.created_at.desc(), plans.c.id.desc())
        .limit(limit)
    )
    return [PlanSummary(**r._mapping) for r in conn.execute(q)]


def get_geojson(conn: Connection, municipality: str, plan_id: int) -> str | None:
    """The stored GeoJSON text of one plan of ``municipality`` (None: no such plan there)."""
    q = select(plans.c.geojson).where(plans.c.municipality == municipality, plans.c.id == plan_id)
    value = conn.execute(q).scalar_one_or_none()
    return None if value is None else str(value)


def municipality_known(conn: Connection, municipality: str) -> bool:
    """Whether a configuration of ``municipality`` was ever imported."""
    m = t.municipalities
    return conn.execute(select(m.c.id).where(m.c.id == municipality)).first() is not None


def camera_views(
    conn: Connection, municipality: str
) -> list[tuple[float, float, float, float, float]]:
    """(lon, lat, heading, fov, range) of the municipality's active configured cameras."""
    c = t.cameras
    q = select(c.c.lon, c.c.lat, c.c.heading_deg, c.c.fov_deg, c.c.range_m).where(
        c.c.municipality == municipality, c.c.active.is_(True)
    )
    return [tuple(float(v) for v in r) for r in conn.execute(q)]  # type: ignore[misc]


def incident_places(
    conn: Connection, municipality: str, since: datetime | None = None
) -> list[tuple[float, float, str]]:
    """(lon, lat, sector) of the municipality's incidents that have a place, since ``since``."""
    i = t.incidents
    q = select(i.c.lon, i.c.lat, i.c.sector).where(
        i.c.municipality == municipality, i.c.lon.is_not(None), i.c.lat.is_not(None)
    )
    if since is not None:
        q = q.where(i.c.created_at >= since)
    return [(float(r.lon), float(r.lat), str(r.sector)) for r in conn.execute(q)]
