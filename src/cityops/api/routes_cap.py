"""Public warnings out (CAP 1.2, docs/CAP.md): a supervisor publishes a bilingual warning from
an incident (``warnings.publish``); CityOps's CAP feed and messages are public, as public
warnings are (the civil-protection operator of BG-ALERT and anyone else may read them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from cityops.api.auth import allow
from cityops.api.deps import Center, Conn
from cityops.cap.check import check
from cityops.cap.draft import Draft, DraftError, Signer, Text, produce
from cityops.cap.model import Reference
from cityops.cap.publish import CapArchive, Published, atom_feed
from cityops.domain.access import Permission, Principal
from cityops.domain.audit import AuditAction
from cityops.domain.entities import LonLat
from cityops.services import audit
from cityops.services.live import LiveKind, LiveMessage, WarningChange, WarningPayload
from cityops.store import cap_deliveries_repo, incidents_repo

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["public warnings"])
Publisher = Annotated[Principal, allow(Permission.WARNINGS_PUBLISH)]
CAP_XML = "application/cap+xml"


class TextBody(BaseModel):
    event: str = Field(min_length=1, max_length=200)
    headline: str = Field(min_length=1, max_length=160)
    description: str = Field(min_length=1, max_length=4000)
    instruction: str | None = Field(default=None, max_length=4000)
    area: str | None = Field(default=None, max_length=500, description="area description")


class WarningBody(BaseModel):
    incident_id: int = Field(ge=1, le=2**31 - 1, description="the incident warned about")
    msg_type: Literal["Alert", "Update", "Cancel"] = "Alert"
    references: str | None = Field(
        default=None, max_length=200, description="identifier of CityOps's earlier message"
    )
    status: Literal["Actual", "Exercise", "Test"] = "Actual"
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
    expires_in_min: int = Field(ge=5, le=10080)
    radius_m: float = Field(default=500.0, ge=10.0, le=50000.0)
    center: tuple[float, float] | None = Field(
        default=None, description="[lon, lat] of a circle drawn on the map (else the incident's)"
    )
    polygon: list[tuple[float, float]] | None = Field(
        default=None, min_length=4, max_length=500, description="[lon, lat] ring, closed"
    )
    bg: TextBody
    en: TextBody


class PublishedView(BaseModel):
    identifier: str
    msg_type: str
    url: str
    signed: bool
    references: list[str]
    sent_to: list[str]
    """The configured endpoints the message is queued for (``public_warnings.endpoints``)."""


def _archive(center: Center) -> CapArchive:
    return CapArchive(center.settings.data_dir / "cap")


def _signer(center: Center) -> Signer | None:
    s = center.settings
    if s.cap_signing_key is None or s.cap_signing_cert is None:
        return None
    return Signer(s.cap_signing_key.read_bytes(), s.cap_signing_cert.read_bytes())


def _text(lang: str, body: TextBody) -> Text:
    return Text(
        lang, body.event, body.headline, body.description, body.instruction, body.area or ""
    )


@router.post(
    "/cap/messages",
    response_model=PublishedView,
    status_code=201,
    responses={404: {}, 409: {}, 422: {"description": "not a valid CAP 1.2 message: why"}},
)
def publish_warning(
    mid: str,
    body: WarningBody,
    request: Request,
    center: Center,
    conn: Conn,
    caller: Publisher,
) -> PublishedView:
    """Publish a public warning (bg-BG and en-US) about the incident, as a CAP 1.2 message on
    CityOps's CAP feed; an Update or Cancel references CityOps's earlier message."""
    incident_id = body.incident_id
    record = incidents_repo.get_incident(conn, mid, incident_id, with_timeline=False)
    if record is None:
        raise HTTPException(404, f"incident {incident_id} not found")
    incident, archive = record.incident, _archive(center)
    refs: tuple[Reference, ...] = ()
    if body.msg_type != "Alert":
        kept = archive.get(mid, body.references or "")
        earlier = check(kept).alert if kept is not None else None
        found = [earlier] if earlier is not None else []
        if not found:
            raise HTTPException(422, "an Update or Cancel names CityOps's earlier message")
        sent_text = found[0].sent.isoformat().replace("+00:00", "-00:00")
        refs = (Reference(found[0].sender, found[0].identifier, sent_text),)
    if body.center is not None and not (
        -180 <= body.center[0] <= 180 and -90 <= body.center[1] <= 90
    ):
        raise HTTPException(422, "center: [lon, lat] in degrees")
    if body.polygon is None and body.center is None and incident.location is None:
        raise HTTPException(422, "the incident has no position: draw the area")
    now = datetime.now(UTC).replace(microsecond=0)
    identifier = archive.next_identifier(mid, incident_id)
    loc = LonLat(*body.center) if body.center is not None else incident.location
    draft = Draft(
        identifier=identifier,
        sender=center.settings.cap_sender,
        sent=now,
        sector=incident.sector,
        urgency=body.urgency,
        severity=body.severity,
        certainty=body.certainty,
        expires=now + timedelta(minutes=body.expires_in_min),
        texts=(_text("bg-BG", body.bg), _text("en-US", body.en)),
        polygon=tuple((lat, lon) for lon, lat in body.polygon) if body.polygon else (),
        circle=((loc.lat, loc.lon), body.radius_m / 1000.0) if loc and not body.polygon else None,
        status=body.status,
        msg_type=body.msg_type,
        references=refs,
    )
    try:
        data, _ = produce(draft, _signer(center))
    except DraftError as err:
        raise HTTPException(422, str(err)) from None
    try:
        archive.put(mid, identifier, data)
    except FileExistsError:
        raise HTTPException(409, "published at the same moment by someone else: retry") from None
    section = center.runtimes[mid].config.public_warnings if mid in center.runtimes else None
    endpoints = section.endpoints if section else ()
    with center.db.begin() as tx:
        audit.record(
            tx,
            actor=caller.display_name,
            action=AuditAction.EXPORT,
            municipality=mid,
            target=f"incident:{incident_id}",
            detail={"cap": identifier, "msg_type": body.msg_type, "status": body.status},
        )
        cap_deliveries_repo.enqueue(
            tx, mid, incident_id, identifier, body.msg_type, endpoints, caller.display_name, now
        )
    worker = getattr(request.app.state.center, "cap_out", None)
    if worker is not None and endpoints:
        worker.wake()
    where = loc or (LonLat(*body.polygon[0]) if body.polygon else None)
    if where is not None:  # the consoles' warnings layer redraws (CityOps's own warnings on it)
        change = {"Alert": WarningChange.OPENED, "Update": WarningChange.UPDATED}
        payload = WarningPayload(
            change=change.get(body.msg_type, WarningChange.CANCELLED),
            sender=draft.sender[:300],
            identifier=identifier,
            headline=body.en.headline,
            severity=body.severity,
            lon=where.lon,
            lat=where.lat,
            expires=draft.expires,
            signature="published by CityOps",
        )
        center.live.publish(LiveMessage(mid, LiveKind.WARNING, payload))
    url = str(request.url_for("cap_message", mid=mid, identifier=identifier))
    return PublishedView(
        identifier=identifier,
        msg_type=body.msg_type,
        url=url,
        signed=_signer(center) is not None,
        references=[r.identifier for r in refs],
        sent_to=[e.id for e in endpoints],
    )


def _known(center: Center, mid: str) -> None:
    if mid not in center.runtimes:
        raise HTTPException(404, f"unknown municipality {mid!r}")


@router.get(
    "/cap/feed.xml",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
def cap_feed(
    mid: Annotated[str, Path(max_length=64)], request: Request, center: Center
) -> Response:
    """CityOps's CAP feed of this municipality (Atom), newest first. Public."""
    _known(center, mid)
    alerts = _archive(center).alerts(mid)
    items = [
        Published.of(a, str(request.url_for("cap_message", mid=mid, identifier=a.identifier)))
        for a in alerts
    ]
    updated = max((a.sent for a in alerts), default=datetime(2000, 1, 1, tzinfo=UTC))
    feed = atom_feed(
        feed_id=str(request.url),
        title=f"CityOps public warnings: {mid}",
        updated=updated,
        items=items,
    )
    return Response(feed, media_type="application/atom+xml")


@router.get(
    "/cap/{identifier}.xml",
    name="cap_message",
    response_class=Response,
    responses={200: {"content": {CAP_XML: {}}}, 404: {}},
)
def cap_message(
    mid: Annotated[str, Path(max_length=64)],
    identifier: Annotated[str, Path(max_length=200)],
    center: Center,
) -> Response:
    """One CAP message exactly as published. Public."""
    _known(center, mid)
    data = _archive(center).get(mid, identifier)
    if data is None:
        raise HTTPException(404, "no such message")
    return Response(data, media_type=CAP_XML)
