"""Agency shares (``tables_shares``): stored with the digest of their token, found by it, by
incident, or as the active ones of an agency; extended, revoked and marked opened in place."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, select, update

from cityops.domain.entities import LonLat
from cityops.domain.shares import Share, ShareOrigin
from cityops.store.tables_shares import shares as t


def _share(row: RowMapping) -> Share:
    return Share(
        id=int(row["id"]),
        municipality=row["municipality"],
        incident_id=row["incident_id"],
        place=LonLat(float(row["lon"]), float(row["lat"])),
        radius_m=float(row["radius_m"]),
        cameras=tuple(str(c) for c in row["cameras"] or ()),
        agency=row["agency"],
        purpose=row["purpose"],
        origin=ShareOrigin(row["origin"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
        revoke_reason=row["revoke_reason"],
        opened_at=row["opened_at"],
    )


def insert(conn: Connection, share: Share, token_hash: str) -> Share:
    """Store ``share`` (its ``id`` is ignored) and return it with the id it got."""
    result = conn.execute(
        t.insert().values(
            municipality=share.municipality,
            incident_id=share.incident_id,
            lon=share.place.lon,
            lat=share.place.lat,
            radius_m=share.radius_m,
            cameras=list(share.cameras),
            agency=share.agency,
            purpose=share.purpose,
            origin=share.origin.value,
            token_hash=token_hash,
            created_by=share.created_by,
            created_at=share.created_at,
            expires_at=share.expires_at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    found = get(conn, share.municipality, int(key[0]))
    assert found is not None
    return found


def get(conn: Connection, municipality: str, share_id: int) -> Share | None:
    row = (
        conn.execute(select(t).where(t.c.id == share_id, t.c.municipality == municipality))
        .mappings()
        .first()
    )
    return _share(row) if row is not None else None


def by_token_hash(conn: Connection, token_hash: str) -> Share | None:
    row = conn.execute(select(t).where(t.c.token_hash == token_hash)).mappings().first()
    return _share(row) if row is not None else None


def for_incident(conn: Connection, municipality: str, incident_id: int) -> list[Share]:
    rows = conn.execute(
        select(t)
        .where(t.c.municipality == municipality, t.c.incident_id == incident_id)
        .order_by(t.c.id)
    ).mappings()
    return [_share(r) for r in rows]


def listing(
    conn: Connection, municipality: str, *, active_at: datetime | None = None, limit: int = 500
) -> list[Share]:
    """The municipality's shares, newest first; only those active at ``active_at`` if given."""
    q = select(t).where(t.c.municipality == municipality)
    if active_at is not None:
        q = q.where(t.c.revoked_at.is_(None), t.c.expires_at > active_at)
    rows = conn.execute(q.order_by(t.c.id.desc()).limit(limit)).mappings()
    return [_share(r) for r in rows]


def active_cameras(conn: Connection, municipality: str, agency: str, now: datetime) -> set[str]:
    """The cameras of the shares with ``agency`` in ``municipality`` that are active at ``now``."""
    q = select(t.c.cameras).where(
        t.c.municipality == municipality,
        t.c.agency == agency,
        t.c.revoked_at.is_(None),
        t.c.expires_at > now,
    )
    found: set[str] = set()
    for (cameras,) in conn.execute(q):
        found.update(str(c) for c in cameras or ())
    return found


def set_expiry(conn: Connection, share_id: int, expires_at: datetime) -> None:
    conn.execute(update(t).where(t.c.id == share_id).values(expires_at=expires_at))


def set_revoked(
    conn: Connection, share_id: int, *, at: datetime, by: str, reason: str | None
) -> None:
    conn.execute(
        update(t)
        .where(t.c.id == share_id, t.c.revoked_at.is_(None))
        .values(revoked_at=at, revoked_by=by, revoke_reason=reason)
    )


def mark_opened(conn: Connection, share_id: int, at: datetime) -> bool:
    """Record the first open; True only for the call that recorded it (the first one)."""
    result = conn.execute(
        update(t).where(t.c.id == share_id, t.c.opened_at.is_(None)).values(opened_at=at)
    )
    return result.rowcount == 1


def set_token_hash(conn: Connection, share_id: int, token_hash: str) -> None:
    conn.execute(update(t).where(t.c.id == share_id).values(token_hash=token_hash))
