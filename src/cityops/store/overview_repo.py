"""The counts of a municipality's overview screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from cityops.domain.incident import Status
from cityops.store import tables as t


@dataclass(frozen=True, slots=True)
class IncidentCounts:
    open_by_sector: dict[str, int]
    by_status: dict[str, int]
    open_created_at: list[datetime]


def incident_counts(conn: Connection, municipality: str) -> IncidentCounts:
    c = t.incidents.c
    mine = c.municipality == municipality
    is_open = c.status.in_([s.value for s in Status if s.is_open])
    by_sector: dict[str, int] = dict(
        conn.execute(select(c.sector, func.count()).where(mine, is_open).group_by(c.sector)).all()
    )
    by_status: dict[str, int] = dict(
        conn.execute(select(c.status, func.count()).where(mine).group_by(c.status)).all()
    )
    created = conn.execute(select(c.created_at).where(mine, is_open)).scalars().all()
    return IncidentCounts(by_sector, by_status, list(created))


def cameras_offline(conn: Connection, municipality: str) -> int:
    c = t.cameras.c
    return int(
        conn.execute(
            select(func.count()).where(
                c.municipality == municipality,
                c.active,
                c.health.in_(["offline", "tampered"]),
            )
        ).scalar_one()
    )
