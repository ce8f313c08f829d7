"""Operators share cameras with an agency (issue 9 item 2; docs/AGENCIES.md "Shares").

Every route needs ``shares.manage`` in the path's municipality. A share is made from one of the
municipality's own incidents (its location) or from a point; the answer carries the recipient's
``link`` once (only the token's digest is stored). Extending and revoking are recorded in the
incident's timeline and the audit, as the creation is (services/shares.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import Connection

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Backend, Center, Conn, IncidentId, Runtime
from cityops.api.share_models import (
    AgencyView,
    ExtendBody,
    IncidentShareBody,
    NewShareView,
    PlaceShareBody,
    PurposeView,
    RevokeBody,
    ShareView,
    SharingView,
)
from cityops.domain.access import Permission, Principal
from cityops.domain.entities import LonLat
from cityops.domain.shares import Share, ShareError
from cityops.services import shares as svc
from cityops.services.access_scope import incident_home
from cityops.services.live import LiveKind, LiveMessage
from cityops.services.views import load_summary

__all__ = ["NewShareView", "ShareView", "router"]

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["shares"])

Manager = Annotated[Principal, allow(Permission.SHARES_MANAGE)]
ShareId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The share's number")]
T = TypeVar("T")


def _own_incident(conn: Connection, caller: Principal, mid: str, incident_id: int) -> None:
    """404 unless the incident is one of ``mid``'s own that the caller may see."""
    if incident_home(conn, caller, mid, incident_id, now_utc()) != mid:
        raise HTTPException(404, f"incident {incident_id} not found in {mid}")


def _publish(center: Backend, mid: str, incident_id: int | None) -> None:
    """Tell the consoles the incident changed (its timeline has the share's entry)."""
    if incident_id is None:
        return
    with center.db.connect() as conn:
        brief = load_summary(conn, mid, incident_id)
    if brief is not None:
        center.live.publish(LiveMessage(mid, LiveKind.INCIDENT, brief))


def _change(center: Backend, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one transaction, mapping the service's refusals to HTTP."""
    try:
        with center.db.begin() as conn:
            return work(conn)
    except ShareError as err:
        raise HTTPException(422, err.reason) from None
    except LookupError as err:
        raise HTTPException(404, str(err)) from None


def _create(
    center: Backend,
    rt: Runtime,
    caller: Principal,
    body: IncidentShareBody,
    *,
    incident_id: int | None = None,
    place: LonLat | None = None,
) -> NewShareView:
    now = now_utc()
    policy = rt.config.sharing

    def work(conn: Connection) -> svc.NewShare:
        if incident_id is not None:
            _own_incident(conn, caller, rt.id, incident_id)
        return svc.create(
            conn,
            rt,
            agency=body.agency,
            purpose=body.purpose,
            minutes=body.minutes if body.minutes is not None else policy.default_minutes,
            actor=caller.username,
            now=now,
            public_url=center.settings.public_url,
            incident_id=incident_id,
            place=place,
            radius_m=body.radius_m,
        )

    made = _change(center, work)
    _publish(center, rt.id, incident_id)
    return NewShareView(**ShareView.of(made.share, now).model_dump(), link=made.url)


@router.post(
    "/incidents/{incident_id}/shares",
    status_code=201,
    response_model=NewShareView,
    summary="Share the cameras that see the incident with an agency",
)
def share_incident(
    caller: Manager, center: Center, rt: Runtime, incident_id: IncidentId, body: IncidentShareBody
) -> NewShareView:
    return _create(center, rt, caller, body, incident_id=incident_id)


@router.post(
    "/shares",
    status_code=201,
    response_model=NewShareView,
    summary="Share the cameras that see a point with an agency",
)
def share_place(caller: Manager, center: Center, rt: Runtime, body: PlaceShareBody) -> NewShareView:
    return _create(center, rt, caller, body, place=LonLat(body.lon, body.lat))


@router.get(
    "/incidents/{incident_id}/shares",
    response_model=list[ShareView],
    summary="The incident's shares, with their status",
)
def incident_shares(
    caller: Manager, rt: Runtime, conn: Conn, incident_id: IncidentId
) -> list[ShareView]:
    _own_incident(conn, caller, rt.id, incident_id)
    now = now_utc()
    return [ShareView.of(s, now) for s in svc.for_incident(conn, rt.id, incident_id)]


@router.get("/shares", response_model=list[ShareView], summary="The municipality's shares")
def list_shares(
    caller: Manager,
    rt: Runtime,
    conn: Conn,
    active: Annotated[bool, Query(description="Only those active now")] = False,
) -> list[ShareView]:
    now = now_utc()
    found = svc.active(conn, rt.id, now) if active else svc.listing(conn, rt.id)
    return [ShareView.of(s, now) for s in found]


def _changed(center: Backend, mid: str, work: Callable[[Connection, datetime], Share]) -> ShareView:
    """Run the change ``work`` now, tell the consoles, show the changed share."""
    now = now_utc()
    share = _change(center, lambda conn: work(conn, now))
    _publish(center, mid, share.incident_id)
    return ShareView.of(share, now)


@router.post("/shares/{share_id}/extend", response_model=ShareView, summary="Extend a share")
def extend_share(
    caller: Manager, center: Center, rt: Runtime, share_id: ShareId, body: ExtendBody
) -> ShareView:
    def extend(conn: Connection, now: datetime) -> Share:
        policy = rt.config.sharing
        actor = caller.username
        return svc.extend(
            conn, rt.id, share_id, minutes=body.minutes, actor=actor, now=now, policy=policy
        )

    return _changed(center, rt.id, extend)


@router.post("/shares/{share_id}/revoke", response_model=ShareView, summary="Revoke a share")
def revoke_share(
    caller: Manager, center: Center, rt: Runtime, share_id: ShareId, body: RevokeBody
) -> ShareView:
    def revoke(conn: Connection, now: datetime) -> Share:
        actor = caller.username
        return svc.revoke(conn, rt.id, share_id, actor=actor, now=now, reason=body.reason)

    return _changed(center, rt.id, revoke)


@router.get(
    "/sharing",
    response_model=SharingView,
    summary="What may be shared: purposes, durations, agencies",
)
def sharing(caller: Manager, rt: Runtime) -> SharingView:
    policy = rt.config.sharing
    return SharingView(
        purposes=[
            PurposeView(id=p.id, label=p.label, label_local=p.label_local) for p in policy.purposes
        ],
        default_minutes=policy.default_minutes,
        max_minutes=policy.max_minutes,
        radius_m=policy.radius_m,
        max_radius_m=svc.RADIUS_MAX_M,
        agencies=[
            AgencyView(id=a.id, name=a.name, name_local=a.name_local, kind=str(a.kind))
            for a in rt.config.agencies
        ],
    )


@router.post(
    "/shares/{share_id}/link",
    response_model=NewShareView,
    summary="A new link for an active share (the old link stops working)",
)
def new_link(caller: Manager, center: Center, rt: Runtime, share_id: ShareId) -> NewShareView:
    now = now_utc()
    made = _change(
        center,
        lambda conn: svc.reissue_link(
            conn,
            rt.id,
            share_id,
            actor=caller.username,
            now=now,
            public_url=center.settings.public_url,
        ),
    )
    return NewShareView(**ShareView.of(made.share, now).model_dump(), link=made.url)
