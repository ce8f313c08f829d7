"""Who may see which camera, and the audit of every look (issue 8).

Every route that shows a camera's picture (snapshot, live view, an event's snapshot or clip)
takes :data:`Viewer` (``video.view`` in the path's municipality), checks the camera with
:func:`camera_visible` (a liaison sees only the cameras linked to its agency's open incidents)
and records the view with :func:`audit_view`. An unmasked picture needs ``video.unmasked`` (the
membership's flag, never a role) and a stated reason (:func:`unmasked_allowed`), and is recorded
as ``video.unmasked``; ``video.masking.frame_for_viewer`` remains the one place that decides what
a picture shows.

A console shows a camera as repeated requests (the wall refreshes a snapshot every 5 s, a
browser fetches a clip in byte ranges while it plays and seeks), so one viewing is recorded once:
the first request of a viewer for a camera and kind of view, then again after ``REPEAT_S`` of
continued viewing. Unmasked views are recorded every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Annotated

from fastapi import HTTPException
from sqlalchemy import Engine

from cityops.api.auth import allow, now_utc
from cityops.domain.access import Permission, Principal
from cityops.domain.audit import AuditAction
from cityops.services import audit
from cityops.services.access_scope import visible_cameras

Viewer = Annotated[Principal, allow(Permission.VIDEO_VIEW)]
REPEAT_S = 60.0
REASON_MAX = 500


def camera_visible(db: Engine, caller: Principal, mid: str, camera_id: str) -> None:
    """404 (as for an unknown camera) unless the caller may see ``camera_id`` in ``mid``."""
    with db.connect() as conn:
        cameras = visible_cameras(conn, caller, mid, now_utc())
    if cameras is not None and camera_id not in cameras:
        raise HTTPException(404, f"unknown camera {camera_id!r}")


def unmasked_allowed(caller: Principal, mid: str, unmasked: bool, reason: str | None) -> bool:
    """True for an unmasked view the caller may have (403 without the permission, 422 without
    a reason); False for the masked picture everyone gets."""
    if not unmasked:
        return False
    if not caller.can(mid, Permission.VIDEO_UNMASKED, now_utc()):
        raise HTTPException(403, f"{Permission.VIDEO_UNMASKED} is needed in {mid}")
    if reason is None or not reason.strip():
        raise HTTPException(422, "an unmasked view needs a reason (query parameter 'reason')")
    if len(reason) > REASON_MAX:
        raise HTTPException(422, f"the reason is longer than {REASON_MAX} characters")
    return True


class _Recent:
    """When each (database, viewer, municipality, camera, action, target) was last recorded."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def due(self, key: tuple[str, ...]) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if now - v < REPEAT_S}
            last = self._seen.get(key)
            if last is not None and now - last < REPEAT_S:
                return False
            self._seen[key] = now
            return True


_recent = _Recent()


def viewing_starts(key: tuple[str, ...]) -> bool:
    """Whether a view keyed ``key`` starts a viewing to record (not within ``REPEAT_S`` of the
    last recorded one): the same rule for views without an account (a share's recipient)."""
    return _recent.due(key)


def audit_view(
    db: Engine,
    caller: Principal,
    action: AuditAction,
    mid: str,
    camera_id: str,
    *,
    reason: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Record that ``caller`` saw ``camera_id`` (once per viewing; unmasked: every time)."""
    what = str((detail or {}).get("event_id", ""))
    key = (str(db.url), str(caller.user_id), mid, camera_id, action.value, what)
    if action is not AuditAction.VIDEO_UNMASKED and not _recent.due(key):
        return
    with db.begin() as conn:
        audit.record(
            conn,
            actor=caller.username,
            action=action,
            municipality=mid,
            target=camera_id,
            reason=reason,
            detail={"via": caller.via, **(detail or {})},
        )
