"""HTTP ingest (the same payloads as MQTT, docs/MQTT.md) and the dead letters it leaves.

The routes read the raw body instead of letting FastAPI parse it: a bad message must reach the
pipeline to be rejected with a reason, counted and kept, exactly as on MQTT. The accepted
payloads are still described in OpenAPI (``openapi_extra``).

Only an authenticated client holding ``ingest.write`` in the municipality may post (a gateway's
API token, ``Authorization: Bearer``), and only with ``Content-Type: application/json``: a web
page of another origin can send neither (a form or a no-cors ``fetch`` can only send
text/plain, form-urlencoded or multipart bodies without a preflight), so it cannot post
(docs/SECURITY.md, "Hardening"). Each client is rate limited (``hardening.ingest_quota``); a
body over the batch limit ``CITYOPS_MAX_PAYLOAD_BYTES`` is answered 413 and kept as a
``too_large`` dead letter, like on MQTT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cityops.api.auth import allow
from cityops.api.deps import Center, Conn, Runtime, get_pipeline
from cityops.api.hardening import ingest_quota
from cityops.domain.access import Permission, Principal
from cityops.ingest.payloads import Reason
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.store import observations_repo as obs

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["ingest"])

EXTERNAL_INGEST = (
    "ingest runs in `cityops ingest` processes (CITYOPS_INGEST=external): publish over MQTT; "
    "this server cannot store a reading and answer for it (docs/SCALING.md)"
)


def serving_pipeline(center: Center) -> IngestPipeline:
    """This process's pipeline; 503 when the readings are the ingest processes' (an answer
    here says what was stored and rejected, which only their transaction knows)."""
    if center.settings.ingest == "external":
        raise HTTPException(503, EXTERNAL_INGEST)
    return get_pipeline(center)


Pipeline = Annotated[IngestPipeline, Depends(serving_pipeline)]

ANSWER_TIMEOUT_S = 60.0
_F = TypeVar("_F", bound=Callable[..., Any])

_TS: dict[str, Any] = {
    "description": "ISO 8601 with a zone offset, or Unix epoch seconds; default: receipt time",
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
}
_READING: dict[str, Any] = {
    "type": "object",
    "required": ["sensor", "value"],
    "properties": {
        "sensor": {"type": "string", "description": "a configured sensor id"},
        "value": {"type": "number", "description": "finite, within the sensor's valid range"},
        "unit": {"type": "string", "description": "must match the sensor's unit when given"},
        "ts": _TS,
    },
}
_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "id": {"type": "string", "maxLength": 200, "description": "stored once per id"},
        "kind": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
        "zone": {"type": "string", "maxLength": 64},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "ts": _TS,
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _one_or_many(item: dict[str, Any], key: str) -> dict[str, Any]:
    """An item, a list of items, or ``{key: [items]}`` (payloads.py ``_items``)."""
    many = {"type": "array", "items": item}
    return {
        "anyOf": [
            item,
            many,
            {"type": "object", "required": [key], "properties": {key: many}},
        ]
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


class IngestRejection(BaseModel):
    index: int | None
    """Position of the item in a batch; null for the whole message."""
    reason: Reason
    detail: str


class IngestResult(BaseModel):
    accepted: int
    rejected: list[IngestRejection]


class IngestRefused(BaseModel):
    """The 422 (and 413) answer: FastAPI's ``detail`` envelope around the result."""

    detail: IngestResult


_REFUSED: dict[int | str, dict[str, Any]] = {
    413: {
        "model": IngestRefused,
        "description": "The body is over the batch limit (CITYOPS_MAX_PAYLOAD_BYTES): reason "
        "too_large (kept as a dead letter); split the batch",
    },
    415: {"description": "The body is not sent as application/json"},
    422: {
        "model": IngestRefused,
        "description": "Nothing in the message could be used: every rejection with its reason "
        "(the message is kept as a dead letter)",
    },
    429: {"description": "Too many requests from this client; wait Retry-After seconds"},
    503: {"description": "Ingest is not running, or did not answer in time"},
}
JSON_TYPES = frozenset({"application/json"})


def require_json(request: Request) -> None:
    """415 unless the body is declared ``application/json`` (parameters such as charset
    allowed): what a cross-site form or no-cors ``fetch`` cannot declare."""
    declared = request.headers.get("content-type", "")
    if declared.split(";", 1)[0].strip().lower() not in JSON_TYPES:
        raise HTTPException(415, "send the body as Content-Type: application/json")


def ingest_client(
    request: Request, caller: Annotated[Principal, allow(Permission.INGEST_WRITE)]
) -> Principal:
    """The authenticated client allowed to ingest here, after its rate limit."""
    ingest_quota(request, f"user:{caller.user_id}")
    return caller


def _post(path: str, item: dict[str, Any], key: str, summary: str) -> Callable[[_F], _F]:
    return router.post(
        path,
        response_model=IngestResult,
        responses=_REFUSED,
        openapi_extra=_body(_one_or_many(item, key)),
        summary=summary,
        dependencies=[Depends(require_json), Depends(ingest_client)],
    )


@_post(
    "/readings",
    _READING,
    "readings",
    "HTTP batch ingest: the gateway payload of docs/MQTT.md; answers once stored",
)
async def post_readings(rt: Runtime, pipeline: Pipeline, request: Request) -> Any:
    return await _ingest(pipeline, f"cityops/{rt.id}/readings", request)


@_post(
    "/cameras/{camera_id}/events",
    _EVENT,
    "events",
    "A camera's events (docs/MQTT.md); answers once stored",
)
async def post_camera_events(
    rt: Runtime,
    pipeline: Pipeline,
    camera_id: Annotated[str, Path(max_length=64)],
    request: Request,
) -> Any:
    return await _ingest(pipeline, f"cityops/{rt.id}/cameras/{camera_id}/events", request)


async def _ingest(pipeline: Pipeline, topic: str, request: Request) -> Any:
    limit = pipeline.limits.max_payload_bytes
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            body = body[: limit + 1]  # enough to be rejected as too large, and kept
            break
    loop = asyncio.get_running_loop()
    future: asyncio.Future[MessageOutcome] = loop.create_future()

    def done(outcome: MessageOutcome) -> None:
        loop.call_soon_threadsafe(_settle, future, outcome)

    pipeline.submit(InboundMessage(topic, bytes(body), datetime.now(UTC), source="http", done=done))
    try:
        outcome = await asyncio.wait_for(future, timeout=ANSWER_TIMEOUT_S)
    except TimeoutError:
        raise HTTPException(
            503, "ingest did not answer in time; the message stays queued"
        ) from None
    result = IngestResult(
        accepted=outcome.accepted,
        rejected=[
            IngestRejection(index=r.index, reason=r.reason, detail=r.detail)
            for r in outcome.rejections
        ],
    )
    if outcome.accepted == 0 and result.rejected:
        too_large = [r.reason for r in result.rejected] == [Reason.TOO_LARGE]
        refused = IngestRefused(detail=result).model_dump(mode="json")
        return JSONResponse(refused, status_code=413 if too_large else 422)
    return result


def _settle(future: asyncio.Future[MessageOutcome], outcome: MessageOutcome) -> None:
    if not future.done():  # answered once, even if a retried message is acknowledged twice
        future.set_result(outcome)


class DeadLetterView(BaseModel):
    id: int
    received_at: datetime
    source: str
    topic: str
    reason_code: str
    reason: str
    payload: str
    """The payload as received, cut to ``CITYOPS_DEAD_LETTER_PAYLOAD_BYTES``."""
    payload_size: int
    """The size of the whole payload."""
    payload_sha256: str | None
    """SHA-256 of the whole payload (null for letters kept before it was recorded)."""


@router.get(
    "/dead-letters",
    response_model=list[DeadLetterView],
    dependencies=[allow(Permission.DEAD_LETTERS_READ)],
)
def dead_letters(
    rt: Runtime, conn: Conn, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DeadLetterView]:
    return [DeadLetterView(**r) for r in obs.list_dead_letters(conn, rt.id, limit)]
