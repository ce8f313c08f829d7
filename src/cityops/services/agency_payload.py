"""A location request and its answer on the wire (JSON over HTTP and MQTT alike; docs/AGENCIES.md
"Location requests").

Request: a JSON object ``{"case", "type", "lon", "lat"}`` with optional ``agency`` (must be the
caller's own), ``note`` and ``request_id`` (echoed back); other fields are ignored, as an
agency's system may send more. :func:`decode_request` turns any bytes into a
:class:`LocationRequest` or a :class:`RequestRefusedError` with its reason (property-tested:
nothing else escapes)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from cityops.domain.agency_requests import CASE, LocationRequest, Refusal, RequestRefusedError
from cityops.domain.entities import LonLat

MAX_BYTES = 8192
"""A request is a few hundred bytes; anything beyond this is refused unread."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RequestBody(BaseModel):
    """The request's JSON object (the OpenAPI body of POST .../agency/requests)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, strict=True)

    case: Annotated[Text, StringConstraints(max_length=64)] = Field(
        description="The agency's own case number: 1-64 letters, digits, '.', '_', ':' or '-', "
        "starting with a letter or digit",
        examples=["112-2026-004711"],
    )
    type: Annotated[Text, StringConstraints(max_length=64)] = Field(
        description="A request type the municipality allows the agency (a sharing purpose id)",
        examples=["robbery"],
    )
    lon: float = Field(ge=-180.0, le=180.0, description="WGS 84 longitude")
    lat: float = Field(ge=-90.0, le=90.0, description="WGS 84 latitude")
    agency: Annotated[Text, StringConstraints(max_length=64)] | None = Field(
        default=None, description="The requesting agency; if given, the caller's own"
    )
    note: Annotated[Text, StringConstraints(max_length=1000)] | None = None
    request_id: Annotated[Text, StringConstraints(max_length=128)] | None = Field(
        default=None, description="Echoed in the answer (correlation without MQTT 5)"
    )


class RequestAnswer(BaseModel):
    """What a served request gets (HTTP 201; MQTT: on the response topic)."""

    ok: bool = True
    case: str
    request_id: str | None = None
    incident_id: int
    incident_created: bool
    """False: the case was known and the request joined its open incident."""
    share_id: int
    link: str
    """``<public_url>/share.html#<token>``: the live video of the cameras below until expiry."""
    expires_at: datetime
    cameras: list[str]
    answered_ms: float
    """CityOps's own time from receipt to answer."""


class RequestError(BaseModel):
    """What a refused request gets (HTTP: its status; MQTT: on the response topic)."""

    ok: bool = False
    status: int
    reason: Refusal
    detail: str
    case: str | None = None
    request_id: str | None = None


def _as_object(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BYTES:
        raise RequestRefusedError(Refusal.TOO_LARGE, f"a request is at most {MAX_BYTES} bytes")
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestRefusedError(Refusal.MALFORMED, "the body is not UTF-8 JSON") from None
    if not isinstance(doc, dict):
        raise RequestRefusedError(Refusal.MALFORMED, "the body is not a JSON object")
    return doc


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def peek(body: bytes) -> tuple[str | None, str | None]:
    """(case, request_id) as the body gives them, if it does, for an error answer's echo."""
    try:
        doc = _as_object(body)
    except RequestRefusedError:
        return None, None
    case, rid = doc.get("case"), doc.get("request_id")
    return (
        case if isinstance(case, str) and CASE.fullmatch(case) else None,
        rid[:128] if isinstance(rid, str) else None,
    )


def decode_request(body: bytes) -> LocationRequest:
    """The request in ``body``, or RequestRefusedError (malformed, too large, missing or bad
    case number)."""
    doc = _as_object(body)
    case = doc.get("case")
    if case is None or (isinstance(case, str) and not case.strip()):
        raise RequestRefusedError(
            Refusal.MISSING_CASE, "case: the agency's case number is required"
        )
    try:
        parsed = RequestBody.model_validate(doc)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise RequestRefusedError(Refusal.MALFORMED, f"{where}: {first['msg']}") from None
    if not CASE.fullmatch(parsed.case):
        raise RequestRefusedError(
            Refusal.BAD_CASE,
            "case: 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
        )
    return LocationRequest(
        case=parsed.case,
        type=parsed.type,
        place=LonLat(parsed.lon, parsed.lat),
        agency=parsed.agency,
        note=parsed.note,
        request_id=parsed.request_id,
    )
