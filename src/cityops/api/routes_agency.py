"""Location requests from agency systems over HTTP (docs/AGENCIES.md "Location requests").

An agency's system authenticates with a liaison account's API token (``agency.request``); the
membership's agency is the requesting agency. The body is decoded by the same code as the MQTT
requests (services/agency_payload.py), so both answer alike: 201 with the share's link, or the
refusal's status with ``{ok: false, status, reason, detail, case, request_id}``."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Center, Runtime
from cityops.domain.access import Permission, Principal
from cityops.domain.agency_requests import Refusal, RequestRefusedError
from cityops.services import agency_requests as svc
from cityops.services.agency_payload import RequestAnswer, RequestBody, RequestError, peek

router = APIRouter(prefix="/api/v1/m/{mid}/agency", tags=["agency requests"])

Requesting = Annotated[Principal, allow(Permission.AGENCY_REQUEST)]

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": RequestBody.model_json_schema()}},
    }
}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": RequestError, "description": description}
    for status, description in (
        (403, "wrong agency, or the agency may not request here"),
        (409, "the share could not be made as configured"),
        (413, "body too large"),
        (422, "malformed, missing or bad case number, unknown type, outside the municipality"),
        (503, "the request could not be stored: retry"),
    )
}


def refusal(err: RequestRefusedError, body: bytes) -> JSONResponse:
    case, request_id = peek(body)
    shown = RequestError(
        status=err.status, reason=err.reason, detail=err.message, case=case, request_id=request_id
    )
    return JSONResponse(shown.model_dump(mode="json"), status_code=err.status)


@router.post(
    "/requests",
    status_code=201,
    response_model=RequestAnswer,
    responses=_REFUSALS,
    openapi_extra=_BODY,
    summary="An agency system's location request: incident, cameras, share link",
)
async def location_request(
    request: Request, caller: Requesting, center: Center, rt: Runtime
) -> JSONResponse:
    received = time.perf_counter()
    body = await request.body()
    agency = caller.agency_scope(rt.id, now_utc())
    if agency is None:
        svc.COUNTS.add(Refusal.WRONG_AGENCY.value)
        no_agency = "the token must be a liaison account's with an agency in this municipality"
        return refusal(RequestRefusedError(Refusal.WRONG_AGENCY, no_agency), body)
    who = svc.Requester(agency=agency, via="http", actor=caller.username)
    try:
        answer = await run_in_threadpool(
            svc.handle,
            center.db,
            rt,
            center.live,
            body,
            who,
            public_url=center.settings.public_url,
            clock=now_utc,
            received=received,
        )
    except RequestRefusedError as err:
        return refusal(err, body)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201)
