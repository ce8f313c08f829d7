"""The public warnings (CAP alerts) in force for a municipality, as the map shows them
(docs/CAP.md). Read from the CAP feed poller's book; empty when the municipality configures no
``public_warnings``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel

from cityops.api.auth import allow
from cityops.domain.access import Permission, Principal
from cityops.ingest.cap_feeds import CapFeedPoller

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["warnings"])

Reader = Annotated[Principal, allow(Permission.INCIDENTS_READ)]


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
            )
        )
    return sorted(views, key=lambda v: v.sent, reverse=True)
