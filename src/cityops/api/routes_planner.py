"""Stored camera network plans of a municipality (docs/PLANNER.md "Console"): the list, and one
plan as the GeoJSON ``cityops plan`` wrote. Plans are stored by ``cityops plan --municipality``
(an administrator's command on the server), not over HTTP: a town's plan is tens of kilobytes
to megabytes, above the API's request body limit, and is computed where the extract is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel

from cityops.api.auth import allow
from cityops.api.deps import Conn
from cityops.domain.access import Permission, Principal
from cityops.store import plans_repo

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["planner"])

Reader = Annotated[Principal, allow(Permission.SOURCES_READ)]
PlanId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class PlanView(BaseModel):
    id: int
    name: str
    budget: float
    cost: float
    cameras: int
    coverage: float
    """Share of the weighted demand covered (existing cameras included), 0..1."""
    gap: float
    """Proven gap to the upper bound (0 = optimal)."""
    created_by: str
    created_at: datetime


@router.get("/plans", response_model=list[PlanView])
def list_plans(mid: str, conn: Conn, _: Reader) -> list[PlanView]:
    """The municipality's camera network plans, newest first."""
    return [
        PlanView(
            id=p.id,
            name=p.name,
            budget=p.budget,
            cost=p.cost,
            cameras=p.cameras,
            coverage=p.coverage,
            gap=p.gap,
            created_by=p.created_by,
            created_at=p.created_at,
        )
        for p in plans_repo.list_plans(conn, mid)
    ]


@router.get(
    "/plans/{plan_id}",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def get_plan(mid: str, plan_id: PlanId, conn: Conn, _: Reader) -> Response:
    """One plan as GeoJSON (features kind camera, view, key_object; summary in ``plan``)."""
    text = plans_repo.get_geojson(conn, mid, plan_id)
    if text is None:
        raise HTTPException(404, f"no plan {plan_id} in {mid}")
    return Response(text, media_type="application/geo+json")
