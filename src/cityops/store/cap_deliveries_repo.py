"""The outbox of CityOps's own CAP messages (``cap_deliveries``): one row per message and
configured endpoint, written in the transaction that publishes the message, worked by
``cityops.dispatch.cap_out`` (claimed with a lease on ``next_at``, as dispatch deliveries are)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from cityops.domain.dispatch import DeliveryStatus
from cityops.domain.warnings import CapEndpoint, EndpointKind
from cityops.store.tables_warnings import cap_deliveries

_OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)


@dataclass(frozen=True, slots=True)
class CapDelivery:
    id: int
    municipality: str
    incident_id: int
    identifier: str
    msg_type: str
    endpoint: str
    kind: EndpointKind
    url: str
    status: DeliveryStatus
    attempts: int
    next_at: datetime
    last_error: str | None
    requested_by: str
    created_at: datetime
    sent_at: datetime | None


def _delivery(row: RowMapping) -> CapDelivery:
    values = dict(row)
    values["kind"] = EndpointKind(values["kind"])
    values["status"] = DeliveryStatus(values["status"])
    return CapDelivery(**values)


def enqueue(
    conn: Connection,
    municipality: str,
    incident_id: int,
    identifier: str,
    msg_type: str,
    endpoints: Sequence[CapEndpoint],
    requested_by: str,
    now: datetime,
) -> list[int]:
    """One pending delivery per endpoint, in the caller's transaction."""
    ids = []
    for endpoint in endpoints:
        result = conn.execute(
            cap_deliveries.insert().values(
                municipality=municipality,
                incident_id=incident_id,
                identifier=identifier,
                msg_type=msg_type,
                endpoint=endpoint.id,
                kind=endpoint.kind.value,
                url=endpoint.url,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_at=now,
                requested_by=requested_by[:200],
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def due(conn: Connection, now: datetime, limit: int = 20) -> list[CapDelivery]:
    c = cap_deliveries.c
    rows = conn.execute(
        select(cap_deliveries)
        .where(c.status.in_(_OPEN), c.next_at <= now)
        .order_by(c.next_at, c.id)
        .limit(limit)
    ).mappings()
    return [_delivery(r) for r in rows]


def claim(conn: Connection, delivery: CapDelivery, now: datetime, lease_s: float) -> bool:
    """Take ``delivery`` for one try, only if nobody moved it first; a crash mid-try leaves it
    due again when the lease ends."""
    c = cap_deliveries.c
    result = conn.execute(
        update(cap_deliveries)
        .where(c.id == delivery.id, c.next_at == delivery.next_at, c.status.in_(_OPEN))
        .values(next_at=now + timedelta(seconds=lease_s))
    )
    return result.rowcount == 1


def finish_try(
    conn: Connection,
    delivery_id: int,
    *,
    status: DeliveryStatus,
    attempts: int,
    next_at: datetime,
    error: str | None,
    sent_at: datetime | None,
) -> None:
    values: dict[str, Any] = {
        "status": status.value,
        "attempts": attempts,
        "next_at": next_at,
        "last_error": error[:500] if error else None,
        "sent_at": sent_at,
    }
    conn.execute(update(cap_deliveries).where(cap_deliveries.c.id == delivery_id).values(values))


def for_incident(conn: Connection, municipality: str, incident_id: int) -> list[CapDelivery]:
    c = cap_deliveries.c
    rows = conn.execute(
        select(cap_deliveries)
        .where(c.municipality == municipality, c.incident_id == incident_id)
        .order_by(c.id)
    ).mappings()
    return [_delivery(r) for r in rows]
