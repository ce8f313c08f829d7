"""A person's SOS episode (issue 9 item 4; docs/AGENCIES.md "SOS of vulnerable people"): the
devices' positions and SOS over HTTP (``ingest.write``, through the ingest pipeline exactly as
over MQTT), the person of an episode's incident for the operator (``persons.view``, audited),
and the episode forwarded to police as a share (``shares.manage``, origin ``sos``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Center, IncidentId, Pipeline, Runtime
from cityops.api.routes_ingest import _ingest, ingest_client, require_json
from cityops.api.routes_persons import PersonView, TrackPointView, Viewer, track_views
from cityops.api.routes_shares import NewShareView, ShareView
from cityops.domain.access import Permission, Principal
from cityops.domain.persons import Person
from cityops.domain.shares import ShareError
from cityops.services import persons as svc
from cityops.services.access_scope import incident_home
from cityops.services.live import LiveKind, LiveMessage
from cityops.services.views import load_summary
from cityops.store import persons_repo

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["persons"])
_F = TypeVar("_F", bound=Callable[..., Any])


class ForwardBody(BaseModel):
    agency: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=64)
    minutes: float | None = Field(default=None, gt=0, le=7 * 24 * 60)


def _episode(conn: Connection, caller: Principal, mid: str, incident_id: int) -> Person:
    if incident_home(conn, caller, mid, incident_id, now_utc()) != mid:
        raise HTTPException(404, f"incident {incident_id} not found in {mid}")
    try:
        return svc.person_of_incident(conn, mid, incident_id)
    except svc.NotFoundError as err:
        raise HTTPException(404, str(err)) from None


@router.get(
    "/incidents/{incident_id}/person",
    response_model=PersonView,
    summary="The person of an SOS episode: contact and notes (audited)",
)
def incident_person(
    caller: Viewer, center: Center, rt: Runtime, incident_id: IncidentId
) -> PersonView:
    with center.db.begin() as conn:
        found = _episode(conn, caller, rt.id, incident_id)
        svc.viewed(
            conn,
            rt.id,
            found,
            actor=caller.username,
            what="details",
            now=now_utc(),
            incident_id=incident_id,
        )
        return PersonView.of(conn, found)


class EpisodeTrackView(BaseModel):
    person_id: int
    incident_id: int
    points: list[TrackPointView]


@router.get(
    "/incidents/{incident_id}/person/track",
    response_model=EpisodeTrackView,
    summary="The track of an SOS episode's person, oldest first (audited)",
)
def incident_track(
    caller: Viewer,
    center: Center,
    rt: Runtime,
    incident_id: IncidentId,
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 6.0,
) -> EpisodeTrackView:
    """What a console that opens during an episode draws at once (it knows the incident, not
    the person): the person's number and recent track, audited as a view of the track."""
    now = now_utc()
    with center.db.begin() as conn:
        found = _episode(conn, caller, rt.id, incident_id)
        assert found.id is not None
        points = persons_repo.track(conn, rt.id, found.id, now - timedelta(hours=hours))
        svc.viewed(
            conn,
            rt.id,
            found,
            actor=caller.username,
            what="track",
            now=now,
            incident_id=incident_id,
        )
    return EpisodeTrackView(person_id=found.id, incident_id=incident_id, points=track_views(points))


@router.post(
    "/incidents/{incident_id}/person/forward",
    status_code=201,
    response_model=NewShareView,
    summary="Forward the episode to police: a share of its cameras (origin sos)",
)
def forward(
    caller: Annotated[Principal, allow(Permission.SHARES_MANAGE)],
    center: Center,
    rt: Runtime,
    incident_id: IncidentId,
    body: ForwardBody,
) -> NewShareView:
    now = now_utc()
    try:
        with center.db.begin() as conn:
            _episode(conn, caller, rt.id, incident_id)
            made = svc.forward(
                conn,
                rt,
                incident_id,
                actor=caller.username,
                now=now,
                public_url=center.settings.public_url,
                agency=body.agency,
                purpose=body.purpose,
                minutes=body.minutes,
            )
    except ShareError as err:
        raise HTTPException(422, err.reason) from None
    with center.db.connect() as conn:
        brief = load_summary(conn, rt.id, incident_id)
    if brief is not None:
        center.live.publish(LiveMessage(rt.id, LiveKind.INCIDENT, brief))
    return NewShareView(**ShareView.of(made.share, now).model_dump(), link=made.url)


_SIGNAL = {
    "type": "object",
    "properties": {
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "ts": {"description": "ISO 8601 with a zone, or epoch seconds; default: receipt"},
        "accuracy_m": {"type": "number", "minimum": 0},
        "battery": {"type": "number", "minimum": 0, "maximum": 1},
    },
}


def _device_route(kind: str, summary: str) -> Callable[[_F], _F]:
    body = {"requestBody": {"required": True, "content": {"application/json": {"schema": _SIGNAL}}}}
    return router.post(
        f"/persons/{{device}}/{kind}",
        summary=summary,
        openapi_extra=body,
        dependencies=[Depends(require_json), Depends(ingest_client)],
    )


Device = Annotated[str, Path(max_length=64)]


@_device_route("position", "A person's device: its position(s) (docs/MQTT.md); once stored")
async def post_position(rt: Runtime, pipeline: Pipeline, device: Device, request: Request) -> Any:
    return await _ingest(pipeline, f"cityops/{rt.id}/persons/{device}/position", request)


@_device_route("sos", "A person's device: an SOS (docs/MQTT.md); answers once stored")
async def post_sos(rt: Runtime, pipeline: Pipeline, device: Device, request: Request) -> Any:
    return await _ingest(pipeline, f"cityops/{rt.id}/persons/{device}/sos", request)
