"""Dependencies shared by the routers: the control center, a connection, the municipality,
and the operator making a change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, HTTPException, Path, Request
from pydantic import AfterValidator, AwareDatetime
from sqlalchemy import Connection

from cityops.app import ControlCenter
from cityops.ingest.pipeline import IngestPipeline
from cityops.services.runtime import MunicipalityRuntime

IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="An incident's number")]
"""Bounded to PostgreSQL's integer: a larger number is a 422, not a database error."""

QUERY_YEARS = (1970, 2200)


def _sane_time(ts: datetime) -> datetime:
    # checked on the year before any conversion: 0001-01-01 at +14:00 cannot be moved to UTC
    if not QUERY_YEARS[0] <= ts.year <= QUERY_YEARS[1]:
        raise ValueError(f"a time between the years {QUERY_YEARS[0]} and {QUERY_YEARS[1]}")
    return ts.astimezone(UTC)


QueryTime = Annotated[AwareDatetime, AfterValidator(_sane_time)]
"""A time in a query: with a zone (naive times are ambiguous), between 1970 and 2200 (nothing
CityOps stores lies outside, and the calendar's edges overflow on conversion)."""


def get_center(request: Request) -> ControlCenter:
    center: ControlCenter = request.app.state.center
    return center


Center = Annotated[ControlCenter, Depends(get_center)]


def get_conn(center: Center) -> Iterator[Connection]:
    with center.db.connect() as conn:
        yield conn


Conn = Annotated[Connection, Depends(get_conn)]


def get_runtime(center: Center, mid: Annotated[str, Path(max_length=64)]) -> MunicipalityRuntime:
    rt = center.runtimes.get(mid)
    if rt is None:
        raise HTTPException(404, f"unknown municipality {mid!r}")
    return rt


Runtime = Annotated[MunicipalityRuntime, Depends(get_runtime)]


def get_pipeline(center: Center) -> IngestPipeline:
    if center.pipeline is None:
        raise HTTPException(503, "ingest is not running")
    return center.pipeline


Pipeline = Annotated[IngestPipeline, Depends(get_pipeline)]

_OPERATOR = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def get_operator(
    x_cityops_operator: Annotated[str | None, Header()] = None,
) -> str:
    """Who makes a change: every write names its operator (recorded in the timeline).

    The header is percent-encoded UTF-8 so that Cyrillic names travel in HTTP headers."""
    try:
        name = unquote(x_cityops_operator or "", errors="strict").strip()
    except UnicodeDecodeError:
        name = ""
    if not name or not _OPERATOR.match(name):
        raise HTTPException(
            401, "name the operator in the X-CityOps-Operator header (1-100 printable characters)"
        )
    return name


Operator = Annotated[str, Depends(get_operator)]
