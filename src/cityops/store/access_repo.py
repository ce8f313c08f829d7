"""Accounts, memberships, API tokens and console sessions in the database.

Only digests of secrets reach this module (see tables_access.py); hashing and token generation
are services/accounts.py's and services/tokens.py's. Every write that changes what an account may
do forgets its cached principals (store/principal_cache.py), now and when the write commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from cityops.domain.access import Membership, Role
from cityops.store.principal_cache import forget_session, forget_user
from cityops.store.sql import upsert
from cityops.store.tables_access import api_tokens, console_sessions, memberships, users


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    display_name: str
    password_hash: str | None
    installation_admin: bool
    disabled: bool
    created_at: datetime
    sso_subject: str | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    user_id: int
    csrf: str
    via: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def insert_user(
    conn: Connection,
    *,
    username: str,
    display_name: str,
    password_hash: str | None,
    installation_admin: bool,
    now: datetime,
    sso_subject: str | None = None,
) -> int:
    result = conn.execute(
        insert(users).values(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            sso_subject=sso_subject,
            installation_admin=installation_admin,
            disabled=False,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _user(row: object) -> UserRow:
    m = row._mapping  # type: ignore[attr-defined]
    return UserRow(
        m["id"],
        m["username"],
        m["display_name"],
        m["password_hash"],
        bool(m["installation_admin"]),
        bool(m["disabled"]),
        m["created_at"],
        m["sso_subject"],
    )


def user_by_name(conn: Connection, username: str) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return None if row is None else _user(row)


def user_by_sso_subject(conn: Connection, subject: str) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.sso_subject == subject)).first()
    return None if row is None else _user(row)


def user_by_id(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return None if row is None else _user(row)


def list_users(conn: Connection) -> list[UserRow]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
    forget_user(conn, user_id)


def set_display_name(conn: Connection, user_id: int, display_name: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(display_name=display_name))
    forget_user(conn, user_id)


def set_disabled(conn: Connection, user_id: int, disabled: bool) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(disabled=disabled))
    forget_user(conn, user_id)


def memberships_of(conn: Connection, user_id: int) -> dict[str, Membership]:
    rows = conn.execute(select(memberships).where(memberships.c.user_id == user_id)).mappings()
    return {
        r["municipality"]: Membership(
            municipality=r["municipality"],
            role=Role(r["role"]),
            agency=r["agency"],
            expires_at=r["expires_at"],
            unmasked_video=bool(r["unmasked_video"]),
        )
        for r in rows
    }


def put_membership(
    conn: Connection, user_id: int, m: Membership, *, granted_by: str, now: datetime
) -> None:
    row = {
        "user_id": user_id,
        "municipality": m.municipality,
        "role": m.role.value,
        "agency": m.agency,
        "expires_at": m.expires_at,
        "unmasked_video": m.unmasked_video,
        "granted_by": granted_by,
        "granted_at": now,
    }
    upsert(conn, memberships, [row], ["user_id", "municipality"])
    forget_user(conn, user_id)


def delete_membership(conn: Connection, user_id: int, municipality: str) -> bool:
    result = conn.execute(
        delete(memberships).where(
            memberships.c.user_id == user_id, memberships.c.municipality == municipality
        )
    )
    forget_user(conn, user_id)
    return result.rowcount > 0


def insert_token(conn: Connection, user_id: int, digest: str, name: str, now: datetime) -> int:
    result = conn.execute(
        insert(api_tokens).values(user_id=user_id, digest=digest, name=name, created_at=now)
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _token(m: object) -> TokenRow:
    r = m._mapping  # type: ignore[attr-defined]
    return TokenRow(
        r["id"], r["user_id"], r["name"], r["created_at"], r["last_used_at"], r["revoked_at"]
    )


def token_by_digest(conn: Connection, digest: str) -> TokenRow | None:
    row = conn.execute(select(api_tokens).where(api_tokens.c.digest == digest)).first()
    return None if row is None else _token(row)


def token_by_id(conn: Connection, token_id: int) -> TokenRow | None:
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return None if row is None else _token(row)


def tokens_of(conn: Connection, user_id: int) -> list[TokenRow]:
    q = select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    return [_token(r) for r in conn.execute(q)]


def touch_token(conn: Connection, token_id: int, now: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))


def revoke_token(conn: Connection, token_id: int, now: datetime) -> bool:
    user_id = conn.execute(
        select(api_tokens.c.user_id).where(api_tokens.c.id == token_id)
    ).scalar_one_or_none()
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if user_id is not None:
        forget_user(conn, int(user_id))
    return result.rowcount > 0


def insert_session(
    conn: Connection,
    *,
    digest: str,
    user_id: int,
    csrf: str,
    via: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        insert(console_sessions).values(
            digest=digest,
            user_id=user_id,
            csrf=csrf,
            via=via,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )


def session_by_digest(conn: Connection, digest: str) -> SessionRow | None:
    row = (
        conn.execute(select(console_sessions).where(console_sessions.c.digest == digest))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return SessionRow(
        row["user_id"],
        row["csrf"],
        row["via"],
        row["created_at"],
        row["last_seen_at"],
        row["expires_at"],
    )


def touch_session(conn: Connection, digest: str, now: datetime) -> None:
    conn.execute(
        update(console_sessions).where(console_sessions.c.digest == digest).values(last_seen_at=now)
    )


def delete_session(conn: Connection, digest: str) -> bool:
    result = conn.execute(delete(console_sessions).where(console_sessions.c.digest == digest))
    forget_session(conn, digest)
    return result.rowcount > 0


def delete_sessions_of(conn: Connection, user_id: int) -> int:
    result = conn.execute(delete(console_sessions).where(console_sessions.c.user_id == user_id))
    forget_user(conn, user_id)
    return int(result.rowcount)


def delete_expired_sessions(conn: Connection, idle_before: datetime, now: datetime) -> int:
    result = conn.execute(
        delete(console_sessions).where(
            (console_sessions.c.expires_at <= now)
            | (console_sessions.c.last_seen_at <= idle_before)
        )
    )
    return int(result.rowcount)
