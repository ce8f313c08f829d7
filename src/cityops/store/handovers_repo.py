"""Incidents handed over across a municipal boundary, and what a viewer may therefore see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from cityops.domain.incident import Status
from cityops.store import tables as t
from cityops.store.tables_access import incident_handovers as h


@dataclass(frozen=True, slots=True)
class Handover:
    incident_id: int
    from_municipality: str
    to_municipality: str
    reason: str
    actor: str
    at: datetime


def insert_handover(conn: Connection, handover: Handover) -> None:
    conn.execute(
        insert(h).values(
            incident_id=handover.incident_id,
            from_municipality=handover.from_municipality,
            to_municipality=handover.to_municipality,
            reason=handover.reason,
            actor=handover.actor,
            at=handover.at,
        )
    )


def handed_to(conn: Connection, incident_id: int) -> list[str]:
    """The municipalities the incident was handed over to."""
    q = select(h.c.to_municipality).where(h.c.incident_id == incident_id).order_by(h.c.id)
    return [r[0] for r in conn.execute(q)]


def shared_with(conn: Connection, municipality: str) -> set[int]:
    """The incidents handed over to ``municipality`` (from its neighbours)."""
    q = select(h.c.incident_id).where(h.c.to_municipality == municipality)
    return {int(r[0]) for r in conn.execute(q)}


def owner(conn: Connection, incident_id: int) -> tuple[str, str | None] | None:
    """The incident's municipality and assigned agency, or None when there is no such incident."""
    row = conn.execute(
        select(t.incidents.c.municipality, t.incidents.c.assigned_agency).where(
            t.incidents.c.id == incident_id
        )
    ).first()
    return None if row is None else (row[0], row[1])


def agency_cameras(conn: Connection, municipality: str, agency: str) -> set[str]:
    """The cameras linked to the open incidents assigned to ``agency`` in ``municipality``."""
    q = select(t.incidents.c.cameras).where(
        t.incidents.c.municipality == municipality,
        t.incidents.c.assigned_agency == agency,
        t.incidents.c.status.in_([s.value for s in Status if s.is_open]),
    )
    found: set[str] = set()
    for (cameras,) in conn.execute(q):
        found.update(str(c["camera_id"]) for c in cameras or [] if "camera_id" in c)
    return found
