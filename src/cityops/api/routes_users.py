"""A municipality's members: who has which role there (admins: ``users.manage``).

Accounts themselves are installation-wide and made with ``cityops users create`` (or by single
sign-on); here an admin of a municipality grants, changes and takes away roles in it only.
Every change is audited (``role.changed``) by services/accounts.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from cityops.api.auth import allow, now_utc
from cityops.api.deps import Center, Conn, Runtime
from cityops.domain.access import Membership, Permission, Principal, Role
from cityops.services import accounts
from cityops.store import access_repo

router = APIRouter(prefix="/api/v1/m/{mid}/users", tags=["users"])

Manager = Annotated[Principal, allow(Permission.USERS_MANAGE)]
Username = Annotated[str, Path(min_length=1, max_length=64)]


class MemberView(BaseModel):
    username: str
    display_name: str
    role: Role
    agency: str | None
    expires_at: datetime | None
    unmasked_video: bool
    active: bool
    disabled: bool


class MembershipBody(BaseModel):
    role: Role
    agency: str | None = Field(default=None, max_length=64)
    """The agency a liaison is limited to (required for a liaison)."""
    expires_at: datetime | None = None
    """When the membership ends (required for a liaison; ISO 8601 with a zone)."""
    unmasked_video: bool = False


def _members(conn: Connection, mid: str) -> list[MemberView]:
    now = now_utc()
    out = []
    for user in access_repo.list_users(conn):
        m = access_repo.memberships_of(conn, user.id).get(mid)
        if m is None:
            continue
        out.append(
            MemberView(
                username=user.username,
                display_name=user.display_name,
                role=m.role,
                agency=m.agency,
                expires_at=m.expires_at,
                unmasked_video=m.unmasked_video,
                active=m.active(now),
                disabled=user.disabled,
            )
        )
    return out


@router.get("", response_model=list[MemberView], summary="The municipality's members")
def list_members(caller: Manager, rt: Runtime, conn: Conn) -> list[MemberView]:
    return _members(conn, rt.id)


@router.put(
    "/{username}", response_model=MemberView, summary="Grant or change a member's role here"
)
def put_member(
    caller: Manager, center: Center, rt: Runtime, username: Username, body: MembershipBody
) -> MemberView:
    expires = body.expires_at
    if expires is not None and expires.tzinfo is None:
        raise HTTPException(422, "expires_at needs a zone (e.g. 2026-12-31T18:00:00Z)")
    if body.agency is not None and body.agency not in {a.id for a in rt.config.agencies}:
        raise HTTPException(422, f"unknown agency {body.agency!r}")
    membership = Membership(rt.id, body.role, body.agency, expires, body.unmasked_video)
    with center.db.begin() as conn:
        user = access_repo.user_by_name(conn, username)
        if user is None:
            raise HTTPException(404, f"no account {username!r}")
        try:
            accounts.grant(conn, user.id, membership, granted_by=caller.username, now=now_utc())
        except accounts.AccountError as err:
            raise HTTPException(422, str(err)) from None
        return next(m for m in _members(conn, rt.id) if m.username == username)


@router.delete("/{username}", status_code=204, summary="Take a member's role here away")
def delete_member(caller: Manager, center: Center, rt: Runtime, username: Username) -> None:
    with center.db.begin() as conn:
        user = access_repo.user_by_name(conn, username)
        gone = user is not None and accounts.revoke(
            conn, user.id, rt.id, revoked_by=caller.username, now=now_utc()
        )
    if not gone:
        raise HTTPException(404, f"{username!r} is not a member of {rt.id}")
