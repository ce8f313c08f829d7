"""Single sign-on routes: the console's "sign in with <municipality>" buttons.

``GET /api/v1/auth/oidc/providers`` lists the configured providers (no login needed);
``GET /api/v1/auth/oidc/{provider}/login`` sends the browser to the provider;
``GET /api/v1/auth/oidc/{provider}/callback`` ends the login, opens the same console session as a
password login and sends the browser back to the console. A refused login goes back to the
console with ``#sso-error=<reason>`` and no session (docs/SECURITY.md "Console and single
sign-on")."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from cityops.api.auth import set_session_cookie
from cityops.api.deps import Center
from cityops.domain.audit import AuditAction
from cityops.domain.sso import SsoError
from cityops.services import audit, sessions
from cityops.services.accounts import AccountError
from cityops.services.oidc import OidcError, OidcService, provision
from cityops.services.oidc_config import load_oidc_config
from cityops.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/auth/oidc", tags=["auth"])

STATE_COOKIE = "cityops_oidc"
"""Binds a login to the browser that started it (the state; SameSite=Lax: the provider's
redirect back is a cross-site navigation)."""
_STATE_PATH = "/api/v1/auth/oidc"
_NEXT = re.compile(r"^/(?![/\\])[^\s]{0,500}$")

UNAUDITED = frozenset({"state", "provider"})
"""Refusals before any login began (a callback without this browser's pending state, an unknown
provider): anyone can send those without limit, so they are logged, not written to the audit
chain. Every refusal of a login that went through the provider is audited."""

ProviderId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class ProviderOut(BaseModel):
    id: str
    title: dict[str, str] | str


def install(api: FastAPI, settings: Settings) -> None:
    """Load the providers (a bad file fails the start) and add the routes."""
    api.state.oidc = OidcService(load_oidc_config(settings.oidc_config))
    api.include_router(router)


def get_service(request: Request) -> OidcService:
    service: OidcService = request.app.state.oidc
    return service


Service = Annotated[OidcService, Depends(get_service)]


def _back(reason: str) -> RedirectResponse:
    """Back to the console's login screen with the reason. The binding cookie stays when the
    state did not match: a forged callback must not spoil the browser's own login."""
    resp = RedirectResponse(f"/#sso-error={reason}", status_code=303)
    if reason != "state":
        resp.delete_cookie(STATE_COOKIE, path=_STATE_PATH)
    return resp


@router.get("/providers", response_model=list[ProviderOut])
def providers(service: Service) -> list[ProviderOut]:
    """The identity providers the login screen offers."""
    return [ProviderOut(id=p.id, title=p.title) for p in service.config.providers]


@router.get("/{provider}/login", response_class=RedirectResponse, status_code=303)
async def login(
    request: Request,
    center: Center,
    service: Service,
    provider: ProviderId,
    next_path: Annotated[str, Query(alias="next", max_length=500)] = "/",
) -> Response:
    """Send the browser to the provider's login (authorization code flow with PKCE)."""
    if not _NEXT.match(next_path):
        next_path = "/"
    try:
        p = service.provider(provider)
        redirect_uri = p.redirect_uri or str(request.url_for("oidc_callback", provider=p.id))
        url, state = await service.begin(p.id, redirect_uri, next_path)
    except SsoError as exc:
        log.warning("single sign-on with %s not started: %s", provider, exc)
        return _back(exc.reason)
    resp = RedirectResponse(url, status_code=303)
    resp.set_cookie(
        STATE_COOKIE,
        state,
        max_age=600,
        path=_STATE_PATH,
        httponly=True,
        samesite="lax",
        secure=center.settings.session_cookie_secure,
    )
    return resp


@router.get("/{provider}/callback", name="oidc_callback", response_class=RedirectResponse)
async def callback(
    request: Request,
    center: Center,
    service: Service,
    provider: ProviderId,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The provider's redirect back: verify, provision, open the console session."""
    try:
        pending = service.take(provider, state, request.cookies.get(STATE_COOKIE))
        if error is not None or not code:
            raise OidcError("denied", f"the provider answered {error or 'without a code'}")
        identity = await service.complete(provider, pending, code)
        now = datetime.now(UTC)
        with center.db.begin() as conn:
            user_id = provision(conn, service.provider(provider), identity, now)
            session = sessions.open_session(
                conn,
                user_id,
                via="oidc",
                now=now,
                absolute_s=center.settings.session_absolute_s,
            )
            audit.record(
                conn,
                actor=identity.username,
                action=AuditAction.LOGIN,
                municipality=None,
                target=f"user:{identity.username}",
                detail={"via": "oidc", "provider": provider},
                at=now,
            )
    except (SsoError, AccountError) as exc:
        reason = exc.reason if isinstance(exc, SsoError) else "account"
        log.warning("single sign-on with %s refused (%s): %s", provider, reason, exc)
        if reason in UNAUDITED:
            return _back(reason)
        with center.db.begin() as conn:
            audit.record(
                conn,
                actor=f"sso:{provider}",
                action=AuditAction.LOGIN_FAILED,
                municipality=None,
                reason=reason,
                detail={"via": "oidc", "provider": provider, "message": str(exc)[:300]},
            )
        return _back(reason)
    log.info("single sign-on: %s through %s", identity.username, provider)
    resp = RedirectResponse(pending.next_path, status_code=303)
    resp.delete_cookie(STATE_COOKIE, path=_STATE_PATH)
    set_session_cookie(resp, session, center.settings)
    return resp
