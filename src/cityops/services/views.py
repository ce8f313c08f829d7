"""What the API, the live feed and MQTT show of incidents: one set of public shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Connection

from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import IncidentAction, Status, TimelineKind, allowed_actions
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import incidents_repo as repo
from cityops.store.incidents_repo import IncidentRecord


class Position(BaseModel):
    lon: float
    lat: float


class IncidentSummary(BaseModel):
    id: int
    municipality: str
    type: str
    sector: Sector
    severity: Severity
    status: Status
    actions: list[IncidentAction]
    """What an operator may do now (domain.incident.allowed_actions), in a fixed order."""
    title: str
    title_local: str | None = None
    location: Position | None
    rule_id: str | None
    proposed_agency: str | None
    assigned_agency: str | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    dispatched_at: datetime | None = None
    on_scene_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    event_count: int


class TimelineItem(BaseModel):
    at: datetime
    kind: TimelineKind
    actor: str
    text: str
    from_status: Status | None
    to_status: Status | None
    data: dict[str, str]


class CameraSeeing(BaseModel):
    camera_id: str
    distance_m: float
    bearing_deg: float


class SopStepView(BaseModel):
    id: str
    text: str
    text_local: str | None
    agency: str | None
    done: bool
    done_by: str | None
    done_at: datetime | None


class SopView(BaseModel):
    incident_type: str
    title: str
    title_local: str | None
    steps: list[SopStepView]


class LinkedEvent(BaseModel):
    event_id: str
    kind: str
    source_id: str
    ts: datetime
    zone: str | None


class IncidentDetail(IncidentSummary):
    timeline: list[TimelineItem]
    cameras: list[CameraSeeing]
    sop: SopView | None
    events: list[LinkedEvent]


def summary(record: IncidentRecord) -> IncidentSummary:
    i = record.incident
    assert i.id is not None
    return IncidentSummary(
        id=i.id,
        municipality=i.municipality,
        type=i.type,
        sector=i.sector,
        severity=i.severity,
        status=i.status,
        actions=allowed_actions(i),
        title=i.title,
        title_local=i.title_local,
        location=Position(lon=i.location.lon, lat=i.location.lat) if i.location else None,
        rule_id=i.rule_id,
        proposed_agency=i.proposed_agency,
        assigned_agency=i.assigned_agency,
        created_at=i.created_at,
        updated_at=i.updated_at or i.created_at,
        event_count=record.event_count,
        **record.times,
    )


def detail(conn: Connection, rt: MunicipalityRuntime, incident_id: int) -> IncidentDetail | None:
    record = repo.get_incident(conn, rt.id, incident_id)
    if record is None:
        return None
    i = record.incident
    sop_view = None
    sop = rt.config.sop_for(i.type)
    if sop is not None:
        ticks = repo.sop_ticks(conn, incident_id)
        sop_view = SopView(
            incident_type=sop.incident_type,
            title=sop.title,
            title_local=sop.title_local,
            steps=[
                SopStepView(
                    id=s.id,
                    text=s.text,
                    text_local=s.text_local,
                    agency=s.agency,
                    done=bool(ticks[s.id]["done"]) if s.id in ticks else False,
                    done_by=ticks[s.id]["done_by"] if s.id in ticks else None,
                    done_at=ticks[s.id]["done_at"] if s.id in ticks else None,
                )
                for s in sop.steps
            ],
        )
    return IncidentDetail(
        **summary(record).model_dump(),
        timeline=[
            TimelineItem(
                at=e.at,
                kind=e.kind,
                actor=e.actor,
                text=e.text,
                from_status=e.from_status,
                to_status=e.to_status,
                data=dict(e.data),
            )
            for e in i.timeline
        ],
        cameras=[CameraSeeing(**c) for c in record.cameras],
        sop=sop_view,
        events=[
            LinkedEvent(
                event_id=r["event_id"],
                kind=r["kind"],
                source_id=r["source_id"],
                ts=r["ts"],
                zone=r["zone"],
            )
            for r in repo.linked_events(conn, rt.id, incident_id)
        ],
    )


def load_summary(conn: Connection, municipality: str, incident_id: int) -> IncidentSummary | None:
    record = repo.get_incident(conn, municipality, incident_id, with_timeline=False)
    return summary(record) if record else None
