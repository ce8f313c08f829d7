"""The auditor's view of the audit log ("who saw which camera when, and why") and the
administrators' view of retention (its policy in force and its last runs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Connection

from cityops.api.auth import allow
from cityops.api.deps import Center, Conn, QueryTime, Runtime
from cityops.domain.access import Permission
from cityops.domain.audit import INSTALLATION_CHAIN, AuditAction
from cityops.domain.retention import DataKind, RetentionPolicy
from cityops.services import retention
from cityops.store import audit_repo
from cityops.store.audit_repo import AuditFilter

router = APIRouter(prefix="/api/v1", tags=["audit"])

VIDEO_ACTIONS = (
    AuditAction.VIDEO_LIVE,
    AuditAction.VIDEO_SNAPSHOT,
    AuditAction.VIDEO_CLIP,
    AuditAction.VIDEO_UNMASKED,
)


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    municipality: str | None
    target: str | None
    reason: str | None
    detail: dict[str, Any]


Actions = Annotated[list[AuditAction] | None, Query(description="Any of these actions")]
Actor = Annotated[str | None, Query(max_length=200)]
Target = Annotated[str | None, Query(max_length=300)]
Camera = Annotated[
    str | None, Query(max_length=64, description="Views of this camera (video.* actions)")
]
Before = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="Only records before this seq (paging)")
]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get(
    "/m/{mid}/audit",
    response_model=list[AuditEntry],
    dependencies=[allow(Permission.AUDIT_READ)],
    summary="The municipality's audit records, newest first",
)
def audit_log(
    rt: Runtime,
    conn: Conn,
    action: Actions = None,
    actor: Actor = None,
    target: Target = None,
    camera: Camera = None,
    since: QueryTime = None,
    until: QueryTime = None,
    before: Before = None,
    limit: Limit = 200,
) -> list[AuditEntry]:
    return _search(conn, rt.id, action, actor, target, camera, since, until, before, limit)


@router.get(
    "/audit",
    response_model=list[AuditEntry],
    dependencies=[allow(Permission.AUDIT_READ)],
    summary="The installation's own audit records (logins, accounts), newest first",
)
def installation_audit_log(
    conn: Conn,
    action: Actions = None,
    actor: Actor = None,
    target: Target = None,
    since: QueryTime = None,
    until: QueryTime = None,
    before: Before = None,
    limit: Limit = 200,
) -> list[AuditEntry]:
    return _search(
        conn, INSTALLATION_CHAIN, action, actor, target, None, since, until, before, limit
    )


def _search(
    conn: Connection,
    chain: str,
    action: list[AuditAction] | None,
    actor: str | None,
    target: str | None,
    camera: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEntry]:
    actions: list[str] = [str(a) for a in action or ()]
    if camera is not None:
        video = [str(a) for a in VIDEO_ACTIONS]
        actions = [a for a in actions if a in video] if actions else video
        if not actions or (target is not None and target != camera):
            return []
        target = camera
    found = audit_repo.search(
        conn,
        AuditFilter(
            municipality=chain,
            actions=actions,
            actor=actor,
            target=target,
            since=since,
            until=until,
            before_seq=before,
            limit=limit,
        ),
    )
    return [
        AuditEntry(
            seq=r.seq,
            at=r.at,
            actor=r.actor,
            action=r.action,
            municipality=r.municipality,
            target=r.target,
            reason=r.reason,
            detail=dict(r.detail),
        )
        for r in found
    ]


class RetentionRun(BaseModel):
    started_at: datetime
    finished_at: datetime
    actor: str
    ok: bool
    removed: dict[str, int]
    cutoffs: dict[str, str | None]
    error: str | None


class RetentionView(BaseModel):
    days: dict[str, float | None]
    """Per data kind, the days it is kept (null: for ever)."""
    interval_s: float
    last_run: RetentionRun | None
    runs: list[RetentionRun]


@router.get(
    "/m/{mid}/retention",
    response_model=RetentionView,
    dependencies=[allow(Permission.RETENTION_MANAGE)],
    summary="Retention in force and its last runs",
)
def retention_view(rt: Runtime, center: Center) -> RetentionView:
    policy = rt.config.retention or RetentionPolicy()
    default = center.settings.evidence_retention_days
    days: dict[str, float | None] = {}
    for kind in DataKind:
        value = policy.days(kind, default)
        days[str(kind)] = value if value > 0 else None
    runs = [
        RetentionRun(
            started_at=r.started_at,
            finished_at=r.finished_at,
            actor=r.actor,
            ok=r.ok,
            removed=dict(r.removed),
            cutoffs=dict(r.cutoffs),
            error=r.error,
        )
        for r in retention.last_runs(center.db, rt.id)
    ]
    return RetentionView(
        days=days,
        interval_s=center.settings.retention_interval_s,
        last_run=runs[0] if runs else None,
        runs=runs,
    )
