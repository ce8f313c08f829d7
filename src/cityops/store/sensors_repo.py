"""What the sensors table remembers of each sensor's newest reading (written by ingest)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from cityops.store import tables as t
from cityops.store.observations_repo import SensorLatest


def latest_readings(conn: Connection, municipality: str) -> list[SensorLatest]:
    """Each active sensor's newest stored reading and when it was received (none: left out)."""
    c = t.sensors.c
    rows = conn.execute(
        select(c.id, c.last_value, c.last_ts, c.last_received_at).where(
            c.municipality == municipality, c.active, c.last_received_at.is_not(None)
        )
    )
    return [
        SensorLatest(municipality, r.id, r.last_value, r.last_ts, r.last_received_at) for r in rows
    ]
