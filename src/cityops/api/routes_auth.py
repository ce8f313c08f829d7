"""Login, logout and who am I: the console's password login and its session.

Every login (failed too) and logout is recorded in the audit log (installation chain: a login
belongs to no one municipality)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from cityops.api.auth import (
    SESSION_COOKIE,
    Caller,
    clear_session_cookie,
    now_utc,
    set_session_cookie,
)
from cityops.api.deps import Center
from cityops.domain.access import Role
from cityops.domain.audit import AuditAction
from cityops.services import accounts, audit, sessions

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserBrief(BaseModel):
    username: str
    display_name: str


class LoginAnswer(BaseModel):
    user: UserBrief
    csrf: str
    """Send it back in ``X-CSRF-Token`` on every write of this session."""
    expires_at: datetime


class MembershipView(BaseModel):
    municipality: str
    role: Role
    agency: str | None
    expires_at: datetime | None
    unmasked_video: bool
    permissions: list[str]


class Me(BaseModel):
    username: str
    display_name: str
    installation_admin: bool
    via: str
    csrf: str | None
    """The session's CSRF token (None for a bearer token, which needs none)."""
    memberships: list[MembershipView]


@router.post("/login", response_model=LoginAnswer, summary="Log in: a session cookie + CSRF token")
def login(body: LoginBody, center: Center, request: Request, response: Response) -> LoginAnswer:
    client = request.client.host if request.client else None
    session: sessions.NewSession | None = None
    previous = request.cookies.get(SESSION_COOKIE)
    with center.db.begin() as conn:
        if previous:  # a login never carries on a session the browser held before
            sessions.close_session(conn, previous)
        user = accounts.verify_login(conn, body.username, body.password)
        now = now_utc()  # after the (deliberately slow) password check
        if user is not None:
            session = sessions.open_session(
                conn,
                user.id,
                via="session",
                now=now,
                absolute_s=center.settings.session_absolute_s,
                idle_s=center.settings.session_idle_s,
            )
        audit.record(
            conn,
            actor=body.username,
            action=AuditAction.LOGIN if user is not None else AuditAction.LOGIN_FAILED,
            municipality=None,
            target=f"user:{body.username}",
            detail={"client": client, "via": "password"},
            at=now,
        )
    if user is None or session is None:
        raise HTTPException(401, "wrong username or password")
    set_session_cookie(response, session, center.settings)
    return LoginAnswer(
        user=UserBrief(username=user.username, display_name=user.display_name),
        csrf=session.csrf,
        expires_at=session.expires_at,
    )


@router.post("/logout", status_code=204, summary="End this console session")
def logout(caller: Caller, center: Center, request: Request, response: Response) -> Response:
    """Ends the session of the cookie (a bearer token is revoked with `cityops tokens revoke`)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    with center.db.begin() as conn:
        if caller.via != "token" and cookie:
            sessions.close_session(conn, cookie)
        audit.record(
            conn,
            actor=caller.username,
            action=AuditAction.LOGOUT,
            municipality=None,
            target=f"user:{caller.username}",
            detail={"via": caller.via},
        )
    response.status_code = 204
    clear_session_cookie(response, center.settings)
    return response


@router.get("/me", response_model=Me, summary="The logged-in account, its roles and permissions")
def me(caller: Caller, request: Request) -> Me:
    now = now_utc()
    return Me(
        username=caller.username,
        display_name=caller.display_name,
        installation_admin=caller.installation_admin,
        via=caller.via,
        csrf=getattr(request.state, "csrf", None),
        memberships=[
            MembershipView(
                municipality=m.municipality,
                role=m.role,
                agency=m.agency,
                expires_at=m.expires_at,
                unmasked_video=m.unmasked_video,
                permissions=sorted(p.value for p in m.permissions()),
            )
            for m in sorted(caller.memberships.values(), key=lambda m: m.municipality)
            if m.active(now)
        ],
    )
