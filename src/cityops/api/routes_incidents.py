"""Incidents: list and filter, one with its timeline, and the operators' actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Center, Conn, IncidentId, QueryTime, Runtime
from cityops.domain.access import Permission, Principal
from cityops.domain.audit import AuditAction
from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import MOVES, Incident, IncidentAction, IncidentError, Status
from cityops.services import audit
from cityops.services import incidents as svc
from cityops.services.access_scope import incident_home
from cityops.services.live import LiveKind, LiveMessage
from cityops.services.views import IncidentDetail, IncidentSummary, detail, load_summary, summary
from cityops.store import incidents_repo as repo
from cityops.store.incidents_repo import IncidentFilter

router = APIRouter(prefix="/api/v1/m/{mid}/incidents", tags=["incidents"])

Reader = Annotated[Principal, allow(Permission.INCIDENTS_READ)]
Actor = Annotated[Principal, allow(Permission.INCIDENTS_ACT)]
Noter = Annotated[Principal, allow(Permission.INCIDENTS_NOTE)]
Handing = Annotated[Principal, allow(Permission.INCIDENTS_HANDOVER)]


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
    caller: Reader,
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
    if caller.limited(rt.id, now_utc()):  # a liaison: its agency's incidents only
        f = replace(f, assigned_to=caller.agency_scope(rt.id, now_utc()) or "")
    return [_for(caller, rt.id, summary(r)) for r in repo.list_incidents(conn, rt.id, f)]


S = TypeVar("S", bound=IncidentSummary)


def _for(caller: Principal, mid: str, shown: S) -> S:
    """``actions`` as the caller may use them from ``mid``: none without incidents.act but a
    note with incidents.note, and only notes on an incident handed over from a neighbour."""
    now = now_utc()
    may_act = shown.municipality == mid and caller.can(mid, Permission.INCIDENTS_ACT, now)
    may_note = caller.can(mid, Permission.INCIDENTS_NOTE, now)
    shown.actions = [a for a in shown.actions if may_act or (may_note and a is IncidentAction.NOTE)]
    return shown


def _home(center: Center, conn: Connection, caller: Principal, mid: str, incident_id: int) -> str:
    """The incident's own municipality, if the caller sees it from ``mid``; else 404."""
    home = incident_home(conn, caller, mid, incident_id, now_utc())
    if home is None or home not in center.runtimes:
        raise HTTPException(404, f"incident {incident_id} not found")
    return home


@router.get("/{incident_id}", response_model=IncidentDetail, summary="One incident, in full")
def get_incident(
    caller: Reader, center: Center, rt: Runtime, conn: Conn, incident_id: IncidentId
) -> IncidentDetail:
    home = _home(center, conn, caller, rt.id, incident_id)
    found = detail(conn, center.runtimes[home], incident_id)
    if found is None:
        raise HTTPException(404, f"incident {incident_id} not found")
    return _for(caller, rt.id, found)


class HandoverBody(BaseModel):
    to: str = Field(min_length=1, max_length=64, description="The neighbouring municipality")
    reason: str = Field(min_length=1, max_length=4000)


def _write(
    center: Center,
    rt: Runtime,
    incident_id: int,
    caller: Principal,
    what: str,
    change: Callable[[svc.OperatorContext], Incident],
    *,
    neighbour_may: bool = False,
    handover: HandoverBody | None = None,
) -> IncidentDetail:
    """Run one operator action (a typed call of services/incidents.py) in its own transaction,
    audited there, then answer with the incident and tell the live feed. The timeline names the
    logged-in account. A neighbour an incident was handed over to may only add notes. A
    hand-over is audited in both municipalities' chains, in the same transaction."""
    now = now_utc()
    try:
        with center.db.begin() as conn:
            home = _home(center, conn, caller, rt.id, incident_id)
            if home != rt.id and not neighbour_may:
                raise IncidentError(f"handed over from {home}: only {home} moves it; add a note")
            home_rt = center.runtimes[home]
            change(svc.OperatorContext(conn, home_rt, incident_id, caller.display_name, now))
            for chain in (home, handover.to) if handover else (home,):
                audit.record(
                    conn,
                    actor=caller.username,
                    action=AuditAction.INCIDENT_HANDOVER
                    if handover
                    else AuditAction.INCIDENT_ACTION,
                    municipality=chain,
                    target=f"incident:{incident_id}",
                    reason=handover.reason if handover else None,
                    detail={"action": what, "from": rt.id}
                    | ({"to": handover.to} if handover else {}),
                    at=now,
                )
    except svc.NotFoundError as err:
        raise HTTPException(404, str(err)) from None
    except IncidentError as err:
        raise HTTPException(409, str(err)) from None
    with center.db.connect() as conn:
        found = detail(conn, home_rt, incident_id)
        brief = load_summary(conn, home, incident_id)
    assert found is not None
    assert brief is not None
    center.live.publish(LiveMessage(home, LiveKind.INCIDENT, brief))
    return _for(caller, rt.id, found)


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
    caller: Actor, center: Center, rt: Runtime, incident_id: IncidentId, body: CancelBody
) -> IncidentDetail:
    return _write(
        center,
        rt,
        incident_id,
        caller,
        "cancel",
        lambda ctx: svc.act(ctx, action=IncidentAction.CANCEL, note=body.reason),
    )


@router.post("/{incident_id}/assign", response_model=IncidentDetail, summary="Assign an agency")
def assign(
    caller: Actor, center: Center, rt: Runtime, incident_id: IncidentId, body: AssignBody
) -> IncidentDetail:
    return _write(
        center,
        rt,
        incident_id,
        caller,
        "assign",
        lambda ctx: svc.assign(ctx, agency=body.agency, note=body.note),
    )


@router.post("/{incident_id}/notes", response_model=IncidentDetail, summary="Add a note")
def add_note(
    caller: Noter, center: Center, rt: Runtime, incident_id: IncidentId, body: TextBody
) -> IncidentDetail:
    def change(ctx: svc.OperatorContext) -> Incident:
        return svc.add_note(ctx, text=body.text)

    return _write(center, rt, incident_id, caller, "note", change, neighbour_may=True)


@router.post(
    "/{incident_id}/handover",
    response_model=IncidentDetail,
    summary="Hand over to a neighbouring municipality (it then sees the incident)",
)
def hand_over(
    caller: Handing, center: Center, rt: Runtime, incident_id: IncidentId, body: HandoverBody
) -> IncidentDetail:
    if body.to not in center.runtimes or body.to == rt.id:
        raise HTTPException(422, f"{body.to!r} is not a neighbouring municipality here")
    found = _write(
        center,
        rt,
        incident_id,
        caller,
        "handover",
        lambda ctx: svc.hand_over(ctx, to=body.to, reason=body.reason),
        handover=body,
    )
    with center.db.connect() as conn:
        brief = load_summary(conn, rt.id, incident_id)
    assert brief is not None
    center.live.publish(LiveMessage(body.to, LiveKind.INCIDENT, brief))
    return found


@router.post(
    "/{incident_id}/sop/{step_id}", response_model=IncidentDetail, summary="Tick a SOP step"
)
def tick_sop(
    center: Center,
    rt: Runtime,
    incident_id: IncidentId,
    step_id: Annotated[str, Path(max_length=64)],
    body: SopBody,
    caller: Actor,
) -> IncidentDetail:
    return _write(
        center,
        rt,
        incident_id,
        caller,
        "sop",
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
    caller: Actor,
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
        center,
        rt,
        incident_id,
        caller,
        action.value,
        lambda ctx: svc.act(ctx, action=action, note=note),
    )
