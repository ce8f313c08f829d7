"""The public warnings (CAP alerts) in force for a municipality, as the map shows them
(docs/CAP.md). Read from the CAP feed poller's book; empty when the municipality configures no
``public_warnings``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from cityops.api.auth import allow
from cityops.api.deps import Backend, Center, Conn
from cityops.cap.model import Alert
from cityops.cap.publish import CapArchive, in_force
from cityops.domain.access import Permission, Principal
from cityops.domain.entities import LonLat
from cityops.ingest.cap_feeds import CapFeedPoller
from cityops.store import cap_deliveries_repo, incidents_repo

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["warnings"])

Reader = Annotated[Principal, allow(Permission.INCIDENTS_READ)]
Pusher = Annotated[Principal, allow(Permission.INGEST_WRITE)]
CAP_XML = "application/cap+xml"


class CircleView(BaseModel):
    lon: float
    lat: float
    radius_m: float


class WarningView(BaseModel):
    sender: str
    identifier: str
    msg_type: str
    status: str
    sent: datetime
    expires: datetime | None
    event: str
    severity: str
    urgency: str
    certainty: str
    headline: str
    lon: float
    lat: float
    replaces: list[str]
    """Identifiers of the messages this one updated."""
    signature: str
    """The alert's XML signature as checked: ``valid (untrusted): signed by ...``, ``invalid:
    why``, or ``absent``."""
    polygons: list[list[tuple[float, float]]]
    """The alert's drawn areas (its first info block's), ``[lon, lat]`` rings, for the map."""
    circles: list[CircleView]
    own: bool = False
    """Published by CityOps itself (from an incident), not received."""


def _shapes(alert: Alert) -> tuple[list[list[tuple[float, float]]], list[CircleView]]:
    areas = alert.infos[0].areas if alert.infos else ()
    polygons = [[(lon, lat) for lat, lon in ring] for a in areas for ring in a.polygons]
    circles = [
        CircleView(lon=c.center[1], lat=c.center[0], radius_m=c.radius_km * 1000.0)
        for a in areas
        for c in a.circles
    ]
    return polygons, circles


def _view(
    alert: Alert, where: LonLat, replaces: list[str], signature: str, own: bool
) -> WarningView:
    info = alert.infos[0]
    polygons, circles = _shapes(alert)
    return WarningView(
        sender=alert.sender,
        identifier=alert.identifier,
        msg_type=alert.msg_type,
        status=alert.status,
        sent=alert.sent,
        expires=alert.expires(),
        event=info.event,
        severity=info.severity,
        urgency=info.urgency,
        certainty=info.certainty,
        headline=info.headline or info.event,
        lon=where.lon,
        lat=where.lat,
        replaces=replaces,
        signature=signature,
        polygons=polygons,
        circles=circles,
        own=own,
    )


def _own(center: Backend, mid: str) -> list[WarningView]:
    """CityOps's own messages in force here, placed at their circle's centre or their first
    polygon's mean point."""
    views = []
    alerts = CapArchive(center.settings.data_dir / "cap").alerts(mid, f"cityops.{mid}.")
    for alert in in_force(alerts, datetime.now(UTC)):
        polygons, circles = _shapes(alert)
        if circles:
            where = LonLat(circles[0].lon, circles[0].lat)
        elif polygons:
            ring = polygons[0][:-1] or polygons[0]
            where = LonLat(sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
        else:
            continue
        replaces = [r.identifier for r in alert.references]
        views.append(_view(alert, where, replaces, "published by CityOps", own=True))
    return views


@router.get("/warnings", response_model=list[WarningView])
def list_warnings(mid: str, request: Request, center: Center, _: Reader) -> list[WarningView]:
    """The warnings in force here, newest first: those received (feeds, pushes, MQTT) and
    CityOps's own (``own``)."""
    poller = getattr(request.app.state.center, "cap_feeds", None)
    book = poller.book(mid) if isinstance(poller, CapFeedPoller) else None
    views = [
        _view(w.alert, w.position, [i for _, i in w.replaces], w.signature, own=False)
        for w in (book.active.values() if book is not None else ())
    ]
    views += _own(center, mid)
    return sorted(views, key=lambda v: v.sent, reverse=True)


class DeliveryView(BaseModel):
    endpoint: str
    kind: str
    status: str
    """pending, retrying, sent or failed (every try used: reach the operator another way)."""
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class OwnMessageView(BaseModel):
    identifier: str
    msg_type: str
    status: str
    sent: datetime
    expires: datetime | None
    headline: str
    references: list[str]
    in_force: bool
    """Neither cancelled, replaced by a later message, nor expired: the one to update or
    cancel."""
    url: str
    deliveries: list[DeliveryView]


@router.get("/incidents/{incident_id}/cap", response_model=list[OwnMessageView])
def incident_messages(
    mid: str,
    incident_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    center: Center,
    conn: Conn,
    _: Reader,
) -> list[OwnMessageView]:
    """CityOps's own CAP messages about the incident, oldest first, each with its deliveries
    to the configured endpoints."""
    if incidents_repo.get_incident(conn, mid, incident_id, with_timeline=False) is None:
        raise HTTPException(404, f"incident {incident_id} not found")
    prefix = f"cityops.{mid}.incident-{incident_id}."
    alerts = CapArchive(center.settings.data_dir / "cap").alerts(mid, prefix)
    alerts.sort(key=lambda a: (a.sent, int(a.identifier.rsplit(".", 1)[1])))
    replaced = {r.identifier for a in alerts for r in a.references}
    sent: dict[str, list[DeliveryView]] = {}
    for d in cap_deliveries_repo.for_incident(conn, mid, incident_id):
        sent.setdefault(d.identifier, []).append(
            DeliveryView(
                endpoint=d.endpoint,
                kind=d.kind.value,
                status=d.status.value,
                attempts=d.attempts,
                last_error=d.last_error,
                sent_at=d.sent_at,
            )
        )
    now = datetime.now(UTC)
    return [
        OwnMessageView(
            identifier=a.identifier,
            msg_type=a.msg_type,
            status=a.status,
            sent=a.sent,
            expires=(ends := a.expires()),
            headline=(a.infos[0].headline or a.infos[0].event) if a.infos else a.identifier,
            references=[r.identifier for r in a.references],
            in_force=a.msg_type != "Cancel"
            and a.identifier not in replaced
            and (ends is None or ends > now),
            url=str(request.url_for("cap_message", mid=mid, identifier=a.identifier)),
            deliveries=sent.get(a.identifier, []),
        )
        for a in alerts
    ]


class CapAccepted(BaseModel):
    valid: bool
    reasons: list[str]
    signature: str | None
    """valid, invalid or absent; null when the document was refused unread."""
    signature_detail: str | None
    submitted: int
    """Events submitted to the pipeline (0: nothing new here, or not for this municipality)."""


@router.post(
    "/cap/alerts",
    response_model=CapAccepted,
    openapi_extra={
        "requestBody": {"required": True, "content": {CAP_XML: {"schema": {"type": "string"}}}}
    },
    responses={415: {"description": "send the alert as application/cap+xml"}},
)
async def push_alert(mid: str, request: Request, _: Pusher) -> CapAccepted:
    """A CAP 1.2 alert pushed to CityOps (a file, another system): checked like a polled one
    and, when it concerns this municipality, applied. 422 when it is not a valid alert."""
    declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if declared not in {CAP_XML, "application/xml"}:
        raise HTTPException(415, "send the alert as application/cap+xml")
    poller = getattr(request.app.state.center, "cap_feeds", None)
    if not isinstance(poller, CapFeedPoller):
        raise HTTPException(503, "public warnings are not running")
    data = await request.body()
    verdict, submitted = await run_in_threadpool(poller.accept, data, mid)
    sig = verdict.signature
    answer = CapAccepted(
        valid=verdict.valid,
        reasons=list(verdict.reasons),
        signature=sig.status if sig else None,
        signature_detail=sig.detail if sig else None,
        submitted=submitted,
    )
    if not verdict.valid:
        raise HTTPException(422, answer.model_dump())
    return answer
