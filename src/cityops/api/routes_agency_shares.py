"""A liaison's view of the shares with its agency (issue 9 item 2; docs/AGENCIES.md "Shares").

A liaison account stands for its agency: while a share with that agency is active, the account
sees the shared cameras through the console's camera routes (services/access_scope.py), and here
what the share's link would show: the share, its incident's summary and its cameras. An account
without an agency (an operator) has no shares with it: the answer is empty."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Center, Conn, Runtime
from cityops.api.share_access_views import AccessView, access_view
from cityops.domain.access import Permission, Principal
from cityops.services import shares as svc

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["shares"])

Viewer = Annotated[Principal, allow(Permission.VIDEO_VIEW)]


@router.get(
    "/agency/shares",
    response_model=list[AccessView],
    summary="The active shares with the caller's agency (a liaison account)",
)
def agency_shares(caller: Viewer, center: Center, rt: Runtime, conn: Conn) -> list[AccessView]:
    now = now_utc()
    agency = caller.agency_scope(rt.id, now)
    if agency is None:
        return []
    mine = [s for s in svc.active(conn, rt.id, now) if s.agency == agency]
    return [access_view(center.db, s, rt, now) for s in mine]
