"""The public warnings (CAP alerts) in force for a municipality, as the map shows them
(docs/CAP.md). Read from the CAP feed poller's book; empty when the municipality configures no
``public_warnings``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from cityops.api.auth import allow
from cityops.domain.access import Permission, Principal
from cityops.ingest.cap_feeds import CapFeedPoller

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["warnings"])

Reader = Annotated[Principal, allow(Permission.INCIDENTS_READ)]
Pusher = Annotated[Principal, allow(Permission.INGEST_WRITE)]
CAP_XML = "application/cap+xml"


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


@router.get("/warnings", response_model=list[WarningView])
def list_warnings(mid: str, request: Request, _: Reader) -> list[WarningView]:
    """The warnings in force here, newest first."""
    poller = getattr(request.app.state.center, "cap_feeds", None)
    book = poller.book(mid) if isinstance(poller, CapFeedPoller) else None
    if book is None:
        return []
    views = []
    for warning in book.active.values():
        alert = warning.alert
        info = alert.infos[0]
        views.append(
            WarningView(
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
                lon=warning.position.lon,
                lat=warning.position.lat,
                replaces=[identifier for _, identifier in warning.replaces],
                signature=warning.signature,
            )
        )
    return sorted(views, key=lambda v: v.sent, reverse=True)


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
