"""The dispatch outbox (``tables_dispatch``): deliveries written with the dispatch, claimed and
updated by the dispatch worker (through ``store/outbox.py``, which the CAP outbox shares), and
the agencies' acknowledgments (a replayed one is refused by the unique signature)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.dispatch import Channel, DeliveryStatus, incident_snapshot
from cityops.domain.incident import Incident
from cityops.store.outbox import Outbox
from cityops.store.tables_dispatch import dispatch_acks, dispatch_deliveries


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    municipality: str
    incident_id: int
    agency: str
    channel: Channel
    target: str
    status: DeliveryStatus
    attempts: int
    next_at: datetime
    last_error: str | None
    payload: Mapping[str, Any]
    reply_token_hash: str | None
    created_at: datetime
    sent_at: datetime | None
    acknowledged_at: datetime | None


def _delivery(row: RowMapping) -> Delivery:
    values = dict(row)
    values["channel"] = Channel(values["channel"])
    values["status"] = DeliveryStatus(values["status"])
    return Delivery(**values)


OUTBOX = Outbox(dispatch_deliveries, _delivery)
"""Due deliveries, a claim with a lease, a try's outcome (its ``reply_token_hash`` where an
e-mail was sent), an incident's deliveries (``store/outbox.py``)."""
due = OUTBOX.due
claim = OUTBOX.claim
finish_try = OUTBOX.finish_try
for_incident = OUTBOX.for_incident


def enqueue_dispatch(
    conn: Connection, config: MunicipalityConfig, incident: Incident, agency: str, now: datetime
) -> list[int]:
    """One pending delivery per channel of ``agency`` (none when it has no channels), in the
    caller's transaction: the dispatch and its deliveries commit together or not at all."""
    channels = config.channels_of(agency)
    if channels is None or incident.id is None:
        return []
    payload = incident_snapshot(incident, agency)
    ids: list[int] = []
    for channel, target in channels.targets():
        result = conn.execute(
            dispatch_deliveries.insert().values(
                municipality=incident.municipality,
                incident_id=incident.id,
                agency=agency,
                channel=channel.value,
                target=target,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_at=now,
                payload=payload,
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def get(conn: Connection, municipality: str, delivery_id: int) -> Delivery | None:
    row = (
        conn.execute(
            select(dispatch_deliveries).where(
                dispatch_deliveries.c.municipality == municipality,
                dispatch_deliveries.c.id == delivery_id,
            )
        )
        .mappings()
        .first()
    )
    return _delivery(row) if row else None


def record_ack(
    conn: Connection,
    delivery: Delivery,
    *,
    signature: str,
    via: str,
    reference: str | None,
    note: str | None,
    now: datetime,
) -> bool:
    """Store an acknowledgment; False (nothing stored) when this signature was seen before."""
    try:
        with conn.begin_nested():
            conn.execute(
                dispatch_acks.insert().values(
                    delivery_id=delivery.id,
                    municipality=delivery.municipality,
                    signature=signature,
                    via=via,
                    reference=reference,
                    note=note,
                    at=now,
                )
            )
    except IntegrityError:
        return False
    values: dict[str, Any] = {"acknowledged_at": now}
    if via == "link":
        values["reply_token_hash"] = None  # the reply link is one-time
    conn.execute(
        update(dispatch_deliveries).where(dispatch_deliveries.c.id == delivery.id).values(values)
    )
    return True
