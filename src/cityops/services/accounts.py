"""Accounts: Argon2id passwords, console sessions, memberships (API tokens: services/tokens.py).

Secrets are generated here with :mod:`secrets` and handed out once; the database keeps only
Argon2id hashes (passwords) and SHA-256 digests (tokens, session ids). A console request is
turned into a :class:`~cityops.domain.access.Principal` by :func:`session_principal` (through
this process's principal cache, store/principal_cache.py) or :func:`principal_for_session` (the
database only); both give None for anything unknown, expired, revoked or disabled."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine

from cityops.domain.access import Membership, Principal, Role
from cityops.domain.audit import AuditAction
from cityops.services import audit
from cityops.store import access_repo as repo
from cityops.store import principal_cache
from cityops.store.access_repo import SessionRow, UserRow
from cityops.store.principal_cache import CACHE, Entry

HASHER = PasswordHasher()
"""Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile: t=3, m=64 MiB, p=4)."""

MIN_PASSWORD = 12
TOUCH_EVERY = timedelta(seconds=60)
"""last_seen_at / last_used_at are written at most this often (no write on every request); a
session's at most every quarter of its idle timeout when that is shorter than 4 minutes."""

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
"""Verified against when the user is unknown, so a login takes as long for any username."""


class AccountError(ValueError):
    """A refused account change (the message says why)."""


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str
    """The session id for the cookie (only its digest is stored)."""
    csrf: str
    expires_at: datetime


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def create_user(
    conn: Connection,
    *,
    username: str,
    display_name: str,
    password: str | None,
    installation_admin: bool,
    now: datetime,
    sso_subject: str | None = None,
    created_by: str = "system",
) -> int:
    """A new account. ``password`` None: no password login (tokens or single sign-on only);
    ``sso_subject`` ("<provider id>|<sub>"): the account single sign-on finds it by."""
    if not USERNAME.match(username):
        raise AccountError("a username is 1-64 of a-z 0-9 . _ @ - (lower case)")
    if not display_name.strip() or len(display_name) > 200:
        raise AccountError("a display name has 1-200 characters")
    if repo.user_by_name(conn, username) is not None:
        raise AccountError(f"user {username!r} exists")
    hashed = None
    if password is not None:
        check_password_rules(password)
        hashed = HASHER.hash(password)
    user_id = repo.insert_user(
        conn,
        username=username,
        display_name=display_name.strip(),
        password_hash=hashed,
        installation_admin=installation_admin,
        now=now,
        sso_subject=sso_subject,
    )
    audit.record(
        conn,
        actor=created_by,
        action=AuditAction.USER_CHANGED,
        municipality=None,
        target=f"user:{username}",
        detail={
            "op": "create",
            "installation_admin": installation_admin,
            "password": password is not None,
            "sso": sso_subject is not None,
        },
        at=now,
    )
    return user_id


def set_password(conn: Connection, user_id: int, password: str) -> None:
    check_password_rules(password)
    repo.set_password_hash(conn, user_id, HASHER.hash(password))
    repo.delete_sessions_of(conn, user_id)  # a changed password ends every console session


def set_disabled(
    conn: Connection, user_id: int, disabled: bool, *, actor: str, now: datetime
) -> None:
    """Disable (or enable again) an account: a disabled one can neither log in nor use its
    sessions or tokens; its sessions are ended. Audited as ``user.changed``."""
    user = repo.user_by_id(conn, user_id)
    if user is None:
        raise AccountError(f"no user {user_id}")
    repo.set_disabled(conn, user_id, disabled)
    if disabled:
        repo.delete_sessions_of(conn, user_id)
    audit.record(
        conn,
        actor=actor,
        action=AuditAction.USER_CHANGED,
        municipality=None,
        target=f"user:{user.username}",
        detail={"op": "disable" if disabled else "enable"},
        at=now,
    )


def verify_login(conn: Connection, username: str, password: str) -> UserRow | None:
    """The account if the password is right and the account usable; None otherwise."""
    user = repo.user_by_name(conn, username)
    stored = user.password_hash if user is not None else None
    try:
        HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or user.disabled:
        return None
    if HASHER.check_needs_rehash(stored):
        repo.set_password_hash(conn, user.id, HASHER.hash(password))
    return user


def principal(conn: Connection, user: UserRow, via: str) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        memberships=repo.memberships_of(conn, user.id),
        installation_admin=user.installation_admin,
        via=via,
    )


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


def _membership_detail(m: Membership | None) -> dict[str, object] | None:
    if m is None:
        return None
    return {
        "role": m.role.value,
        "agency": m.agency,
        "expires_at": m.expires_at.isoformat() if m.expires_at else None,
        "unmasked_video": m.unmasked_video,
    }


def grant(
    conn: Connection, user_id: int, membership: Membership, *, granted_by: str, now: datetime
) -> bool:
    """Give (or change) the account's role in a municipality; recorded in that municipality's
    audit as ``role.changed`` when it changes anything. False: it was already so."""
    if membership.role is Role.LIAISON and not membership.agency:
        raise AccountError("a liaison membership names its agency")
    if membership.role is Role.LIAISON and membership.expires_at is None:
        raise AccountError("a liaison membership has an end (expires_at)")
    if membership.expires_at is not None and membership.expires_at <= now:
        raise AccountError("expires_at is in the past")
    user = repo.user_by_id(conn, user_id)
    if user is None:
        raise AccountError(f"no user {user_id}")
    before = repo.memberships_of(conn, user_id).get(membership.municipality)
    if before == membership:
        return False
    repo.put_membership(conn, user_id, membership, granted_by=granted_by, now=now)
    audit.record(
        conn,
        actor=granted_by,
        action=AuditAction.ROLE_CHANGED,
        municipality=membership.municipality,
        target=f"user:{user.username}",
        detail={"to": _membership_detail(membership), "from": _membership_detail(before)},
        at=now,
    )
    return True


def revoke(
    conn: Connection, user_id: int, municipality: str, *, revoked_by: str, now: datetime
) -> bool:
    """Take the account's membership in a municipality away (False: it had none); audited."""
    user = repo.user_by_id(conn, user_id)
    before = repo.memberships_of(conn, user_id).get(municipality)
    if user is None or before is None:
        return False
    repo.delete_membership(conn, user_id, municipality)
    audit.record(
        conn,
        actor=revoked_by,
        action=AuditAction.ROLE_CHANGED,
        municipality=municipality,
        target=f"user:{user.username}",
        detail={"to": None, "from": _membership_detail(before)},
        at=now,
    )
    return True
