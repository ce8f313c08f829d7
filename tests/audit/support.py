"""What the audit tests share: a migrated database and a few records written through the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, text

from cityops.services import audit
from cityops.services.audit import AuditAction
from cityops.store.db import make_engine, upgrade

MUNI = "audit-town"
T0 = datetime(2026, 12, 3, 9, 0, 0, 123456, tzinfo=UTC)


def migrated(url: str) -> Engine:
    upgrade(url)
    return make_engine(url)


def write_views(db: Engine, count: int, *, muni: str = MUNI, start: datetime = T0) -> None:
    """``count`` camera views, one a minute from ``start``, each in its own transaction."""
    for i in range(count):
        with db.begin() as conn:
            audit.record(
                conn,
                actor=f"operator-{i % 3}",
                action=AuditAction.VIDEO_LIVE,
                municipality=muni,
                target=f"cam-{i % 4}",
                reason="patrol" if i % 2 else None,
                detail={"i": i, "stream": "mjpeg", "ratio": i / 7},
                at=start + timedelta(minutes=i),
            )


def tamper(conn: Connection, sql: str, **params: object) -> None:
    """Change the audit table as someone with the database owner's rights would: on PostgreSQL
    by switching the append-only triggers off first."""
    pg = conn.dialect.name == "postgresql"
    if pg:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("ALTER TABLE audit_anchors DISABLE TRIGGER USER"))
    conn.execute(text(sql), params)
    if pg:
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        conn.execute(text("ALTER TABLE audit_anchors ENABLE TRIGGER USER"))
