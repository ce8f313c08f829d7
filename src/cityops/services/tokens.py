"""API tokens: created for an account (shown once, stored as SHA-256), revoked at once, and
turned into the account's :class:`~cityops.domain.access.Principal` on each request.

:func:`token_principal` answers through this process's principal cache (store/principal_cache.py;
a revoke forgets the account's entries at once); :func:`principal_for_token` asks the database."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, Engine

from cityops.domain.access import Principal
from cityops.domain.audit import AuditAction
from cityops.services import audit
from cityops.services.accounts import TOUCH_EVERY, AccountError, digest, principal
from cityops.store import access_repo as repo
from cityops.store import principal_cache
from cityops.store.principal_cache import CACHE, Entry

TOKEN_PREFIX = "cot_"


def create_token(
    conn: Connection, user_id: int, name: str, *, actor: str, now: datetime
) -> tuple[int, str]:
    """A new API token for the account: (its id, the token). The token is shown only now; the
    database keeps its SHA-256. Audited as ``token.created``."""
    user = repo.user_by_id(conn, user_id)
    if user is None:
        raise AccountError(f"no user {user_id}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = repo.insert_token(conn, user_id, digest(token), name[:100], now)
    audit.record(
        conn,
        actor=actor,
        action=AuditAction.TOKEN_CREATED,
        municipality=None,
        target=f"user:{user.username}",
        detail={"token_id": token_id, "name": name[:100]},
        at=now,
    )
    return token_id, token


def revoke_token(conn: Connection, token_id: int, *, actor: str, now: datetime) -> bool:
    """Revoke a token at once (False: unknown or already revoked). Audited as ``token.revoked``."""
    row = repo.token_by_id(conn, token_id)
    if row is None or not repo.revoke_token(conn, token_id, now):
        return False
    user = repo.user_by_id(conn, row.user_id)
    audit.record(
        conn,
        actor=actor,
        action=AuditAction.TOKEN_REVOKED,
        municipality=None,
        target=f"user:{user.username if user else row.user_id}",
        detail={"token_id": token_id, "name": row.name},
        at=now,
    )
    return True


def _token(conn: Connection, key: str, now: datetime) -> tuple[Principal, datetime] | None:
    row = repo.token_by_digest(conn, key)
    if row is None or row.revoked_at is not None:
        return None
    user = repo.user_by_id(conn, row.user_id)
    if user is None or user.disabled:
        return None
    used = row.last_used_at
    if used is None or now - used >= TOUCH_EVERY:
        repo.touch_token(conn, row.id, now)
        used = now
    return principal(conn, user, "token"), used


def principal_for_token(conn: Connection, token: str, *, now: datetime) -> Principal | None:
    """The token's account as the database says now (None: unknown, revoked or disabled)."""
    found = _token(conn, digest(token), now)
    return None if found is None else found[0]


def cached_token(db: Engine, token: str, *, now: datetime, cache_s: float) -> Principal | None:
    """The token's principal from this process's principal cache, without I/O; None when not
    cached (or too old, or the token's use due to be written): then ask :func:`token_principal`."""
    entry = CACHE.get(principal_cache.database(db), digest(token), cache_s)
    if (
        entry is not None
        and entry.csrf is None
        and entry.last_seen_at is not None
        and now - entry.last_seen_at < TOUCH_EVERY
    ):
        return entry.principal
    return None


def token_principal(db: Engine, token: str, *, now: datetime, cache_s: float) -> Principal | None:
    """:func:`principal_for_token` through this process's principal cache: an entry younger
    than ``cache_s`` answers while the token's use is not due to be written again."""
    cached = cached_token(db, token, now=now, cache_s=cache_s)
    if cached is not None:
        return cached
    key = digest(token)
    name = principal_cache.database(db)
    started = CACHE.clock()
    with db.begin() as conn:
        found = _token(conn, key, now)
    if found is None:
        return None
    who, used = found
    CACHE.put(name, key, Entry(who, None, used, None, started), cache_s)
    return who
