"""The auditor's view of the audit log ("who saw which camera when, and why") and the
administrators' view of retention (its policy in force and its last runs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cityops.api.auth import allow
from cityops.api.deps import Center, Conn, QueryTime, Runtime
from cityops.domain.access import Permission
from cityops.domain.audit import AuditAction
from cityops.domain.retention import DataKind, RetentionPolicy
from cityops.services import retention
from cityops.store import audit_repo
from cityops.store.audit_repo import AuditFilter

router = APIRouter(prefix="/api/v1/m/{mid}", tags=["audit"])

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


@router.get(
    "/audit",
    response_model=list[AuditEntry],
    dependencies=[allow(Permission.AUDIT_READ)],
    summary="The municipality's audit records, newest first",
)
def audit_log(
    rt: Runtime,
    conn: Conn,
    action: Annotated[list[AuditAction] | None, Query(description="Any of these actions")] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    target: Annotated[str | None, Query(max_length=300)] = None,
    camera: Annotated[
        str | None, Query(max_length=64, description="Views of this camera (video.* actions)")
    ] = None,
    since: QueryTime = None,
    until: QueryTime = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only records before this seq (paging)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
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
            municipality=rt.id,
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
    "/retention",
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
