"""The live feed: Server-Sent Events of incident, sensor and camera changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from cityops.api.auth import allow, now_utc, recheck
from cityops.api.deps import Center, Runtime
from cityops.domain.access import Permission, Principal
from cityops.services.access_scope import LiveScope
from cityops.services.live import (
    HelloPayload,
    LiveKind,
    LiveMessage,
    ResyncPayload,
    ResyncReason,
)

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["live"])

QUEUE_LIMIT = 20000
"""A client this many messages behind loses what was queued for it and is sent ``resync``."""
HEARTBEAT_S = 15.0
"""A ``: heartbeat`` comment after this long without a message (keeps proxies from closing)."""
RECHECK_S = 15.0
"""How often a connection re-reads its principal: a revoked membership, token or session, or an
expired membership, ends the stream; a liaison's visible cameras are refreshed."""

Reader = Annotated[Principal, allow(Permission.INCIDENTS_READ)]


def _still_allowed(center: Center, request: Request, mid: str) -> LiveScope | None:
    """The connection's scope as the database says now, or None when it must end."""
    fresh = recheck(center, request)
    now = now_utc()
    if fresh is None or not fresh.can(mid, Permission.INCIDENTS_READ, now):
        return None
    with center.db.connect() as conn:
        return LiveScope.of(conn, fresh, mid, now)


ALWAYS = frozenset({LiveKind.HELLO, LiveKind.RESYNC})
"""Sent whatever ``kinds`` a client asks for: what a connection needs to stay in step."""


def wanted_kinds(kinds: str | None) -> frozenset[LiveKind] | None:
    """``kinds=incident,camera`` as the set of kinds to send (None: every kind); an unknown
    name is a 422 that lists the known ones."""
    if kinds is None:
        return None
    names = [name.strip() for name in kinds.split(",") if name.strip()]
    known = {k.value: k for k in LiveKind}
    unknown = sorted({name[:40] for name in names if name not in known})
    if unknown or not names:
        raise HTTPException(
            422,
            f"unknown live kind(s) {', '.join(map(repr, unknown)) or '(none named)'}; "
            f"known: {', '.join(known)}",
        )
    return ALWAYS | {known[name] for name in names}


def _sse(message: LiveMessage) -> str:
    return f"event: {message.kind}\ndata: {message.data_json()}\n\n"


@router.get("/live", summary="Server-Sent Events: incident, sensor, camera; resync on overflow")
async def live(
    caller: Reader,
    center: Center,
    rt: Runtime,
    request: Request,
    kinds: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Comma-separated kinds to send (e.g. `incident`); `hello` and "
            "`resync` always come. Absent: every kind.",
        ),
    ] = None,
) -> StreamingResponse:
    """Only what the caller may see: a liaison its agency's incidents and their cameras, a
    neighbour the incidents handed over to it; the stream ends when the membership does."""
    wanted = wanted_kinds(kinds)
    loop = asyncio.get_running_loop()
    limit = QUEUE_LIMIT
    q: asyncio.Queue[LiveMessage] = asyncio.Queue(limit)
    muni = rt.id
    resync = LiveMessage(muni, LiveKind.RESYNC, ResyncPayload(reason=ResyncReason.OVERFLOW))

    def put(messages: list[LiveMessage]) -> None:
        if q.qsize() + len(messages) >= limit:  # a slow client: drop, ask it to refetch
            while not q.empty():
                q.get_nowait()
            q.put_nowait(resync)
            return
        for message in messages:
            q.put_nowait(message)

    scope = await asyncio.to_thread(_still_allowed, center, request, muni)
    if scope is None:
        raise HTTPException(404, f"unknown municipality {muni!r}")
    holder: list[LiveScope | None] = [scope]

    def listener(messages: Sequence[LiveMessage]) -> None:
        current = holder[0]
        if current is None or (current.until is not None and now_utc() >= current.until):
            return
        mine = [m for m in messages if (wanted is None or m.kind in wanted) and current.admits(m)]
        if mine:
            loop.call_soon_threadsafe(put, mine)

    unsubscribe = center.live.subscribe(listener)

    async def stream() -> AsyncIterator[str]:
        try:
            hello = HelloPayload(municipality=muni, server_time=datetime.now(UTC))
            yield "retry: 2000\n" + _sse(LiveMessage(muni, LiveKind.HELLO, hello))
            checked = loop.time()
            while holder[0] is not None:
                if loop.time() - checked >= RECHECK_S:
                    fresh = await asyncio.to_thread(_still_allowed, center, request, muni)
                    old = holder[0]
                    if fresh is not None and old is not None:  # hand-overs learnt meanwhile
                        fresh.shared |= old.shared
                    holder[0], checked = fresh, loop.time()
                    if fresh is None:
                        return
                try:
                    message = await asyncio.wait_for(q.get(), min(HEARTBEAT_S, RECHECK_S))
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": heartbeat\n\n"
                    continue
                chunk = [message]
                while not q.empty() and len(chunk) < 1000:  # one write for what is waiting
                    chunk.append(q.get_nowait())
                yield "".join(_sse(m) for m in chunk)
        finally:
            unsubscribe()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
