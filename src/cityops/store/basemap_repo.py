"""The offline base map: one GeoJSON layer per row, replaced whole on every import."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from cityops.store import tables as t


def save_basemap(
    conn: Connection,
    municipality: str,
    *,
    layers: dict[str, Any],
    bounds: list[float],
    source_name: str,
    now: datetime,
) -> None:
    conn.execute(delete(t.basemap_layers).where(t.basemap_layers.c.municipality == municipality))
    conn.execute(
        t.basemap_layers.insert(),
        [
            {
                "municipality": municipality,
                "layer": name,
                "geojson": json.dumps(fc, separators=(",", ":")),
                "feature_count": len(fc["features"]),
                "bounds": bounds,
                "source_name": source_name,
                "imported_at": now,
            }
            for name, fc in layers.items()
        ],
    )


def basemap_json(conn: Connection, municipality: str) -> str:
    """The ``/basemap`` payload, assembled from the stored GeoJSON text without re-parsing it."""
    rows = conn.execute(
        select(t.basemap_layers.c.layer, t.basemap_layers.c.geojson, t.basemap_layers.c.bounds)
        .where(t.basemap_layers.c.municipality == municipality)
        .order_by(t.basemap_layers.c.layer)
    ).all()
    bounds = json.dumps(rows[0].bounds) if rows else "null"
    layers = ",".join(f"{json.dumps(r.layer)}:{r.geojson}" for r in rows)
    return f'{{"bounds":{bounds},"layers":{{{layers}}}}}'
