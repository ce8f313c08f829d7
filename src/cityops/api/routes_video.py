"""Camera images for the console: the latest masked snapshot and an MJPEG live view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from cityops.api.deps import Backend, Center, Runtime
from cityops.domain.entities import Camera, CameraHealth
from cityops.services.cameras import record_health
from cityops.services.runtime import MunicipalityRuntime
from cityops.video.snapshots import Snapshot
from cityops.video.sources import NoStreamError, SourceError

router = APIRouter(prefix="/api/v1/m/{mid}/cameras/{camera_id}", tags=["video"])
LIVE_FPS = 5.0


def _camera(rt: MunicipalityRuntime, camera_id: str) -> tuple[Camera, int]:
    for index, cam in enumerate(rt.config.cameras):
        if cam.id == camera_id:
            return cam, index
    raise HTTPException(404, f"unknown camera {camera_id!r}")


async def _grab(center: Backend, rt: MunicipalityRuntime, cam: Camera, index: int) -> Snapshot:
    try:
        shot = await run_in_threadpool(center.snapshots.snapshot, cam, index)
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


@router.get(
    "/snapshot",
    summary="The camera's latest frame, privacy masks applied (JPEG)",
    responses={200: {"content": {"image/jpeg": {}}}, 503: {"description": "camera offline"}},
)
async def snapshot(center: Center, rt: Runtime, camera_id: str) -> Response:
    cam, index = _camera(rt, camera_id)
    shot = await _grab(center, rt, cam, index)
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
    center: Center, rt: Runtime, camera_id: str, request: Request
) -> StreamingResponse:
    cam, index = _camera(rt, camera_id)
    first = await _grab(center, rt, cam, index)

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
                shot = await run_in_threadpool(center.snapshots.snapshot, cam, index)
            except SourceError:
                return

    return StreamingResponse(frames(), media_type="multipart/x-mixed-replace; boundary=frame")
