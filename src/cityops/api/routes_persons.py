"""Vulnerable people (issue 9 item 4; docs/AGENCIES.md "SOS of vulnerable people").

The registry needs ``persons.manage``; seeing a person needs ``persons.view`` and every view of
a person's details (guardian contact), photo or track is audited ``person.viewed``. The list
names people but shows no contact. A person's device posts positions and SOS here with
``ingest.write`` (or over MQTT), through the ingest pipeline like any other payload."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Center, Conn, Runtime
from cityops.domain.access import Permission, Principal
from cityops.domain.entities import LonLat
from cityops.domain.persons import Person, PersonError, PersonKind
from cityops.services import persons as svc
from cityops.store import persons_repo

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["persons"])

Manager = Annotated[Principal, allow(Permission.PERSONS_MANAGE)]
Viewer = Annotated[Principal, allow(Permission.PERSONS_VIEW)]
PersonId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The person's number")]
Corner = Annotated[list[float], Field(min_length=2, max_length=2)]


class PersonBody(BaseModel):
    kind: PersonKind
    name: str = Field(min_length=1, max_length=200)
    guardian_name: str = Field(min_length=1, max_length=200)
    guardian_phone: str = Field(min_length=4, max_length=40)
    device_id: str = Field(min_length=1, max_length=64)
    safe_area: list[Corner] = Field(default_factory=list, max_length=200)
    """``[[lon, lat], ...]``, at least 3 corners, or empty (SOS only)."""
    notes: str = Field(default="", max_length=2000)

    def person(self, municipality: str, person_id: int | None = None) -> Person:
        try:
            area = tuple(LonLat(lon, lat) for lon, lat in self.safe_area)
        except ValueError as err:
            raise HTTPException(422, str(err)) from None
        return Person(
            municipality=municipality,
            kind=self.kind,
            name=self.name,
            guardian_name=self.guardian_name,
            guardian_phone=self.guardian_phone,
            device_id=self.device_id,
            safe_area=area,
            notes=self.notes,
            id=person_id,
        )


class PersonBrief(BaseModel):
    """What the list shows: no guardian contact, no notes."""

    id: int
    kind: PersonKind
    name: str
    device_id: str
    has_photo: bool
    safe_area: list[list[float]]


class PersonView(PersonBrief):
    guardian_name: str
    guardian_phone: str
    notes: str
    created_at: datetime | None
    incident_id: int | None
    """The open episode's incident, if any."""

    @classmethod
    def of(cls, conn: Connection, person: Person) -> PersonView:
        assert person.id is not None
        return cls(
            **_brief(person).model_dump(),
            guardian_name=person.guardian_name,
            guardian_phone=person.guardian_phone,
            notes=person.notes,
            created_at=person.created_at,
            incident_id=svc.open_episode(conn, person),
        )


class TrackPointView(BaseModel):
    kind: str
    ts: datetime
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    battery: float | None
    inside: bool | None


def _brief(person: Person) -> PersonBrief:
    assert person.id is not None
    return PersonBrief(
        id=person.id,
        kind=person.kind,
        name=person.name,
        device_id=person.device_id,
        has_photo=person.photo is not None,
        safe_area=[[p.lon, p.lat] for p in person.safe_area],
    )


def _found(conn: Connection, mid: str, person_id: int) -> Person:
    try:
        return svc.get(conn, mid, person_id)
    except svc.NotFoundError as err:
        raise HTTPException(404, str(err)) from None


@router.get("/persons", response_model=list[PersonBrief], summary="Registered people")
def list_persons(caller: Viewer, rt: Runtime, conn: Conn) -> list[PersonBrief]:
    return [_brief(p) for p in persons_repo.list_persons(conn, rt.id)]


@router.post("/persons", status_code=201, response_model=PersonView, summary="Register a person")
def register(caller: Manager, center: Center, rt: Runtime, body: PersonBody) -> PersonView:
    try:
        with center.db.begin() as conn:
            made = svc.register(conn, rt, body.person(rt.id), actor=caller.username, now=now_utc())
            return PersonView.of(conn, made)
    except PersonError as err:
        raise HTTPException(422, str(err)) from None


@router.put("/persons/{person_id}", response_model=PersonView, summary="Change a person")
def change(
    caller: Manager, center: Center, rt: Runtime, person_id: PersonId, body: PersonBody
) -> PersonView:
    try:
        with center.db.begin() as conn:
            _found(conn, rt.id, person_id)
            person = body.person(rt.id, person_id)
            return PersonView.of(
                conn, svc.change(conn, rt, person, actor=caller.username, now=now_utc())
            )
    except PersonError as err:
        raise HTTPException(422, str(err)) from None


@router.delete("/persons/{person_id}", status_code=204, summary="Remove a person and the track")
def remove(caller: Manager, center: Center, rt: Runtime, person_id: PersonId) -> Response:
    with center.db.begin() as conn:
        _found(conn, rt.id, person_id)
        svc.remove(
            conn,
            rt,
            person_id,
            actor=caller.username,
            now=now_utc(),
            data_dir=center.settings.data_dir,
        )
    return Response(status_code=204)


@router.get("/persons/{person_id}", response_model=PersonView, summary="A person (audited)")
def person(caller: Viewer, center: Center, rt: Runtime, person_id: PersonId) -> PersonView:
    with center.db.begin() as conn:
        found = _found(conn, rt.id, person_id)
        svc.viewed(conn, rt.id, found, actor=caller.username, what="details", now=now_utc())
        return PersonView.of(conn, found)


@router.put(
    "/persons/{person_id}/photo",
    response_model=PersonView,
    summary="Replace the person's photo (image/jpeg or image/png body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in svc.PHOTO_TYPES
            },
        }
    },
)
async def put_photo(
    caller: Manager, center: Center, rt: Runtime, person_id: PersonId, request: Request
) -> PersonView:
    declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if declared not in svc.PHOTO_TYPES:
        raise HTTPException(415, "send the photo as image/jpeg or image/png")
    limit = rt.config.persons.photo_max_bytes
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            raise HTTPException(413, f"the photo is larger than {limit} bytes")
    try:
        with center.db.begin() as conn:
            _found(conn, rt.id, person_id)
            changed = svc.set_photo(
                conn,
                rt,
                person_id,
                bytes(data),
                actor=caller.username,
                now=now_utc(),
                data_dir=center.settings.data_dir,
            )
            return PersonView.of(conn, changed)
    except PersonError as err:
        raise HTTPException(422, str(err)) from None


@router.get(
    "/persons/{person_id}/photo.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
    summary="The person's photo (audited)",
)
def photo(
    caller: Viewer,
    center: Center,
    rt: Runtime,
    person_id: PersonId,
    incident: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    with center.db.begin() as conn:
        found = _found(conn, rt.id, person_id)
        if found.photo is None:
            raise HTTPException(404, "no photo")
        path = svc.photo_dir(center.settings.data_dir, rt.id) / found.photo
        if not path.is_file():
            raise HTTPException(404, "no photo")
        svc.viewed(
            conn,
            rt.id,
            found,
            actor=caller.username,
            what="photo",
            now=now_utc(),
            incident_id=incident,
        )
    headers = {"Cache-Control": "no-store, private"}
    return Response(path.read_bytes(), media_type="image/jpeg", headers=headers)


@router.get(
    "/persons/{person_id}/track",
    response_model=list[TrackPointView],
    summary="The person's track, oldest first (audited)",
)
def track(
    caller: Viewer,
    center: Center,
    rt: Runtime,
    person_id: PersonId,
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 6.0,
) -> list[TrackPointView]:
    now = now_utc()
    with center.db.begin() as conn:
        found = _found(conn, rt.id, person_id)
        points = persons_repo.track(conn, rt.id, person_id, now - timedelta(hours=hours))
        svc.viewed(conn, rt.id, found, actor=caller.username, what="track", now=now)
    return track_views(points)


def track_views(points: Iterable[persons_repo.TrackPoint]) -> list[TrackPointView]:
    return [
        TrackPointView(
            kind=p.kind.value,
            ts=p.ts,
            lon=p.position.lon if p.position else None,
            lat=p.position.lat if p.position else None,
            accuracy_m=p.accuracy_m,
            battery=p.battery,
            inside=p.inside,
        )
        for p in points
    ]
