"""Camera images for the console: the latest masked snapshot and an MJPEG live view.

Each needs ``video.view`` in the municipality (a liaison: only the cameras of its agency's open
incidents) and is recorded in the audit (``video.snapshot``, ``video.live``). ``unmasked=true``
with a ``reason`` shows the picture without privacy masks to a member with ``video.unmasked``,
recorded as ``video.unmasked`` (api/video_access.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from cityops.api.deps import Backend, Center, Runtime
from cityops.api.video_access import Viewer, audit_view, camera_visible, unmasked_allowed
from cityops.domain.audit import AuditAction
from cityops.domain.entities import Camera, CameraHealth
from cityops.services.cameras import record_health
from cityops.services.runtime import MunicipalityRuntime
from cityops.video.snapshots import Snapshot
from cityops.video.sources import NoStreamError, SourceError

router = APIRouter(prefix="/api/v1/m/{mid}/cameras/{camera_id}", tags=["video"])
LIVE_FPS = 5.0

Unmasked = Annotated[
    bool, Query(description="Without privacy masks: needs video.unmasked and a reason")
]
Reason = Annotated[
    str | None, Query(max_length=500, description="Why an unmasked view is needed (audited)")
]


def _camera(rt: MunicipalityRuntime, camera_id: str) -> tuple[Camera, int]:
    for index, cam in enumerate(rt.config.cameras):
        if cam.id == camera_id:
            return cam, index
    raise HTTPException(404, f"unknown camera {camera_id!r}")


async def _grab(
    center: Backend, rt: MunicipalityRuntime, cam: Camera, index: int, unmasked: bool = False
) -> Snapshot:
    try:
        shot = await run_in_threadpool(
            partial(center.snapshots.snapshot, unmasked=unmasked), cam, index
        )
    except NoStreamError as err:
        raise HTTPException(404, f"camera {cam.id}: {err}") from None
    except SourceError as err:
        await run_in_threadpool(
            record_health,
            center.db,
            center.live,
            rt.id,
            cam.id,
            CameraHealth.OFFLINE,
            datetime.now(UTC),
        )
        raise HTTPException(503, f"camera {cam.id} is offline: {err}") from None
    # A frame arrived: no longer offline. Whether it is stale is the health monitor's call.
    await run_in_threadpool(
        partial(record_health, only_from={CameraHealth.OFFLINE, CameraHealth.UNKNOWN}),
        center.db,
        center.live,
        rt.id,
        cam.id,
        CameraHealth.ONLINE,
        shot.taken_at,
    )
    return shot


async def _admit(center: Backend, caller: Viewer, mid: str, camera_id: str) -> None:
    await run_in_threadpool(camera_visible, center.db, caller, mid, camera_id)


async def _record(
    center: Backend,
    caller: Viewer,
    mid: str,
    camera_id: str,
    view: str,
    unmasked: bool,
    reason: str | None,
) -> None:
    masked = AuditAction.VIDEO_LIVE if view == "live" else AuditAction.VIDEO_SNAPSHOT
    action = AuditAction.VIDEO_UNMASKED if unmasked else masked
    detail = {"view": view, "unmasked": unmasked}
    await run_in_threadpool(
        partial(audit_view, reason=reason if unmasked else None, detail=detail),
        center.db,
        caller,
        action,
        mid,
        camera_id,
    )


@router.get(
    "/snapshot",
    summary="The camera's latest frame, privacy masks applied (JPEG)",
    responses={200: {"content": {"image/jpeg": {}}}, 503: {"description": "camera offline"}},
)
async def snapshot(
    caller: Viewer,
    center: Center,
    rt: Runtime,
    camera_id: str,
    unmasked: Unmasked = False,
    reason: Reason = None,
) -> Response:
    cam, index = _camera(rt, camera_id)
    await _admit(center, caller, rt.id, cam.id)
    clear = unmasked_allowed(caller, rt.id, unmasked, reason)
    shot = await _grab(center, rt, cam, index, clear)
    await _record(center, caller, rt.id, cam.id, "snapshot", clear, reason)
    return Response(
        shot.jpeg,
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Taken-At": shot.taken_at.isoformat()},
    )


@router.get(
    "/live.mjpg",
    summary="Live view as MJPEG (multipart/x-mixed-replace), privacy masks applied",
)
async def live_view(
    caller: Viewer,
    center: Center,
    rt: Runtime,
    camera_id: str,
    request: Request,
    unmasked: Unmasked = False,
    reason: Reason = None,
) -> StreamingResponse:
    cam, index = _camera(rt, camera_id)
    await _admit(center, caller, rt.id, cam.id)
    clear = unmasked_allowed(caller, rt.id, unmasked, reason)
    first = await _grab(center, rt, cam, index, clear)
    await _record(center, caller, rt.id, cam.id, "live", clear, reason)
    grab = partial(center.snapshots.snapshot, unmasked=clear)

    async def frames() -> AsyncIterator[bytes]:
        shot = first
        while True:
            yield (
                b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                + str(len(shot.jpeg)).encode()
                + b"\r\n\r\n"
                + shot.jpeg
                + b"\r\n"
            )
            await asyncio.sleep(1.0 / LIVE_FPS)
            if await request.is_disconnected():
                return
            try:
                shot = await run_in_threadpool(grab, cam, index)
            except SourceError:
                return

    return StreamingResponse(frames(), media_type="multipart/x-mixed-replace; boundary=frame")
