"""What the two outboxes share (``dispatch_deliveries``, ``cap_deliveries``; docs/DISPATCH.md):
the rows that are due, a claim that leases one row for one try by moving its ``next_at`` past the
lease, the outcome of that try, and an incident's rows. An :class:`Outbox` is one such table and
the function that turns its rows into its delivery type; both tables name these columns alike
(``id``, ``municipality``, ``incident_id``, ``status``, ``attempts``, ``next_at``,
``last_error``, ``sent_at``). Each table's repository writes its other columns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, RowMapping, Table, select, update

from cityops.domain.dispatch import DeliveryStatus

OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)
"""The statuses of a row that will be tried again."""


class Row(Protocol):
    """What a claim reads of a delivery."""

    @property
    def id(self) -> int: ...
    @property
    def next_at(self) -> datetime: ...


R = TypeVar("R", bound=Row)


class Outbox(Generic[R]):
    """The outbox kept in ``table``; ``row`` makes a delivery of one of its rows."""

    def __init__(self, table: Table, row: Callable[[RowMapping], R]) -> None:
        self.table, self.row = table, row

    def due(self, conn: Connection, now: datetime, limit: int = 20) -> list[R]:
        """The open deliveries whose ``next_at`` has come, the longest waiting first."""
        c = self.table.c
        rows = conn.execute(
            select(self.table)
            .where(c.status.in_(OPEN), c.next_at <= now)
            .order_by(c.next_at, c.id)
            .limit(limit)
        ).mappings()
        return [self.row(r) for r in rows]

    def claim(self, conn: Connection, delivery: R, now: datetime, lease_s: float) -> bool:
        """Take ``delivery`` for one try: its ``next_at`` moves past the lease, only if it is
        still open and nobody moved it since it was read (several processes may work one
        outbox). A crash mid-try leaves it due again when the lease ends."""
        c = self.table.c
        result = conn.execute(
            update(self.table)
            .where(c.id == delivery.id, c.next_at == delivery.next_at, c.status.in_(OPEN))
            .values(next_at=now + timedelta(seconds=lease_s))
        )
        return result.rowcount == 1

    def finish_try(
        self,
        conn: Connection,
        delivery_id: int,
        *,
        status: DeliveryStatus,
        attempts: int,
        next_at: datetime,
        error: str | None,
        sent_at: datetime | None = None,
        **also: str | None,
    ) -> None:
        """Write one try's outcome (the error cut to the column's 500 characters); ``sent_at``
        and ``also`` (the table's own columns) only where given."""
        values: dict[str, Any] = {
            "status": status.value,
            "attempts": attempts,
            "next_at": next_at,
            "last_error": error[:500] if error else None,
        }
        values.update({k: v for k, v in {"sent_at": sent_at, **also}.items() if v is not None})
        conn.execute(update(self.table).where(self.table.c.id == delivery_id).values(values))

    def for_incident(self, conn: Connection, municipality: str, incident_id: int) -> list[R]:
        """An incident's deliveries, oldest first."""
        c = self.table.c
        rows = conn.execute(
            select(self.table)
            .where(c.municipality == municipality, c.incident_id == incident_id)
            .order_by(c.id)
        ).mappings()
        return [self.row(r) for r in rows]
