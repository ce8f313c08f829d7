"""A share's recipient, without an account (issue 9 item 2; docs/AGENCIES.md "Shares").

The link ``<public_url>/share.html#<token>`` carries the credential in its fragment (never sent
to a server, never in a log). The page POSTs the token once and gets it back as the HttpOnly,
SameSite=Strict cookie ``cityops_share``, scoped to ``/api/v1/share-access``; every later request
presents the cookie. Each request looks the share up again by the token's SHA-256: an expired or
revoked share answers 410 (saying which) from the next request on, and a live view already open
ends within ``RECHECK_S``. Only the share's cameras are reachable, masked, and every view is
audited as ``share:<id>:<agency>`` (api/video_access.py's once-per-viewing rule)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from cityops.api.auth import now_utc
from cityops.api.deps import Backend, Center
from cityops.api.share_access_views import AccessStatus, AccessView, TokenBody, access_view
from cityops.api.video_access import viewing_starts
from cityops.domain.audit import AuditAction
from cityops.domain.entities import Camera
from cityops.domain.shares import Share
from cityops.services import audit
from cityops.services import shares as svc
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.share_map import basemap_near
from cityops.video.snapshots import Snapshot
from cityops.video.sources import NoStreamError, SourceError

PREFIX = "/api/v1/share-access"
SHARE_COOKIE = "cityops_share"
LIVE_FPS = 5.0
RECHECK_S = 1.0
"""How often an open live view checks that its share is still active."""

router = APIRouter(prefix=PREFIX, tags=["share access"])
ShareCookie = Annotated[str | None, Cookie(alias=SHARE_COOKIE, max_length=200)]


def _active(center: Backend, token: str | None) -> tuple[Share, MunicipalityRuntime]:
    """The active share ``token`` names and its municipality: 401 without a token, 404 for an
    unknown one, 410 for an expired or revoked share (the detail says which)."""
    if not token:
        raise HTTPException(401, "open the share's link first")
    with center.db.connect() as conn:
        share = svc.lookup_token(conn, token)
    rt = center.runtimes.get(share.municipality) if share is not None else None
    if share is None or rt is None:
        raise HTTPException(404, "unknown share link")
    status = share.status(now_utc())
    if status != "active":
        raise HTTPException(410, status)
    return share, rt


def _client(request: Request) -> str:
    """The recipient's address as this server sees it (a proxy's, behind one), for the audit."""
    return request.client.host if request.client is not None else "unknown"


def _open(center: Backend, token: str | None, client: str) -> AccessView:
    share, rt = _active(center, token)
    now = now_utc()
    with center.db.begin() as conn:
        svc.opened(conn, share, now, client)
    return access_view(center.db, share, rt, now)


def _keep(center: Backend, response: Response, token: str, expires_at: datetime) -> None:
    """(Re)set the cookie to last as long as the share does now (an extension lengthens it)."""
    left = (expires_at - now_utc()).total_seconds()
    response.set_cookie(
        SHARE_COOKIE,
        token,
        max_age=max(1, math.ceil(left)),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=center.settings.session_cookie_secure,
    )
    response.headers["Cache-Control"] = "no-store"


@router.post("", response_model=AccessView, summary="Open a share with its link's token")
async def exchange(
    body: TokenBody, center: Center, request: Request, response: Response
) -> AccessView:
    view = await run_in_threadpool(_open, center, body.token, _client(request))
    assert body.token is not None  # _open refused a missing one
    _keep(center, response, body.token, view.expires_at)
    return view


@router.get("", response_model=AccessView, summary="The open share (from its cookie)")
async def current(
    center: Center, request: Request, response: Response, token: ShareCookie = None
) -> AccessView:
    view = await run_in_threadpool(_open, center, token, _client(request))
    assert token is not None
    _keep(center, response, token, view.expires_at)
    return view


@router.get(
    "/status",
    response_model=AccessStatus,
    summary="Whether the share is still active, until when, and its cameras (not audited)",
)
async def status(center: Center, response: Response, token: ShareCookie = None) -> AccessStatus:
    share, _ = await run_in_threadpool(_active, center, token)
    assert token is not None
    _keep(center, response, token, share.expires_at)
    return AccessStatus(status="active", expires_at=share.expires_at, cameras=list(share.cameras))


def _basemap(center: Backend, token: str | None) -> dict[str, Any]:
    share, _ = _active(center, token)
    with center.db.connect() as conn:
        return basemap_near(conn, share)


@router.get(
    "/basemap",
    summary="The offline base map around the share's place (features within radius + 500 m)",
)
async def basemap(center: Center, response: Response, token: ShareCookie = None) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return await run_in_threadpool(_basemap, center, token)


def _camera(share: Share, rt: MunicipalityRuntime, camera_id: str) -> tuple[Camera, int]:
    if camera_id in share.cameras:
        for index, cam in enumerate(rt.config.cameras):
            if cam.id == camera_id:
                return cam, index
    raise HTTPException(404, f"camera {camera_id!r} is not in this share")


def _audit(center: Backend, share: Share, camera_id: str, view: str, client: str) -> None:
    """One record per viewing of each client (two people with one link: two viewings)."""
    action = AuditAction.VIDEO_LIVE if view == "live" else AuditAction.VIDEO_SNAPSHOT
    key = (str(center.db.url), share.actor, share.municipality, camera_id, action.value, client)
    if not viewing_starts(key):
        return
    with center.db.begin() as conn:
        audit.record(
            conn,
            actor=share.actor,
            action=action,
            municipality=share.municipality,
            target=camera_id,
            detail={
                "via": "share",
                "share": share.id,
                "view": view,
                "unmasked": False,
                "client": client,
            },
        )


async def _grab(center: Backend, cam: Camera, index: int) -> Snapshot:
    try:
        return await run_in_threadpool(
            partial(center.snapshots.snapshot, unmasked=False), cam, index
        )
    except NoStreamError as err:
        raise HTTPException(404, f"camera {cam.id}: {err}") from None
    except SourceError:
        raise HTTPException(503, f"camera {cam.id} is offline") from None


@router.get(
    "/cameras/{camera_id}/snapshot.jpg",
    summary="A shared camera's latest frame, privacy masks applied (JPEG)",
    responses={200: {"content": {"image/jpeg": {}}}, 503: {"description": "camera offline"}},
)
async def snapshot(
    center: Center, camera_id: str, request: Request, token: ShareCookie = None
) -> Response:
    share, rt = await run_in_threadpool(_active, center, token)
    cam, index = _camera(share, rt, camera_id)
    shot = await _grab(center, cam, index)
    await run_in_threadpool(_audit, center, share, cam.id, "snapshot", _client(request))
    return Response(
        shot.jpeg,
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Taken-At": shot.taken_at.isoformat()},
    )


@router.get(
    "/cameras/{camera_id}/live.mjpg",
    summary="A shared camera's live view as MJPEG, privacy masks applied; ends with the share",
    responses={503: {"description": "camera offline"}},
)
async def live_view(
    center: Center, camera_id: str, request: Request, token: ShareCookie = None
) -> StreamingResponse:
    share, rt = await run_in_threadpool(_active, center, token)
    cam, index = _camera(share, rt, camera_id)
    first = await _grab(center, cam, index)
    await run_in_threadpool(_audit, center, share, cam.id, "live", _client(request))
    grab = partial(center.snapshots.snapshot, unmasked=False)

    async def still_shared() -> bool:
        try:
            await run_in_threadpool(_active, center, token)
        except HTTPException:
            return False
        return True

    async def frames() -> AsyncIterator[bytes]:
        shot, checked = first, time.monotonic()
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
            if time.monotonic() - checked >= RECHECK_S:
                if not await still_shared():
                    return
                checked = time.monotonic()
            try:
                shot = await run_in_threadpool(grab, cam, index)
            except SourceError:
                return

    return StreamingResponse(
        frames(),
        media_type="multipart/x-mixed-replace; boundary=frame",
        headers={"Cache-Control": "no-store"},
    )
