"""Camera health as the control center observes it (a stream that opens is online)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Engine, update

from cityops.domain.entities import CameraHealth
from cityops.services.live import CameraPayload, LiveBus, LiveKind, LiveMessage
from cityops.store import tables as t


def record_health(
    db: Engine,
    live: LiveBus,
    municipality: str,
    camera_id: str,
    health: CameraHealth,
    at: datetime,
    *,
    only_from: Collection[CameraHealth] | None = None,
) -> None:
    """Store a camera's health when it changed (and, with ``only_from``, only when it was one of
    those), and tell the consoles."""
    c = t.cameras.c
    stmt = update(t.cameras).where(
        c.municipality == municipality, c.id == camera_id, c.health != health.value
    )
    if only_from is not None:
        stmt = stmt.where(c.health.in_([h.value for h in only_from]))
    with db.begin() as conn:
        changed = conn.execute(stmt.values(health=health.value, health_at=at)).rowcount
    if changed:
        payload = CameraPayload(id=camera_id, health=health)
        live.publish(LiveMessage(municipality, LiveKind.CAMERA, payload))
