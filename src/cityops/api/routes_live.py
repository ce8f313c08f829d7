"""The live feed: Server-Sent Events of incident, sensor and camera changes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence

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

    def put(messages: list[LiveMessage]) -> None:
        if q.qsize() + len(messages) >= QUEUE_LIMIT:  # a slow client: drop, ask it to refetch
            while not q.empty():
                q.get_nowait()
            q.put_nowait(None)
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
            yield "retry: 2000\nevent: hello\ndata: {}\n\n"
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
                yield "".join(
                    "event: resync\ndata: {}\n\n"
                    if m is None
                    else f"event: {m.event}\ndata: {json.dumps(m.data)}\n\n"
                    for m in chunk
                )
        finally:
            unsubscribe()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
