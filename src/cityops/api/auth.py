"""Who is calling, and may they: the authentication and authorization dependencies.

Every route but health, login and the console's static files depends on :data:`Caller`
(401 without a valid session cookie or bearer token) and, for what it does, on
:func:`allow` (404 for a municipality the caller has no membership in, exactly as for an
unknown one; 403 for a member whose role lacks the permission). Writes through a console
session must carry the session's CSRF token in ``X-CSRF-Token``; bearer tokens need none
(a browser never adds them on its own).

The principal is resolved through this process's principal cache (``CITYOPS_AUTH_CACHE_S``,
store/principal_cache.py): a burst of requests of one session reads the database once; a
logout, revoke, disable or membership change in this process applies to the next request."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from functools import partial
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, params
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from cityops.api.deps import Center
from cityops.domain.access import Permission, Principal
from cityops.services import sessions, tokens
from cityops.settings import Settings

SESSION_COOKIE = "cityops_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="An API token (`cityops tokens create`)")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The console's session cookie"
)

Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
SessionCookie = Annotated[str | None, Depends(_cookie)]


def _unauthorized(detail: str = "log in first") -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def now_utc() -> datetime:
    return datetime.now(UTC)


async def current_principal(
    request: Request, center: Center, bearer: Bearer, cookie: SessionCookie
) -> Principal:
    """The authenticated account of this request (a bearer token wins over a cookie). Answered
    on the event loop from the principal cache; only a miss goes to a worker thread."""
    now = now_utc()
    settings = center.settings
    db, cache_s = center.db, settings.auth_cache_s
    if bearer is not None:
        token = bearer.credentials
        found = tokens.cached_token(db, token, now=now, cache_s=cache_s)
        if found is None:
            found = await run_in_threadpool(
                partial(tokens.token_principal, db, token, now=now, cache_s=cache_s)
            )
        if found is None:
            raise _unauthorized("unknown or revoked token")
        request.state.csrf = None
        return found
    if not cookie:
        raise _unauthorized()
    idle_s = settings.session_idle_s
    session = sessions.cached_session(db, cookie, now=now, idle_s=idle_s, cache_s=cache_s)
    if session is None:
        session = await run_in_threadpool(
            partial(sessions.session_principal, db, cookie, now=now, idle_s=idle_s, cache_s=cache_s)
        )
    if session is None:
        raise _unauthorized("the session has ended: log in again")
    principal, csrf = session
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf.encode()):
            raise HTTPException(403, f"a write through the console needs the {CSRF_HEADER} header")
    request.state.csrf = csrf
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def recheck(center: Center, request: Request) -> Principal | None:
    """The request's principal as the database says now (never from the cache), without
    counting as activity: a long request (the live feed) asks this to end when its session or
    token ends."""
    now = now_utc()
    header = request.headers.get("Authorization", "")
    with center.db.begin() as conn:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return tokens.principal_for_token(conn, credentials.strip(), now=now)
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        found = sessions.principal_for_session(
            conn, cookie, now=now, idle_s=center.settings.session_idle_s, touch=False
        )
    return None if found is None else found[0]


def set_session_cookie(
    response: Response, session: sessions.NewSession, settings: Settings
) -> None:
    """The console's session cookie: HttpOnly, SameSite=Strict, Secure unless plain-http
    development (``CITYOPS_SESSION_COOKIE_SECURE=false``), ending with the session."""
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(settings.session_absolute_s),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.session_cookie_secure,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.session_cookie_secure,
    )


def allow(permission: Permission, *, any_membership: bool = False) -> params.Depends:
    """A dependency that lets the caller through only with ``permission``.

    On a route under ``/m/{mid}`` it is checked in that municipality's membership (none, or
    expired: 404 as for an unknown municipality; without the permission: 403). On an
    installation-wide route (no ``{mid}``) it takes an installation admin, or, with
    ``any_membership``, a member who holds the permission in some municipality."""

    async def check(request: Request, caller: Caller) -> Principal:  # no I/O: no thread hop
        now = now_utc()
        mid = request.path_params.get("mid")
        if mid is None:
            if caller.can_installation(permission):
                return caller
            if any_membership and any(caller.can(m, permission, now) for m in caller.memberships):
                return caller
            raise HTTPException(403, f"{permission} is needed")
        if caller.membership(mid, now) is None:
            raise HTTPException(404, f"unknown municipality {mid!r}")
        if not caller.can(mid, permission, now):
            raise HTTPException(403, f"{permission} is needed in {mid}")
        return caller

    check.__name__ = f"allow_{permission.value.replace('.', '_')}"
    dependency: params.Depends = Depends(check)
    return dependency
