"""Agencies answer a dispatch (docs/DISPATCH.md "Acknowledgment"): a signed callback from their
system, or the one-time reply link of the e-mail. No login: the HMAC signature (or the link's
token) is the credential. Anything refused answers 401 the same way, whether the delivery does
not exist, the signature is wrong, the timestamp stale or the request a replay, and is counted
(``dispatch.callback.REFUSALS``). Operators read an incident's deliveries with a login."""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Backend, Center, IncidentId
from cityops.dispatch import signing
from cityops.dispatch.callback import REFUSALS, Ack, AckRejectedError, decode_ack
from cityops.domain.access import Permission, Principal
from cityops.domain.audit import AuditAction
from cityops.domain.incident import TimelineEntry, TimelineKind
from cityops.services import audit
from cityops.services.access_scope import incident_home
from cityops.services.live import LiveKind, LiveMessage
from cityops.services.views import load_summary
from cityops.store import dispatch_repo, incidents_repo
from cityops.store.dispatch_repo import Delivery

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/m/{mid}", tags=["dispatch"])

Mid = Annotated[str, Path(max_length=64)]
DeliveryId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _refuse(reason: str, mid: str, delivery_id: int) -> HTTPException:
    REFUSALS.add(reason)
    log.warning("dispatch ack refused (%s): %r delivery %s", reason, mid, delivery_id)
    return HTTPException(401, "signature refused")


def _acknowledge(
    center: Backend, delivery: Delivery, *, signature: str, via: str, ack: Ack, now: datetime
) -> bool:
    """Store the acknowledgment and its timeline entry; False for a replay."""
    with center.db.begin() as conn:
        if not dispatch_repo.record_ack(
            conn,
            delivery,
            signature=signature,
            via=via,
            reference=ack.reference,
            note=ack.note,
            now=now,
        ):
            return False
        record = incidents_repo.get_incident(
            conn, delivery.municipality, delivery.incident_id, with_timeline=False
        )
        if record is not None:
            words = [f"{delivery.agency} acknowledged delivery {delivery.id}"]
            words += [f"case {ack.reference}"] if ack.reference else []
            words += [ack.note] if ack.note else []
            entry = TimelineEntry(
                at=now,
                kind=TimelineKind.DISPATCH_ACK,
                actor=(ack.by or delivery.agency)[:200],
                text="; ".join(words)[:4000],
                data={
                    "delivery": str(delivery.id),
                    "agency": delivery.agency,
                    "via": via,
                    "reference": ack.reference or "",
                },
            )
            incidents_repo.add_timeline(conn, record.incident, entry)
            incidents_repo.touch(conn, delivery.incident_id, now)
        audit.record(
            conn,
            actor=f"agency:{delivery.agency}",
            action=AuditAction.INCIDENT_ACTION,
            municipality=delivery.municipality,
            target=f"incident:{delivery.incident_id}",
            detail={"action": "dispatch_ack", "delivery": delivery.id, "via": via},
            at=now,
        )
    with center.db.connect() as conn:
        brief = load_summary(conn, delivery.municipality, delivery.incident_id)
    if brief is not None:
        center.live.publish(LiveMessage(delivery.municipality, LiveKind.INCIDENT, brief))
    return True


def _signed_ack(
    center: Backend, mid: str, delivery_id: int, stamp: str | None, sig: str | None, body: bytes
) -> dict[str, Any]:
    rt = center.runtimes.get(mid)
    with center.db.connect() as conn:
        delivery = dispatch_repo.get(conn, mid, delivery_id) if rt else None
    channels = rt.config.channels_of(delivery.agency) if rt and delivery else None
    if delivery is None or channels is None or not channels.webhook_url:
        raise _refuse("unknown delivery", mid, delivery_id)
    try:
        secret = signing.load_secret(channels)
        verified = signing.verify(
            secret, stamp, sig, body, time.time(), center.settings.dispatch_ack_tolerance_s
        )
    except (signing.SecretMissingError, signing.SignatureError) as err:
        raise _refuse(str(err), mid, delivery_id) from None
    try:
        ack = decode_ack(body)
    except AckRejectedError as err:
        raise HTTPException(422, str(err)) from None
    now = datetime.now(UTC)
    if not _acknowledge(
        center, delivery, signature=verified.signature, via="webhook", ack=ack, now=now
    ):
        raise _refuse("replayed", mid, delivery_id)
    return {"delivery": delivery.id, "acknowledged_at": now.isoformat()}


@router.post("/dispatch/{delivery_id}/ack", summary="An agency acknowledges a delivery (signed)")
async def ack(request: Request, center: Center, mid: Mid, delivery_id: DeliveryId) -> Any:
    body = await request.body()
    return await run_in_threadpool(
        _signed_ack,
        center,
        mid,
        delivery_id,
        request.headers.get(signing.TIMESTAMP_HEADER),
        request.headers.get(signing.SIGNATURE_HEADER),
        body,
    )


def _by_token(center: Backend, mid: str, delivery_id: int, token: str) -> tuple[Delivery, str]:
    with center.db.connect() as conn:
        delivery = dispatch_repo.get(conn, mid, delivery_id)
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    stored = delivery.reply_token_hash if delivery else None
    if delivery is None or stored is None or not hmac.compare_digest(stored, digest):
        raise _refuse("bad reply token", mid, delivery_id)
    return delivery, digest


_PAGE = """<!doctype html><html lang="bg"><head><meta charset="utf-8">
<title>CityOps</title></head><body><h1>CityOps</h1>{body}</body></html>"""


@router.get(
    "/dispatch/{delivery_id}/reply", response_class=HTMLResponse, summary="Reply link (e-mail)"
)
def reply_page(
    center: Center,
    mid: Mid,
    delivery_id: DeliveryId,
    token: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """Shows a button; only its POST acknowledges (a mail scanner opening the link does not)."""
    delivery, _ = _by_token(center, mid, delivery_id, token)
    inc = delivery.payload.get("incident", {})
    title = html.escape(str(inc.get("title_local") or inc.get("title") or ""))
    form = (
        f"<p>Инцидент / Incident #{int(delivery.incident_id)}: {title}</p>"
        '<form method="post"><input type="hidden" name="token" '
        f'value="{html.escape(token)}"><label>Ваш номер / Your case number '
        '<input name="reference" maxlength="200"></label> '
        "<button>Потвърждавам получаването / Acknowledge receipt</button></form>"
    )
    return HTMLResponse(_PAGE.format(body=form))


def _reply(center: Backend, mid: str, delivery_id: int, body: bytes) -> HTMLResponse:
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=5)
    except ValueError:  # more fields than the form has
        raise HTTPException(422, "not the reply form") from None
    token = (fields.get("token") or [""])[0][:100]
    delivery, digest = _by_token(center, mid, delivery_id, token)
    reference = (fields.get("reference") or [""])[0][:200].strip() or None
    ack = Ack(reference="".join(c for c in reference if c.isprintable()) if reference else None)
    now = datetime.now(UTC)
    if not _acknowledge(center, delivery, signature=f"link:{digest}", via="link", ack=ack, now=now):
        raise _refuse("replayed", mid, delivery_id)
    return HTMLResponse(_PAGE.format(body="<p>Благодарим. / Thank you: acknowledged.</p>"))


@router.post(
    "/dispatch/{delivery_id}/reply", response_class=HTMLResponse, summary="Reply link's form"
)
async def reply(request: Request, center: Center, mid: Mid, delivery_id: DeliveryId) -> Any:
    body = await request.body()
    return await run_in_threadpool(_reply, center, mid, delivery_id, body)


class DeliveryView(BaseModel):
    id: int
    agency: str
    channel: str
    target: str
    status: str
    attempts: int
    next_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    acknowledged_at: datetime | None


@router.get(
    "/incidents/{incident_id}/deliveries",
    response_model=list[DeliveryView],
    summary="Where the incident was dispatched to, and how each delivery went",
)
def deliveries(
    caller: Annotated[Principal, allow(Permission.INCIDENTS_READ)],
    center: Center,
    mid: Mid,
    incident_id: IncidentId,
) -> list[DeliveryView]:
    """A liaison sees only its own agency's deliveries (of incidents it may see at all)."""
    now = now_utc()
    with center.db.connect() as conn:
        home = incident_home(conn, caller, mid, incident_id, now)
        if home is None:
            raise HTTPException(404, f"incident {incident_id} not found")
        rows = dispatch_repo.for_incident(conn, home, incident_id)
    if caller.limited(mid, now):
        rows = [r for r in rows if r.agency == caller.agency_scope(mid, now)]
    return [
        DeliveryView(
            id=r.id,
            agency=r.agency,
            channel=r.channel.value,
            target=r.target,
            status=r.status.value,
            attempts=r.attempts,
            next_at=r.next_at,
            last_error=r.last_error,
            created_at=r.created_at,
            sent_at=r.sent_at,
            acknowledged_at=r.acknowledged_at,
        )
        for r in rows
    ]
