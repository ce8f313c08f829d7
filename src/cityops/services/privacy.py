"""Data-subject requests (GDPR art. 15 and 17): the recorded images that may show a person at a
place and time, found and erased, each step in the audit log (docs/PRIVACY.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from cityops.domain.audit import AuditAction
from cityops.domain.evidence import EvidenceRecord
from cityops.services import audit, evidence


@dataclass(frozen=True, slots=True)
class Request:
    """Where and when the person was, as the request says, and who handles it."""

    municipality: str
    camera: str | None
    since: datetime
    until: datetime
    actor: str
    reference: str | None = None

    def detail(self) -> dict[str, object]:
        return {
            "camera": self.camera,
            "since": self.since,
            "until": self.until,
            "request": self.reference,
        }


def find(conn: Connection, req: Request) -> list[EvidenceRecord]:
    """The recorded snapshots and clips of the place and time (audited: looking is processing)."""
    found = evidence.find(conn, req.municipality, req.camera, req.since, req.until)
    audit.record(
        conn,
        actor=req.actor,
        action=AuditAction.PRIVACY_FIND,
        municipality=req.municipality,
        target=req.camera,
        detail={**req.detail(), "found": len(found), "events": _ids(found)},
    )
    return found


def erase(conn: Connection, root: Path, req: Request, reason: str) -> list[EvidenceRecord]:
    """Delete those images, files and records; the audit record (written first, in the same
    transaction) keeps which events' evidence went, why and on which request, not the images."""
    found = evidence.find(conn, req.municipality, req.camera, req.since, req.until)
    audit.record(
        conn,
        actor=req.actor,
        action=AuditAction.PRIVACY_ERASE,
        municipality=req.municipality,
        target=req.camera,
        reason=reason,
        detail={**req.detail(), "erased": len(found), "events": _ids(found)},
    )
    evidence.delete(conn, root, [r.key for r in found])
    return found


def _ids(records: Sequence[EvidenceRecord]) -> list[str]:
    return [r.event_id for r in records]
