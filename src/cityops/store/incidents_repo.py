"""Incidents with their timelines, linked events and checklist ticks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, update

from cityops.domain.entities import LonLat, Sector, Severity
from cityops.domain.incident import Incident, Status, TimelineEntry, TimelineKind
from cityops.store import tables as t
from cityops.store.sql import insert_ignore, upsert
from cityops.store.tables_access import incident_handovers

_STATUS_TIME_COLUMN = {
    Status.ACKNOWLEDGED: "acknowledged_at",
    Status.DISPATCHED: "dispatched_at",
    Status.ON_SCENE: "on_scene_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
    Status.CANCELLED: "closed_at",
}


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    statuses: Sequence[Status] = ()
    sectors: Sequence[Sector] = ()
    severities: Sequence[Severity] = ()
    agency: str | None = None
    open_only: bool = False
    bbox: tuple[float, float, float, float] | None = None
    since: datetime | None = None
    until: datetime | None = None
    incident_type: str | None = None
    limit: int = 500
    assigned_to: str | None = None
    """Only the incidents assigned to this agency (a liaison's view); no hand-overs then."""
    with_handovers: bool = True
    """Also the incidents neighbours handed over to this municipality."""


@dataclass(slots=True)
class IncidentRecord:
    """An incident row with what the API shows beside the domain object."""

    incident: Incident
    cameras: list[dict[str, Any]] = field(default_factory=list)
    event_count: int = 0
    times: dict[str, datetime | None] = field(default_factory=dict)


def _to_record(row: RowMapping) -> IncidentRecord:
    location = (
        LonLat(row["lon"], row["lat"])
        if row["lon"] is not None and row["lat"] is not None
        else None
    )
    incident = Incident(
        id=row["id"],
        municipality=row["municipality"],
        type=row["type"],
        sector=Sector(row["sector"]),
        severity=Severity(row["severity"]),
        title=row["title"],
        title_local=row["title_local"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        location=location,
        status=Status(row["status"]),
        rule_id=row["rule_id"],
        dedup_key=row["dedup_key"],
        proposed_agency=row["proposed_agency"],
        assigned_agency=row["assigned_agency"],
    )
    return IncidentRecord(
        incident=incident,
        cameras=list(row["cameras"] or []),
        event_count=row["event_count"],
        times={c: row[c] for c in set(_STATUS_TIME_COLUMN.values())},
    )


def insert_incident(conn: Connection, incident: Incident, cameras: list[dict[str, Any]]) -> int:
    result = conn.execute(
        t.incidents.insert().values(
            municipality=incident.municipality,
            type=incident.type,
            sector=incident.sector.value,
            severity=incident.severity.value,
            status=incident.status.value,
            title=incident.title,
            title_local=incident.title_local,
            lon=incident.location.lon if incident.location else None,
            lat=incident.location.lat if incident.location else None,
            rule_id=incident.rule_id,
            dedup_key=incident.dedup_key,
            proposed_agency=incident.proposed_agency,
            assigned_agency=incident.assigned_agency,
            created_at=incident.created_at,
            updated_at=incident.updated_at or incident.created_at,
            cameras=cameras,
            event_count=0,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    incident.id = int(key[0])
    for entry in incident.timeline:
        add_timeline(conn, incident, entry)
    return incident.id


def find_open_by_dedup(conn: Connection, municipality: str, dedup_key: str) -> int | None:
    found = conn.execute(
        select(t.incidents.c.id).where(
            t.incidents.c.municipality == municipality,
            t.incidents.c.dedup_key == dedup_key,
            t.incidents.c.status.in_([s.value for s in Status if s.is_open]),
        )
    ).scalar()
    return int(found) if found is not None else None


def get_incident(
    conn: Connection, municipality: str, incident_id: int, *, with_timeline: bool = True
) -> IncidentRecord | None:
    row = (
        conn.execute(
            select(t.incidents).where(
                t.incidents.c.municipality == municipality, t.incidents.c.id == incident_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    record = _to_record(row)
    if with_timeline:
        tl = conn.execute(
            select(t.incident_timeline)
            .where(t.incident_timeline.c.incident_id == incident_id)
            .order_by(t.incident_timeline.c.id)
        ).mappings()
        record.incident.timeline = [
            TimelineEntry(
                at=r["at"],
                kind=TimelineKind(r["kind"]),
                actor=r["actor"],
                text=r["text"],
                from_status=Status(r["from_status"]) if r["from_status"] else None,
                to_status=Status(r["to_status"]) if r["to_status"] else None,
                data=dict(r["data"] or {}),
            )
            for r in tl
        ]
    return record


def list_incidents(conn: Connection, municipality: str, f: IncidentFilter) -> list[IncidentRecord]:
    c = t.incidents.c
    here = c.municipality == municipality
    if f.assigned_to is not None:
        q = select(t.incidents).where(here, c.assigned_agency == f.assigned_to)
    elif f.with_handovers:
        h = incident_handovers.c
        shared = select(h.incident_id).where(h.to_municipality == municipality)
        q = select(t.incidents).where(here | c.id.in_(shared))
    else:
        q = select(t.incidents).where(here)
    if f.statuses:
        q = q.where(c.status.in_([s.value for s in f.statuses]))
    if f.open_only:
        q = q.where(c.status.in_([s.value for s in Status if s.is_open]))
    if f.sectors:
        q = q.where(c.sector.in_([s.value for s in f.sectors]))
    if f.severities:
        q = q.where(c.severity.in_([s.value for s in f.severities]))
    if f.agency:
        q = q.where((c.assigned_agency == f.agency) | (c.proposed_agency == f.agency))
    if f.incident_type:
        q = q.where(c.type == f.incident_type)
    if f.bbox:
        minlon, minlat, maxlon, maxlat = f.bbox
        q = q.where(c.lon.between(minlon, maxlon), c.lat.between(minlat, maxlat))
    if f.since:
        q = q.where(c.created_at >= f.since)
    if f.until:
        q = q.where(c.created_at < f.until)
    q = q.order_by(c.created_at.desc(), c.id.desc()).limit(f.limit)
    return [_to_record(r) for r in conn.execute(q).mappings()]


def save_incident(
    conn: Connection, incident: Incident, new_entries: Sequence[TimelineEntry]
) -> None:
    """Write the incident's mutable fields and append ``new_entries`` to its timeline."""
    assert incident.id is not None
    values: dict[str, Any] = {
        "status": incident.status.value,
        "assigned_agency": incident.assigned_agency,
        "updated_at": incident.updated_at or incident.created_at,
        "severity": incident.severity.value,
    }
    for entry in new_entries:
        if entry.kind is TimelineKind.STATUS and entry.to_status is not None:
            values[_STATUS_TIME_COLUMN[entry.to_status]] = entry.at
        add_timeline(conn, incident, entry)
    conn.execute(update(t.incidents).where(t.incidents.c.id == incident.id).values(**values))


def add_timeline(conn: Connection, incident: Incident, entry: TimelineEntry) -> None:
    conn.execute(
        t.incident_timeline.insert().values(
            incident_id=incident.id,
            municipality=incident.municipality,
            at=entry.at,
            kind=entry.kind.value,
            actor=entry.actor,
            text=entry.text,
            from_status=entry.from_status.value if entry.from_status else None,
            to_status=entry.to_status.value if entry.to_status else None,
            data=dict(entry.data),
        )
    )


def touch(conn: Connection, incident_id: int, at: datetime) -> None:
    conn.execute(update(t.incidents).where(t.incidents.c.id == incident_id).values(updated_at=at))


def link_events(
    conn: Connection, municipality: str, incident_id: int, event_ids: Sequence[str]
) -> None:
    if not event_ids:
        return
    insert_ignore(
        conn,
        t.incident_events,
        [
            {"incident_id": incident_id, "event_id": e, "municipality": municipality}
            for e in event_ids
        ],
    )
    count = conn.execute(
        select(func.count()).where(t.incident_events.c.incident_id == incident_id)
    ).scalar_one()
    conn.execute(
        update(t.incidents).where(t.incidents.c.id == incident_id).values(event_count=count)
    )


def linked_events(conn: Connection, municipality: str, incident_id: int) -> list[RowMapping]:
    q = (
        select(t.events)
        .join(
            t.incident_events,
            (t.incident_events.c.event_id == t.events.c.event_id)
            & (t.incident_events.c.municipality == t.events.c.municipality),
        )
        .where(
            t.incident_events.c.incident_id == incident_id,
            t.events.c.municipality == municipality,
        )
        .order_by(t.events.c.ts)
    )
    return list(conn.execute(q).mappings())


def sop_ticks(conn: Connection, incident_id: int) -> dict[str, RowMapping]:
    rows = conn.execute(
        select(t.incident_sop_steps).where(t.incident_sop_steps.c.incident_id == incident_id)
    ).mappings()
    return {r["step_id"]: r for r in rows}


def set_sop_tick(
    conn: Connection,
    municipality: str,
    incident_id: int,
    step_id: str,
    *,
    done: bool,
    actor: str,
    at: datetime,
) -> None:
    upsert(
        conn,
        t.incident_sop_steps,
        [
            {
                "incident_id": incident_id,
                "step_id": step_id,
                "municipality": municipality,
                "done": done,
                "done_by": actor,
                "done_at": at,
            }
        ],
        ["incident_id", "step_id"],
    )
