"""Agency share use cases (issue 9 item 2; docs/AGENCIES.md "Shares").

Each change is made in the caller's transaction together with its incident timeline entry and
its audit record, so the three commit together or not at all. Finding shares (by a link's token,
checked on every use, never cached; an incident's; a municipality's) is
``services/share_lookup.py``, the timeline entries, audit records and the recipient's opening
``services/share_trail.py``; both are offered here under their own names."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from cityops.domain.audit import AuditAction
from cityops.domain.entities import LonLat
from cityops.domain.shares import (
    NewShare,
    Share,
    ShareError,
    ShareOrigin,
    SharingPolicy,
    new_token,
    share_url,
    token_digest,
)
from cityops.services import audit, share_trail
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.share_lookup import active, by_token, for_incident, listing, lookup_token
from cityops.services.share_trail import opened
from cityops.store import incidents_repo, shares_repo

__all__ = [
    "NewShare",
    "Share",
    "ShareError",
    "ShareOrigin",
    "active",
    "by_token",
    "create",
    "extend",
    "for_incident",
    "listing",
    "lookup_token",
    "opened",
    "reissue_link",
    "revoke",
]

RADIUS_MAX_M = 2000.0


def _check_minutes(policy: SharingPolicy, minutes: float) -> None:
    if not minutes > 0:
        raise ShareError("the duration must be more than 0 minutes")
    if minutes > policy.max_minutes:
        raise ShareError(f"the duration may be at most {policy.max_minutes:g} minutes")


def _place(
    conn: Connection, rt: MunicipalityRuntime, incident_id: int | None, place: LonLat | None
) -> LonLat:
    if incident_id is not None:
        record = incidents_repo.get_incident(conn, rt.id, incident_id, with_timeline=False)
        if record is None:
            raise ShareError(f"incident {incident_id} not found")
        if place is None:
            place = record.incident.location
    if place is None:
        raise ShareError("a share needs a place: the incident has no location")
    return place


def create(
    conn: Connection,
    rt: MunicipalityRuntime,
    *,
    agency: str,
    purpose: str,
    minutes: float,
    actor: str,
    now: datetime,
    public_url: str,
    incident_id: int | None = None,
    place: LonLat | None = None,
    radius_m: float | None = None,
    origin: ShareOrigin = ShareOrigin.OPERATOR,
) -> NewShare:
    """Share the cameras that see the place (the incident's location when ``incident_id`` is
    given and ``place`` is not) within ``radius_m`` with ``agency`` for ``minutes``."""
    policy = rt.config.sharing
    if not any(a.id == agency for a in rt.config.agencies):
        raise ShareError(f"unknown agency {agency!r}")
    if policy.purpose(purpose) is None:
        raise ShareError(f"unknown purpose {purpose!r}")
    _check_minutes(policy, minutes)
    radius = policy.radius_m if radius_m is None else radius_m
    if not 0 < radius <= RADIUS_MAX_M:
        raise ShareError(f"the radius must be more than 0 and at most {RADIUS_MAX_M:g} m")
    at = _place(conn, rt, incident_id, place)
    cameras = tuple(
        str(c["camera_id"]) for c in rt.cameras_seeing(at) if float(c["distance_m"]) <= radius
    )
    token = new_token()
    share = shares_repo.insert(
        conn,
        Share(
            id=0,
            municipality=rt.id,
            incident_id=incident_id,
            place=at,
            radius_m=radius,
            cameras=cameras,
            agency=agency,
            purpose=purpose,
            origin=origin,
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        ),
        token_digest(token),
    )
    share_trail.timeline(
        conn,
        share,
        "created",
        actor,
        now,
        f"shared {len(cameras)} camera(s) with {agency} ({purpose}) until "
        f"{share.expires_at.isoformat(timespec='minutes')}",
    )
    audit.record(
        conn,
        actor=actor,
        action=AuditAction.SHARE_CREATED,
        municipality=rt.id,
        target=f"share:{share.id}",
        detail={
            "agency": agency,
            "purpose": purpose,
            "origin": origin.value,
            "incident": incident_id,
            "cameras": list(cameras),
            "expires_at": share.expires_at.isoformat(),
        },
        at=now,
    )
    return NewShare(share=share, token=token, url=share_url(public_url, token))


def _load(conn: Connection, municipality: str, share_id: int) -> Share:
    share = shares_repo.get(conn, municipality, share_id)
    if share is None:
        raise LookupError(f"share {share_id} not found in {municipality}")
    return share


def _active(conn: Connection, municipality: str, share_id: int, now: datetime) -> Share:
    """The share, if it is active at ``now``; LookupError if unknown, ShareError if not."""
    share = _load(conn, municipality, share_id)
    status = share.status(now)
    if status != "active":
        raise ShareError(f"the share is {status}")
    return share


def extend(
    conn: Connection,
    municipality: str,
    share_id: int,
    *,
    minutes: float,
    actor: str,
    now: datetime,
    policy: SharingPolicy | None = None,
) -> Share:
    """Give an active share ``minutes`` more from ``now`` (its total life stays within the
    policy's maximum); LookupError if unknown, ShareError if it is no longer active."""
    share = _active(conn, municipality, share_id, now)
    limit = policy.max_minutes if policy is not None else None
    if not minutes > 0:
        raise ShareError("the duration must be more than 0 minutes")
    until = max(share.expires_at, now + timedelta(minutes=minutes))
    if limit is not None and until - share.created_at > timedelta(minutes=limit):
        raise ShareError(f"a share may last at most {limit:g} minutes in all")
    shares_repo.set_expiry(conn, share.id, until)
    changed = _load(conn, municipality, share_id)
    text = f"share with {share.agency} extended until {until.isoformat(timespec='minutes')}"
    share_trail.timeline(conn, changed, "extended", actor, now, text)
    share_trail.audit_change(
        conn, share, actor, now, {"op": "extend", "expires_at": until.isoformat()}
    )
    return changed


def revoke(
    conn: Connection,
    municipality: str,
    share_id: int,
    *,
    actor: str,
    now: datetime,
    reason: str | None,
) -> Share:
    """End a share now; revoking a revoked share changes nothing (and records nothing)."""
    share = _load(conn, municipality, share_id)
    if share.revoked_at is not None:
        return share
    why = reason.strip()[:500] if reason and reason.strip() else None
    shares_repo.set_revoked(conn, share.id, at=now, by=actor, reason=why)
    changed = _load(conn, municipality, share_id)
    text = f"share with {share.agency} revoked" + (f": {why}" if why else "")
    share_trail.timeline(conn, changed, "revoked", actor, now, text)
    share_trail.audit_change(conn, share, actor, now, {"op": "revoke"}, reason=why)
    return changed


def reissue_link(
    conn: Connection,
    municipality: str,
    share_id: int,
    *,
    actor: str,
    now: datetime,
    public_url: str,
) -> NewShare:
    """A new link for an active share (an auto share's, or one whose link was lost); the old
    link stops working at once."""
    share = _active(conn, municipality, share_id, now)
    token = new_token()
    shares_repo.set_token_hash(conn, share.id, token_digest(token))
    share_trail.audit_change(conn, share, actor, now, {"op": "link"})
    return NewShare(share=share, token=token, url=share_url(public_url, token))
