"""Location requests from agency systems (issue 9 item 3; docs/AGENCIES.md "Location requests").

An agency's system posts a place, a type and its own case number (over HTTP with a liaison's
token, api/routes_agency.py, or over MQTT, bus/agency_mqtt.py); :func:`handle` checks it against
the municipality's ``sharing.requests``, opens the linked incident through a synthetic trigger
(the same case again joins the open incident), shares the cameras that see the place with the
agency (services/shares.py, origin ``request``) and answers with the link. The incident, the
share, its timeline entries and the audit records commit in one transaction; every outcome is
counted by reason (:data:`COUNTS`, in /api/v1/metrics)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from shapely import Point, Polygon
from shapely.prepared import PreparedGeometry, prep
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cityops.domain import agency_requests as dom
from cityops.domain.agency_requests import (
    AgencyRequestPolicy,
    LocationRequest,
    Refusal,
    RequestRefusedError,
)
from cityops.domain.audit import AuditAction
from cityops.domain.entities import LonLat
from cityops.domain.rules import Trigger, TriggerKind
from cityops.domain.shares import NewShare, ShareError, ShareOrigin
from cityops.services import audit, shares
from cityops.services.agency_payload import RequestAnswer, decode_request
from cityops.services.incidents import IncidentChange, apply_trigger
from cityops.services.live import LiveBus, LiveKind, LiveMessage
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.views import load_summary

log = logging.getLogger(__name__)

ANSWERED = "answered"


class RequestCounter:
    """Requests by outcome: ``answered`` or a refusal's reason; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


COUNTS = RequestCounter()
"""The process's location requests by outcome (HTTP and MQTT together)."""


@dataclass(frozen=True, slots=True)
class Requester:
    """Who sent a request: ``agency`` as its credential says (a liaison membership's agency, or
    the MQTT topic its credential may publish on), how, and as whom it is audited."""

    agency: str
    via: str
    """``http`` or ``mqtt``."""
    actor: str


@lru_cache(maxsize=32)
def _outline(boundary: tuple[LonLat, ...]) -> PreparedGeometry:
    return prep(Polygon([(p.lon, p.lat) for p in boundary]))


def inside(rt: MunicipalityRuntime, place: LonLat, within_km: float) -> bool:
    """Inside the municipality: within ``public_warnings.boundary`` when it is configured, else
    no farther than ``within_km`` from its centre."""
    warnings = rt.config.public_warnings
    if warnings is not None:
        return bool(_outline(warnings.boundary).covers(Point(place.lon, place.lat)))
    center = rt.config.municipality.center or rt.projection.center
    return dom.distance_km(center, place) <= within_km


def check(rt: MunicipalityRuntime, request: LocationRequest, agency: str) -> AgencyRequestPolicy:
    """The agency's policy if it may make this request here; else RequestRefusedError."""
    if request.agency is not None and request.agency != agency:
        raise RequestRefusedError(
            Refusal.WRONG_AGENCY,
            f"the request names agency {request.agency!r}, the credential is {agency!r}'s",
        )
    configured = rt.config.sharing.requests
    policy = configured.policy_of(agency) if configured is not None else None
    if configured is None or policy is None:
        raise RequestRefusedError(
            Refusal.AGENCY_NOT_ALLOWED, f"agency {agency!r} may not send location requests here"
        )
    if request.type not in policy.types:
        raise RequestRefusedError(
            Refusal.UNKNOWN_TYPE,
            f"type {request.type!r} is not one {agency} may request here "
            f"(allowed: {', '.join(policy.types)})",
        )
    if not inside(rt, request.place, configured.within_km):
        raise RequestRefusedError(
            Refusal.OUTSIDE,
            f"({request.place.lon}, {request.place.lat}) is outside {rt.config.municipality.name}",
        )
    return policy


def _trigger(
    rt: MunicipalityRuntime, request: LocationRequest, policy: AgencyRequestPolicy, now: datetime
) -> Trigger:
    purpose = rt.config.sharing.purpose(request.type)
    label = purpose.label if purpose else request.type
    text = (
        f"{policy.agency} location request, case {request.case}: {label} "
        f"at {request.place.lat:.6f}, {request.place.lon:.6f}"
    ) + (f" ({request.note})" if request.note else "")
    return Trigger(
        rule_id=dom.RULE_ID,
        municipality=rt.id,
        kind=TriggerKind.RAISED,
        at=now,
        dedup_key=dom.dedup_key(policy.agency, request.case),
        subject=f"{policy.agency}:{request.case}",
        outcome=dom.outcome(policy, request, label, purpose.label_local if purpose else None),
        text=text,
        location=request.place,
    )


def serve(
    conn: Connection,
    rt: MunicipalityRuntime,
    request: LocationRequest,
    who: Requester,
    *,
    now: datetime,
    public_url: str,
) -> tuple[IncidentChange, NewShare]:
    """Check, open or join the incident, share, audit: in the caller's transaction."""
    policy = check(rt, request, who.agency)
    change = apply_trigger(conn, rt, _trigger(rt, request, policy, now), now)
    assert change is not None  # a raised trigger always opens or joins
    try:
        made = shares.create(
            conn,
            rt,
            agency=who.agency,
            purpose=request.type,
            minutes=policy.minutes or rt.config.sharing.default_minutes,
            actor=who.actor,
            now=now,
            public_url=public_url,
            incident_id=change.incident_id,
            place=request.place,
            radius_m=policy.radius_m,
            origin=ShareOrigin.REQUEST,
        )
    except ShareError as err:
        raise RequestRefusedError(Refusal.SHARE_REFUSED, err.reason) from None
    audit.record(
        conn,
        actor=who.actor,
        action=AuditAction.AGENCY_REQUEST,
        municipality=rt.id,
        target=f"incident:{change.incident_id}",
        detail={
            "agency": who.agency,
            "case": request.case,
            "type": request.type,
            "via": who.via,
            "lon": request.place.lon,
            "lat": request.place.lat,
            "incident_created": change.created,
            "share": made.share.id,
            "cameras": list(made.share.cameras),
        },
        at=now,
    )
    return change, made


def _refused(db: Engine, rt: MunicipalityRuntime, who: Requester, err: RequestRefusedError) -> None:
    """A refusal is counted, logged and audited (who tried what); never raises."""
    COUNTS.add(err.reason.value)
    # repr: the agency may come from an MQTT topic, the message quotes the request (no forged lines)
    log.info("location request from %r refused (%s): %r", who.agency, err.reason, err.message)
    if err.reason in (Refusal.UNAVAILABLE, Refusal.TOO_LARGE, Refusal.MALFORMED):
        return  # nothing worth a record, or the database is what failed
    try:
        with db.begin() as conn:
            audit.record(
                conn,
                actor=who.actor,
                action=AuditAction.AGENCY_REQUEST,
                municipality=rt.id,
                detail={"agency": who.agency, "via": who.via, "refused": err.reason.value},
                reason=err.message,
            )
    except SQLAlchemyError:
        log.exception("could not audit a refused location request")


def handle(
    db: Engine,
    rt: MunicipalityRuntime,
    live: LiveBus,
    body: bytes,
    who: Requester,
    *,
    public_url: str,
    clock: Callable[[], datetime],
    received: float | None = None,
) -> RequestAnswer:
    """Decode and serve one request in its own transaction, then tell the live feed. Raises
    RequestRefusedError (counted, and audited unless malformed) for anything not served.
    ``received``: the ``time.perf_counter()`` of its arrival (the answer's ``answered_ms``)."""
    start = time.perf_counter() if received is None else received
    try:
        request = decode_request(body)
        for attempt in (1, 2):
            try:
                with db.begin() as conn:
                    change, made = serve(conn, rt, request, who, now=clock(), public_url=public_url)
                break
            except IntegrityError:  # the same case opened concurrently: join it on the retry
                if attempt == 2:
                    raise
    except RequestRefusedError as err:
        _refused(db, rt, who, err)
        raise
    except SQLAlchemyError:
        log.exception("location request from %r failed", who.agency)
        failed = RequestRefusedError(Refusal.UNAVAILABLE, "the request could not be stored: retry")
        _refused(db, rt, who, failed)
        raise failed from None
    COUNTS.add(ANSWERED)
    with db.connect() as conn:
        brief = load_summary(conn, rt.id, change.incident_id)
    if brief is not None:
        live.publish(LiveMessage(rt.id, LiveKind.INCIDENT, brief))
    share = made.share
    return RequestAnswer(
        case=request.case,
        request_id=request.request_id,
        incident_id=change.incident_id,
        incident_created=change.created,
        share_id=share.id,
        link=made.url,
        expires_at=share.expires_at,
        cameras=list(share.cameras),
        answered_ms=round((time.perf_counter() - start) * 1000.0, 1),
    )
