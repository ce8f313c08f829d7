"""Device credentials for MQTT: made (the secret shown once), listed, revoked, checked.

Every change is recorded in the audit log in the same transaction. What a credential may do on
the broker is domain/devices.py's :func:`~cityops.domain.devices.grants`; this module adds what
needs the database: the Frigate prefixes an ingest credential reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from cityops.domain.device_secret import hash_secret, new_secret, verify
from cityops.domain.devices import (
    DeviceKind,
    DeviceScope,
    Grant,
    check_scope,
    grants,
    prefixes_overlap,
)
from cityops.services import audit
from cityops.store import devices_repo
from cityops.store.devices_repo import CredentialRow

__all__ = ["CredentialError", "CredentialRow", "Issued", "create", "listed", "revoke"]


class CredentialError(ValueError):
    """A credential that cannot be made or revoked (the message says why)."""


@dataclass(frozen=True, slots=True)
class Issued:
    row: CredentialRow
    secret: str
    """Shown once: only its hash is stored."""


def create(
    conn: Connection, scope: DeviceScope, *, actor: str, now: datetime | None = None
) -> Issued:
    """A new credential for ``scope`` (ScopeError / CredentialError when it cannot be made)."""
    check_scope(scope)
    when = now or datetime.now(UTC)
    if devices_repo.username_taken(conn, scope.username):
        raise CredentialError(f"{scope.username} exists (or existed): choose another name")
    if scope.prefix is not None:
        for other in devices_repo.listed(conn):
            theirs = other.scope.prefix
            if (
                theirs is not None
                and other.scope.municipality != scope.municipality
                and prefixes_overlap(theirs, scope.prefix)
            ):
                raise CredentialError(
                    f"prefix {scope.prefix!r} overlaps {theirs!r} of {other.scope.municipality}"
                )
    secret = new_secret()
    digest = hash_secret(secret)
    ident = devices_repo.insert_credential(
        conn, scope, secret_hash=digest, created_by=actor, now=when
    )
    audit.record(
        conn,
        actor=actor,
        action=audit.AuditAction.DEVICE_CREDENTIAL,
        municipality=scope.municipality,
        target=scope.username,
        detail={
            "op": "create",
            "kind": scope.kind.value,
            "devices": list(scope.devices),
            "prefix": scope.prefix,
        },
        at=when,
    )
    row = CredentialRow(ident, scope, digest, actor, when, None)
    return Issued(row, secret)


def revoke(
    conn: Connection,
    username: str,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> CredentialRow:
    """Revoke an active credential; CredentialError when there is none of that name."""
    row = devices_repo.active(conn, username)
    when = now or datetime.now(UTC)
    if row is None or not devices_repo.revoke(conn, username, when):
        raise CredentialError(f"no active credential {username!r}")
    audit.record(
        conn,
        actor=actor,
        action=audit.AuditAction.DEVICE_CREDENTIAL,
        municipality=row.scope.municipality,
        target=username,
        reason=reason,
        detail={"op": "revoke", "kind": row.scope.kind.value},
        at=when,
    )
    return row


def listed(
    conn: Connection, *, municipality: str | None = None, include_revoked: bool = False
) -> Sequence[CredentialRow]:
    return devices_repo.listed(conn, municipality=municipality, include_revoked=include_revoked)


def exists(conn: Connection, username: str) -> bool:
    """Some credential, revoked or not, has this username."""
    return devices_repo.username_taken(conn, username)


def find_active(conn: Connection, username: str) -> CredentialRow | None:
    return devices_repo.active(conn, username)


def authenticate(conn: Connection, username: str, password: str) -> CredentialRow | None:
    """The active credential when ``password`` is its secret, else None."""
    row = devices_repo.active(conn, username)
    if row is None or not verify(password, row.secret_hash):
        return None
    return row


def frigate_prefixes(rows: Sequence[CredentialRow], municipality: str | None) -> list[str]:
    """The prefixes of the active Frigate credentials an ingest of ``municipality`` (None: of
    the whole installation) reads ``<prefix>/events`` of."""
    return sorted(
        {
            r.scope.prefix
            for r in rows
            if r.scope.kind is DeviceKind.FRIGATE
            and r.scope.prefix is not None
            and r.revoked_at is None
            and (municipality is None or r.scope.municipality == municipality)
        }
    )


def grants_of(row: CredentialRow, everyone: Sequence[CredentialRow]) -> tuple[Grant, ...]:
    """What ``row`` may read and write; ``everyone``: the active credentials (for an ingest's
    Frigate prefixes)."""
    prefixes = (
        frigate_prefixes(everyone, row.scope.municipality)
        if row.scope.kind is DeviceKind.INGEST
        else ()
    )
    return grants(row.scope, prefixes)
