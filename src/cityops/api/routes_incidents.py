"""Incidents: list and filter, one with its timeline, and the operators' actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from cityops.api.deps import Center, Conn, IncidentId, Operator, QueryTime, Runtime
from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import MOVES, Incident, IncidentAction, IncidentError, Status
from cityops.services import incidents as svc
from cityops.services.live import LiveKind, LiveMessage
from cityops.services.views import IncidentDetail, IncidentSummary, detail, load_summary, summary
from cityops.store import incidents_repo as repo
from cityops.store.incidents_repo import IncidentFilter

router = APIRouter(prefix="/api/v1/m/{mid}/incidents", tags=["incidents"])


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        raise HTTPException(422, "bbox must be minlon,minlat,maxlon,maxlat") from None
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
        raise HTTPException(422, "bbox must be minlon,minlat,maxlon,maxlat")
    return parts[0], parts[1], parts[2], parts[3]


@router.get("", response_model=list[IncidentSummary], summary="List and filter incidents")
def list_incidents(
    rt: Runtime,
    conn: Conn,
    status: Annotated[list[Status] | None, Query()] = None,
    sector: Annotated[list[Sector] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    agency: str | None = None,
    type: str | None = None,
    open: bool = False,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    since: QueryTime = None,
    until: QueryTime = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[IncidentSummary]:
    f = IncidentFilter(
        statuses=status or (),
        sectors=sector or (),
        severities=severity or (),
        agency=agency,
        incident_type=type,
        open_only=open,
        bbox=_bbox(bbox),
        since=since,
        until=until,
        limit=limit,
    )
    return [summary(r) for r in repo.list_incidents(conn, rt.id, f)]


@router.get("/{incident_id}", response_model=IncidentDetail, summary="One incident, in full")
def get_incident(rt: Runtime, conn: Conn, incident_id: IncidentId) -> IncidentDetail:
    found = detail(conn, rt, incident_id)
    if found is None:
        raise HTTPException(404, f"incident {incident_id} not found")
    return found


def _write(
    center: Center,
    rt: Runtime,
    incident_id: int,
    operator: str,
    change: Callable[[svc.OperatorContext], Incident],
) -> IncidentDetail:
    """Run one operator action (a typed call of services/incidents.py) in its own transaction,
    then answer with the incident and tell the live feed."""
    try:
        with center.db.begin() as conn:
            change(svc.OperatorContext(conn, rt, incident_id, operator, datetime.now(UTC)))
    except svc.NotFoundError as err:
        raise HTTPException(404, str(err)) from None
    except IncidentError as err:
        raise HTTPException(409, str(err)) from None
    with center.db.connect() as conn:
        found = detail(conn, rt, incident_id)
        brief = load_summary(conn, rt.id, incident_id)
    assert found is not None
    assert brief is not None
    center.live.publish(LiveMessage(rt.id, LiveKind.INCIDENT, brief))
    return found


class NoteBody(BaseModel):
    note: str | None = Field(default=None, max_length=4000)


class CancelBody(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class AssignBody(BaseModel):
    agency: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=4000)


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class SopBody(BaseModel):
    done: bool


@router.post("/{incident_id}/cancel", response_model=IncidentDetail, summary="Cancel (reason)")
def cancel(
    center: Center, rt: Runtime, incident_id: IncidentId, body: CancelBody, operator: Operator
) -> IncidentDetail:
    return _write(
        center,
        rt,
        incident_id,
        operator,
        lambda ctx: svc.act(ctx, action=IncidentAction.CANCEL, note=body.reason),
    )


@router.post("/{incident_id}/assign", response_model=IncidentDetail, summary="Assign an agency")
def assign(
    center: Center, rt: Runtime, incident_id: IncidentId, body: AssignBody, operator: Operator
) -> IncidentDetail:
    return _write(
        center,
        rt,
        incident_id,
        operator,
        lambda ctx: svc.assign(ctx, agency=body.agency, note=body.note),
    )


@router.post("/{incident_id}/notes", response_model=IncidentDetail, summary="Add a note")
def add_note(
    center: Center, rt: Runtime, incident_id: IncidentId, body: TextBody, operator: Operator
) -> IncidentDetail:
    return _write(center, rt, incident_id, operator, lambda ctx: svc.add_note(ctx, text=body.text))


@router.post(
    "/{incident_id}/sop/{step_id}", response_model=IncidentDetail, summary="Tick a SOP step"
)
def tick_sop(
    center: Center,
    rt: Runtime,
    incident_id: IncidentId,
    step_id: Annotated[str, Path(max_length=64)],
    body: SopBody,
    operator: Operator,
) -> IncidentDetail:
    return _write(
        center,
        rt,
        incident_id,
        operator,
        lambda ctx: svc.tick_sop_step(ctx, step_id=step_id, done=body.done),
    )


@router.post(
    "/{incident_id}/{action}",
    response_model=IncidentDetail,
    summary="Move an incident: acknowledge, dispatch, on-scene, resolve, close, reopen",
)
def act(
    center: Center,
    rt: Runtime,
    incident_id: IncidentId,
    action: IncidentAction,
    operator: Operator,
    body: NoteBody | None = None,
) -> IncidentDetail:
    if action not in MOVES:
        raise HTTPException(
            404, f"{action} is not a lifecycle move: POST .../notes, .../assign or .../sop/<step>"
        )
    if action is IncidentAction.CANCEL:
        raise HTTPException(422, 'cancel needs a reason: POST .../cancel {"reason": ...}')
    note = body.note if body else None
    return _write(
        center, rt, incident_id, operator, lambda ctx: svc.act(ctx, action=action, note=note)
    )
