"""The live feed: Server-Sent Events of incident, sensor and camera changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from cityops.api.deps import Center, Runtime
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


def _sse(message: LiveMessage) -> str:
    return f"event: {message.kind}\ndata: {message.data_json()}\n\n"


@router.get("/live", summary="Server-Sent Events: incident, sensor, camera; resync on overflow")
async def live(center: Center, rt: Runtime, request: Request) -> StreamingResponse:
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

    def listener(messages: Sequence[LiveMessage]) -> None:
        mine = [m for m in messages if m.municipality == muni]
        if mine:
            loop.call_soon_threadsafe(put, mine)

    unsubscribe = center.live.subscribe(listener)

    async def stream() -> AsyncIterator[str]:
        try:
            hello = HelloPayload(municipality=muni, server_time=datetime.now(UTC))
            yield "retry: 2000\n" + _sse(LiveMessage(muni, LiveKind.HELLO, hello))
            while True:
                try:
                    message = await asyncio.wait_for(q.get(), HEARTBEAT_S)
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
