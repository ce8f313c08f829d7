"""The outbox of CityOps's own CAP messages (``cap_deliveries``): one row per message and
configured endpoint, written in the transaction that publishes the message, worked by
``cityops.dispatch.cap_out`` (due, claimed with a lease on ``next_at`` and finished through
``store/outbox.py``, as dispatch deliveries are)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping

from cityops.domain.dispatch import DeliveryStatus
from cityops.domain.warnings import CapEndpoint, EndpointKind
from cityops.store.outbox import Outbox
from cityops.store.tables_warnings import cap_deliveries


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


OUTBOX = Outbox(cap_deliveries, _delivery)
"""Due deliveries, a claim with a lease, a try's outcome, an incident's deliveries
(``store/outbox.py``)."""
due = OUTBOX.due
claim = OUTBOX.claim
finish_try = OUTBOX.finish_try
for_incident = OUTBOX.for_incident


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
