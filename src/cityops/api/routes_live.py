"""The live feed: Server-Sent Events of incident, sensor and camera changes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from cityops.api.deps import Center, Runtime
from cityops.services.live import LiveMessage

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["live"])

QUEUE_LIMIT = 20000
HEARTBEAT_S = 15.0


@router.get("/live", summary="Server-Sent Events: incident, sensor, camera; resync on overflow")
async def live(center: Center, rt: Runtime, request: Request) -> StreamingResponse:
    loop = asyncio.get_running_loop()
    q: asyncio.Queue[LiveMessage | None] = asyncio.Queue(QUEUE_LIMIT)
    muni = rt.id

    def put(message: LiveMessage) -> None:
        if q.full():  # a slow client: drop its backlog and tell it to refetch
            while not q.empty():
                q.get_nowait()
            q.put_nowait(None)
            return
        q.put_nowait(message)

    def listener(message: LiveMessage) -> None:
        if message.municipality == muni:
            loop.call_soon_threadsafe(put, message)

    unsubscribe = center.live.subscribe(listener)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\nevent: hello\ndata: {}\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(q.get(), HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": heartbeat\n\n"
                    continue
                if message is None:
                    yield "event: resync\ndata: {}\n\n"
                    continue
                yield f"event: {message.event}\ndata: {json.dumps(message.data)}\n\n"
        finally:
            unsubscribe()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
