"""What an agency share leaves behind (docs/AGENCIES.md "Shares"): its incident's timeline
entries, the audit records of its changes, and the recipient's opening of it, each in the
caller's transaction. The changes themselves are ``services/shares.py``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from cityops.domain.audit import AuditAction
from cityops.domain.incident import TimelineEntry, TimelineKind
from cityops.domain.shares import Share
from cityops.services import audit
from cityops.store import incidents_repo, shares_repo


def timeline(conn: Connection, share: Share, op: str, actor: str, at: datetime, text: str) -> None:
    """The share's entry ``op`` in its incident's timeline (none without an incident)."""
    if share.incident_id is None:
        return
    record = incidents_repo.get_incident(
        conn, share.municipality, share.incident_id, with_timeline=False
    )
    if record is None:
        return
    entry = TimelineEntry(
        at=at,
        kind=TimelineKind.SHARE,
        actor=actor,
        text=text,
        data={
            "share": str(share.id),
            "agency": share.agency,
            "op": op,
            "expires_at": share.expires_at.isoformat(),
        },
    )
    incidents_repo.add_timeline(conn, record.incident, entry)
    incidents_repo.touch(conn, share.incident_id, at)


def audit_change(
    conn: Connection,
    share: Share,
    actor: str,
    now: datetime,
    detail: dict[str, object],
    reason: str | None = None,
) -> None:
    """The audit record of a change (``detail["op"]`` says which)."""
    audit.record(
        conn,
        actor=actor,
        action=AuditAction.SHARE_CHANGED,
        municipality=share.municipality,
        target=f"share:{share.id}",
        reason=reason,
        detail=detail,
        at=now,
    )


def opened(conn: Connection, share: Share, now: datetime, client: str | None = None) -> bool:
    """Record a recipient's open through the link: SHARE_OPENED in the audit every time (with
    the client's address when known), the timeline entry on the first open only. True when it
    was the first."""
    first = shares_repo.mark_opened(conn, share.id, now)
    if first:
        timeline(conn, share, "opened", share.actor, now, f"{share.agency} opened the share")
    audit.record(
        conn,
        actor=share.actor,
        action=AuditAction.SHARE_OPENED,
        municipality=share.municipality,
        target=f"share:{share.id}",
        detail={"first": first} | ({"client": client} if client else {}),
        at=now,
    )
    return first
