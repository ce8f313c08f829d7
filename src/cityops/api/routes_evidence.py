"""Event evidence for the console: the evidence of an incident's events, and each event's
snapshot (JPEG) and clip (H.264 MP4, served with HTTP Range so a browser can seek).

Like every picture of a camera: ``video.view`` in the municipality, a liaison only for the
cameras of its agency's open incidents, every viewing recorded in the audit (``video.snapshot``,
``video.clip``; api/video_access.py). The files were masked by the worker before they were
written: there is no unmasked evidence to ask for."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from cityops.api.auth import now_utc
from cityops.api.deps import Backend, Center, Conn, IncidentId, Runtime
from cityops.api.video_access import Viewer, audit_view, camera_visible
from cityops.domain.audit import AuditAction
from cityops.domain.evidence import EvidenceKind, EvidenceRecord
from cityops.services import evidence
from cityops.services.access_scope import incident_home, visible_cameras

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["evidence"])

EventId = Annotated[str, Path(min_length=1, max_length=200, description="The event's id")]
RECORDING_GRACE_S = 30.0
"""A clip is expected this long after its window ends (encoding, a shared directory's delay)."""


class EvidenceView(BaseModel):
    """One camera event's evidence. ``snapshot_url`` null: no snapshot here (not shared, or
    removed); ``clip_ready`` false with a ``clip_url``: still recording (or lost); the clip covers
    ``clip_start``..``clip_end`` around the event's ``ts``."""

    event_id: str
    camera_id: str
    kind: str
    ts: datetime
    snapshot_url: str | None
    clip_url: str | None
    clip_start: datetime | None
    clip_end: datetime | None
    clip_ready: bool


def _url(mid: str, rec: EvidenceRecord, what: str) -> str:
    return f"/api/v1/m/{mid}/evidence/{rec.event_id}/{what}"


def _view(center: Backend, mid: str, rec: EvidenceRecord) -> EvidenceView:
    root = center.settings.evidence_root
    ready = rec.clip is not None and evidence.file_path(root, rec.clip).is_file()
    # the worker writes the snapshot before it publishes the event: one not here is not coming
    # (a remote worker's directory not shared, or the file was removed)
    snapshot = rec.snapshot is not None and evidence.file_path(root, rec.snapshot).is_file()
    return EvidenceView(
        event_id=rec.event_id,
        camera_id=rec.camera_id,
        kind=rec.kind,
        ts=rec.ts,
        snapshot_url=_url(mid, rec, "snapshot.jpg") if snapshot else None,
        clip_url=_url(mid, rec, "clip.mp4") if rec.clip else None,
        clip_start=rec.clip_start,
        clip_end=rec.clip_end,
        clip_ready=ready,
    )


@router.get(
    "/incidents/{incident_id}/evidence",
    response_model=list[EvidenceView],
    summary="The snapshots and clips of an incident's camera events, oldest first",
)
def incident_evidence(
    caller: Viewer, center: Center, rt: Runtime, conn: Conn, incident_id: IncidentId
) -> list[EvidenceView]:
    now = now_utc()
    home = incident_home(conn, caller, rt.id, incident_id, now)
    if home is None:
        raise HTTPException(404, f"incident {incident_id} not found")
    if home != rt.id:  # handed over: the pictures stay with the cameras' municipality
        return []
    cameras = visible_cameras(conn, caller, rt.id, now)
    found = evidence.for_incident(conn, rt.id, incident_id)
    return [_view(center, rt.id, r) for r in found if cameras is None or r.camera_id in cameras]


async def _file(
    center: Backend, caller: Viewer, mid: str, event_id: str, kind: EvidenceKind
) -> FileResponse:
    def find() -> EvidenceRecord | None:
        with center.db.connect() as conn:
            return evidence.get(conn, mid, event_id)

    rec = await run_in_threadpool(find)
    rel = None if rec is None else rec.snapshot if kind is EvidenceKind.SNAPSHOT else rec.clip
    missing = HTTPException(404, f"no {kind} for event {event_id!r}")
    if rec is None or rel is None:
        raise missing
    try:  # a camera the caller may not see: the same answer as no evidence at all
        await run_in_threadpool(camera_visible, center.db, caller, mid, rec.camera_id)
    except HTTPException:
        raise missing from None
    path = evidence.file_path(center.settings.evidence_root, rel)
    if not path.is_file():
        # The recording ends (clip_end - ts) after the event, which was received at recorded_at
        # (the receipt, not the event's own time: a worker's clock may differ from ours).
        after = (rec.clip_end or rec.ts) - rec.ts
        due = rec.recorded_at + after + timedelta(seconds=RECORDING_GRACE_S)
        if kind is EvidenceKind.CLIP and now_utc() < due:
            raise HTTPException(404, "the clip is still being recorded", {"Retry-After": "5"})
        raise HTTPException(404, f"the {kind} of event {event_id!r} is not available")
    action = AuditAction.VIDEO_SNAPSHOT if kind is EvidenceKind.SNAPSHOT else AuditAction.VIDEO_CLIP
    detail = {"view": f"evidence.{kind}", "event_id": rec.event_id}
    await run_in_threadpool(
        lambda: audit_view(center.db, caller, action, mid, rec.camera_id, detail=detail)
    )
    media = "image/jpeg" if kind is EvidenceKind.SNAPSHOT else "video/mp4"
    # Starlette's FileResponse answers Range requests (206, Accept-Ranges: bytes), so a
    # browser's <video> seeks without loading the whole clip.
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/evidence/{event_id}/snapshot.jpg",
    summary="An event's snapshot: privacy masks applied, the event's boxes drawn (JPEG)",
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "no snapshot"}},
)
async def event_snapshot(
    caller: Viewer, center: Center, rt: Runtime, event_id: EventId
) -> FileResponse:
    return await _file(center, caller, rt.id, event_id, EvidenceKind.SNAPSHOT)


@router.get(
    "/evidence/{event_id}/clip.mp4",
    summary="An event's clip (H.264 MP4, privacy masks applied); HTTP Range requests answered",
    responses={
        200: {"content": {"video/mp4": {}}},
        206: {"description": "the requested byte range", "content": {"video/mp4": {}}},
        404: {"description": "no clip, or still being recorded (Retry-After)"},
        416: {"description": "range not satisfiable"},
    },
)
async def event_clip(
    caller: Viewer, center: Center, rt: Runtime, event_id: EventId
) -> FileResponse:
    return await _file(center, caller, rt.id, event_id, EvidenceKind.CLIP)
