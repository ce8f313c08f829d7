"""Device credentials in the database (only their hashes: tables_devices.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.store.tables_devices import device_credentials as t


@dataclass(frozen=True, slots=True)
class CredentialRow:
    id: int
    scope: DeviceScope
    secret_hash: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def username(self) -> str:
        return self.scope.username


def insert_credential(
    conn: Connection, scope: DeviceScope, *, secret_hash: str, created_by: str, now: datetime
) -> int:
    result = conn.execute(
        insert(t).values(
            username=scope.username,
            name=scope.name,
            kind=scope.kind.value,
            municipality=scope.municipality,
            devices=list(scope.devices),
            prefix=scope.prefix,
            secret_hash=secret_hash,
            created_by=created_by,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _row(row: object) -> CredentialRow:
    m = row._mapping  # type: ignore[attr-defined]
    scope = DeviceScope(
        name=m["name"],
        kind=DeviceKind(m["kind"]),
        municipality=m["municipality"],
        devices=tuple(m["devices"]),
        prefix=m["prefix"],
    )
    return CredentialRow(
        id=m["id"],
        scope=scope,
        secret_hash=m["secret_hash"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )


def username_taken(conn: Connection, username: str) -> bool:
    """Also true for a revoked credential: a username is never given twice."""
    return conn.execute(select(t.c.id).where(t.c.username == username)).first() is not None


def active(conn: Connection, username: str) -> CredentialRow | None:
    """The credential of ``username`` unless it is revoked or unknown."""
    row = conn.execute(select(t).where(t.c.username == username, t.c.revoked_at.is_(None))).first()
    return None if row is None else _row(row)


def listed(
    conn: Connection, *, municipality: str | None = None, include_revoked: bool = False
) -> Sequence[CredentialRow]:
    """Credentials by username; ``municipality``: that one's and the installation-wide ones."""
    query = select(t).order_by(t.c.username)
    if municipality is not None:
        query = query.where((t.c.municipality == municipality) | t.c.municipality.is_(None))
    if not include_revoked:
        query = query.where(t.c.revoked_at.is_(None))
    return [_row(row) for row in conn.execute(query)]


def revoke(conn: Connection, username: str, now: datetime) -> bool:
    """Revoke an active credential; False when there is none of that name."""
    result = conn.execute(
        update(t).where(t.c.username == username, t.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount == 1
