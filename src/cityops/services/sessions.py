"""Console sessions: opened at login (the cookie's secret handed out once, its SHA-256 stored with
the CSRF token), ended by logout, idleness, their absolute end, a password change or a disabled
account; a cookie turned into its account's :class:`~cityops.domain.access.Principal` by
:func:`session_principal` (through this process's principal cache, store/principal_cache.py) or
:func:`principal_for_session` (the database only)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from cityops.domain.access import Principal
from cityops.services.accounts import TOUCH_EVERY, digest, principal
from cityops.store import access_repo as repo
from cityops.store import principal_cache
from cityops.store.access_repo import SessionRow
from cityops.store.principal_cache import CACHE, Entry


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str
    """The session id for the cookie (only its digest is stored)."""
    csrf: str
    expires_at: datetime


def open_session(
    conn: Connection,
    user_id: int,
    *,
    via: str,
    now: datetime,
    absolute_s: float,
    idle_s: float | None = None,
) -> NewSession:
    """A new console session; with ``idle_s``, the sessions that ended meanwhile (idle or past
    their end, never logged out) are swept away at the same time."""
    if idle_s is not None:
        repo.delete_expired_sessions(conn, now - timedelta(seconds=idle_s), now)
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=absolute_s)
    repo.insert_session(
        conn,
        digest=digest(cookie),
        user_id=user_id,
        csrf=csrf,
        via=via,
        now=now,
        expires_at=expires_at,
    )
    return NewSession(cookie, csrf, expires_at)


def touch_every(idle_s: float) -> timedelta:
    """How often a session's activity is written: never so rarely that it idles out in use."""
    return min(TOUCH_EVERY, timedelta(seconds=idle_s / 4))


def _session(
    conn: Connection, key: str, *, now: datetime, idle_s: float, touch: bool
) -> tuple[Principal, SessionRow] | None:
    s = repo.session_by_digest(conn, key)
    if s is None:
        return None
    if now >= s.expires_at or now - s.last_seen_at >= timedelta(seconds=idle_s):
        repo.delete_session(conn, key)
        return None
    user = repo.user_by_id(conn, s.user_id)
    if user is None or user.disabled:
        return None
    if touch and now - s.last_seen_at >= touch_every(idle_s):
        repo.touch_session(conn, key, now)
        s = SessionRow(s.user_id, s.csrf, s.via, s.created_at, now, s.expires_at)
    return principal(conn, user, s.via), s


def principal_for_session(
    conn: Connection, cookie: str, *, now: datetime, idle_s: float, touch: bool = True
) -> tuple[Principal, str] | None:
    """The session's principal and CSRF token as the database says now, or None (unknown,
    idle too long, past its absolute end, or the account disabled). Expired sessions are
    deleted when met. ``touch`` False: a check that is not the user's activity (a live feed
    re-checking its session)."""
    found = _session(conn, digest(cookie), now=now, idle_s=idle_s, touch=touch)
    return None if found is None else (found[0], found[1].csrf)


def cached_session(
    db: Engine, cookie: str, *, now: datetime, idle_s: float, cache_s: float
) -> tuple[Principal, str] | None:
    """The session's principal and CSRF token from this process's principal cache, without
    I/O; None when not cached (or the entry is too old, the session past its end, idle, or due
    for its activity write): then ask :func:`session_principal`."""
    entry = CACHE.get(principal_cache.database(db), digest(cookie), cache_s)
    if (
        entry is not None
        and entry.csrf is not None
        and entry.last_seen_at is not None
        and entry.expires_at is not None
        and now < entry.expires_at
        and now - entry.last_seen_at < touch_every(idle_s)
    ):
        return entry.principal, entry.csrf
    return None


def session_principal(
    db: Engine, cookie: str, *, now: datetime, idle_s: float, cache_s: float
) -> tuple[Principal, str] | None:
    """:func:`principal_for_session` through this process's principal cache: an entry younger
    than ``cache_s`` answers without the database while the session is neither past its end,
    nor idle, nor due for its activity write; anything else (and every refusal) asks the
    database. Logout, password change, disabling, membership and token changes forget entries
    at once (store/access_repo.py)."""
    cached = cached_session(db, cookie, now=now, idle_s=idle_s, cache_s=cache_s)
    if cached is not None:
        return cached
    key = digest(cookie)
    name = principal_cache.database(db)
    started = CACHE.clock()
    with db.begin() as conn:
        found = _session(conn, key, now=now, idle_s=idle_s, touch=True)
    if found is None:
        return None
    who, row = found
    CACHE.put(name, key, Entry(who, row.csrf, row.last_seen_at, row.expires_at, started), cache_s)
    return who, row.csrf


def close_session(conn: Connection, cookie: str) -> bool:
    return repo.delete_session(conn, digest(cookie))
