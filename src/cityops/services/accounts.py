"""Accounts: Argon2id passwords, memberships, who an account is as a
:class:`~cityops.domain.access.Principal` (console sessions: services/sessions.py; API tokens:
services/tokens.py).

Secrets are generated with :mod:`secrets` and handed out once; the database keeps only Argon2id
hashes (passwords) and SHA-256 digests (tokens, session ids)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from cityops.domain.access import Membership, Principal, Role
from cityops.domain.audit import AuditAction
from cityops.services import audit
from cityops.store import access_repo as repo
from cityops.store.access_repo import UserRow

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
