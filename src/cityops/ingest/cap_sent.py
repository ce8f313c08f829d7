"""What the CAP out worker (``dispatch/cap_out.py``) is given: a delivered message in the audit
trail (``warning.sent``: who asked for it, which message, where it went, after how many tries)
and the archive of published messages (docs/CAP.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from cityops.cap.publish import CapArchive
from cityops.domain.audit import AuditAction
from cityops.services import audit
from cityops.store.cap_deliveries_repo import CapDelivery

ACTOR = "cap-out"


def audit_sent(conn: Connection, delivery: CapDelivery, attempts: int, now: datetime) -> None:
    audit.record(
        conn,
        actor=ACTOR,
        action=AuditAction.WARNING_SENT,
        municipality=delivery.municipality,
        target=f"incident:{delivery.incident_id}",
        detail={
            "cap": delivery.identifier,
            "msg_type": delivery.msg_type,
            "endpoint": delivery.endpoint,
            "kind": delivery.kind.value,
            "url": delivery.url,
            "attempts": attempts,
            "requested_by": delivery.requested_by,
        },
        at=now,
    )


def archived(root: Path) -> Callable[[str, str], bytes | None]:
    """The CAP message CityOps published, as published: (municipality, identifier) -> bytes."""
    return CapArchive(root).get
