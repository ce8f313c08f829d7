"""OpenID Connect login with a municipality's own identity provider, through Authlib.

The authorization code flow with PKCE (S256), ``state`` and ``nonce``:

1. :meth:`OidcService.begin` discovers the provider (``<issuer>/.well-known/openid-configuration``,
   cached), makes a fresh state, nonce and code verifier, keeps them here (never in the browser:
   the browser holds only the state, in a cookie that binds the login to it) and returns the
   provider's authorization URL.
2. :meth:`OidcService.complete` takes the callback's ``code`` and ``state``: the state must be
   the one this browser started (single use, at most :data:`PENDING_TTL` old); the code is
   exchanged with the verifier and the client secret; the ID token's signature is checked against
   the provider's JWKS (fetched again once when its key id is unknown), then its issuer, audience,
   expiry, nonce, ``azp`` and ``at_hash`` (Authlib's ``CodeIDToken``). Its claims are mapped by
   ``domain/sso.py``.
3. :func:`provision` finds or creates the account and sets its memberships in the municipalities
   the provider decides; the route opens the same console session as a password login.

Every refusal is a :class:`~cityops.domain.sso.SsoError` with a short reason code
(docs/SECURITY.md): an :class:`OidcError` for the protocol and the provider, a
:class:`~cityops.domain.sso.ClaimError` for claims that give no identity."""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import Connection

from cityops.domain.access import Membership
from cityops.domain.sso import SsoError, SsoIdentity, map_claims
from cityops.services import accounts
from cityops.services.oidc_config import OidcConfig, ProviderConfig
from cityops.store import access_repo

PENDING_TTL = 600.0
"""Seconds a started login may take at the provider."""
PENDING_MAX = 10_000
"""Logins in progress kept at most (the oldest is dropped): starting logins cannot fill memory."""
METADATA_TTL = 3600.0
LEEWAY_S = 60
SIGNING_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"})
"""Asymmetric algorithms only: ``none`` and HMAC (keyed with the client secret) are refused."""


class OidcError(SsoError):
    """A login refused by the protocol or the provider (state, code exchange, ID token,
    provider metadata, the account); ``reason`` is a code the console shows a message for."""


@dataclass(frozen=True)
class Pending:
    provider: str
    nonce: str
    verifier: str
    redirect_uri: str
    next_path: str
    started: float


@dataclass
class _Metadata:
    document: dict[str, Any]
    jwks: dict[str, Any] | None
    fetched: float


class OidcService:
    """The configured providers and the logins in progress (in this process's memory)."""

    def __init__(self, config: OidcConfig, *, timeout_s: float = 10.0) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self._pending: OrderedDict[str, Pending] = OrderedDict()
        self._metadata: dict[str, _Metadata] = {}

    def provider(self, provider_id: str) -> ProviderConfig:
        p = self.config.provider(provider_id)
        if p is None:
            raise OidcError("provider", f"no identity provider {provider_id!r}")
        return p

    def _client(self, p: ProviderConfig, redirect_uri: str) -> AsyncOAuth2Client:
        try:
            secret = p.secret()
        except ValueError as exc:  # its environment variable went away since the start
            raise OidcError("provider_metadata", str(exc)) from exc
        return AsyncOAuth2Client(
            client_id=p.client_id,
            client_secret=secret,
            scope=" ".join(p.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout_s,
        )

    async def _discover(self, p: ProviderConfig) -> _Metadata:
        cached = self._metadata.get(p.id)
        if cached is not None and time.monotonic() - cached.fetched < METADATA_TTL:
            return cached
        url = p.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as http:
                resp = await http.get(url)
                resp.raise_for_status()
                document = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError("provider_unreachable", f"discovery at {url} failed: {exc}") from exc
        if not isinstance(document, dict) or document.get("issuer") != p.issuer:
            # OpenID Connect Discovery 1.0, 4.3: the issuer must be exactly the configured one
            raise OidcError("provider_metadata", f"{url} names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(key), str):
                raise OidcError("provider_metadata", f"{url} lacks {key}")
        self._metadata[p.id] = _Metadata(document, None, time.monotonic())
        return self._metadata[p.id]

    async def _jwks(self, meta: _Metadata, *, force: bool = False) -> KeySet:
        if meta.jwks is None or force:
            try:
                async with httpx.AsyncClient(timeout=self.timeout_s) as http:
                    resp = await http.get(meta.document["jwks_uri"])
                    resp.raise_for_status()
                    meta.jwks = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise OidcError("provider_unreachable", f"JWKS: {exc}") from exc
        try:
            return KeySet.import_key_set(meta.jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcError("provider_metadata", f"unusable JWKS: {exc}") from exc

    async def begin(self, provider_id: str, redirect_uri: str, next_path: str) -> tuple[str, str]:
        """Start a login: (the provider's authorization URL, the state for the binding cookie)."""
        p = self.provider(provider_id)
        meta = await self._discover(p)
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        async with self._client(p, redirect_uri) as client:
            url, _ = client.create_authorization_url(
                meta.document["authorization_endpoint"],
                state=state,
                nonce=nonce,
                code_verifier=verifier,
            )
        self._forget_stale()
        self._pending[state] = Pending(
            p.id, nonce, verifier, redirect_uri, next_path, time.monotonic()
        )
        while len(self._pending) > PENDING_MAX:
            self._pending.popitem(last=False)
        return url, state

    def _forget_stale(self) -> None:
        limit = time.monotonic() - PENDING_TTL
        while self._pending:
            state, first = next(iter(self._pending.items()))
            if first.started >= limit:
                break
            del self._pending[state]

    def take(self, provider_id: str, state: str | None, bound_state: str | None) -> Pending:
        """The login this callback ends (single use): its state must be this browser's."""
        self._forget_stale()
        if (
            not state
            or not bound_state
            or not hmac.compare_digest(state.encode(), bound_state.encode())
        ):
            raise OidcError("state", "the login's state does not match this browser's")
        pending = self._pending.pop(state, None)
        if pending is None or pending.provider != provider_id:
            raise OidcError("state", "unknown or expired login state")
        return pending

    async def complete(self, provider_id: str, pending: Pending, code: str) -> SsoIdentity:
        """Exchange the code, verify the ID token, map its claims."""
        p = self.provider(provider_id)
        meta = await self._discover(p)
        try:
            async with self._client(p, pending.redirect_uri) as client:
                token = await client.fetch_token(
                    meta.document["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.verifier,
                )
        except (OAuthError, httpx.HTTPError, ValueError) as exc:
            raise OidcError("token", f"the code exchange failed: {exc}") from exc
        raw = token.get("id_token")
        if not isinstance(raw, str):
            raise OidcError("id_token", "the provider returned no ID token")
        claims = await self._verify(p, meta, raw, pending.nonce, token.get("access_token"))
        return map_claims(claims, p.mapping())  # or ClaimError, an SsoError as OidcError is

    async def _verify(
        self, p: ProviderConfig, meta: _Metadata, raw: str, nonce: str, access_token: object
    ) -> dict[str, object]:
        offered = meta.document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algs = [a for a in offered if a in SIGNING_ALGS] if isinstance(offered, list) else []
        registry = JWSRegistry(algorithms=algs or ["RS256"])
        try:
            try:
                decoded = jwt.decode(raw, await self._jwks(meta), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys
                decoded = jwt.decode(raw, await self._jwks(meta, force=True), registry=registry)
            params: dict[str, object] = {"nonce": nonce, "client_id": p.client_id}
            if isinstance(access_token, str):
                params["access_token"] = access_token
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": p.issuer},
                    "aud": {"essential": True, "value": p.client_id},
                },
                params,
            )
            claims.validate(leeway=LEEWAY_S)
        except JoseError as exc:
            reason = "nonce" if "nonce" in str(exc) else "id_token"
            raise OidcError(reason, f"ID token refused: {exc}") from exc
        except ValueError as exc:
            raise OidcError("id_token", f"ID token refused: {exc}") from exc
        return dict(claims)


def provision(
    conn: Connection, provider: ProviderConfig, identity: SsoIdentity, now: datetime
) -> int:
    """The account of this identity (created on its first login), its memberships in the
    provider's municipalities set from its groups (others left alone); its id."""
    subject = f"{provider.id}|{identity.subject}"
    user = access_repo.user_by_sso_subject(conn, subject)
    if user is None:
        if access_repo.user_by_name(conn, identity.username) is not None:
            raise OidcError("username_taken", f"{identity.username!r} is another account")
        user_id = accounts.create_user(
            conn,
            username=identity.username,
            display_name=identity.display_name,
            password=None,
            installation_admin=False,
            now=now,
            sso_subject=subject,
        )
    else:
        if user.disabled:
            raise OidcError("disabled", "the account is disabled")
        user_id = user.id
    granted_by = f"sso:{provider.id}"
    expires = now + timedelta(days=provider.membership_days)
    current = access_repo.memberships_of(conn, user_id)
    for municipality in provider.mapping().municipalities:
        rule = identity.memberships.get(municipality)
        if rule is None:
            if municipality in current:
                accounts.revoke(conn, user_id, municipality, revoked_by=granted_by, now=now)
            continue
        membership = Membership(municipality, rule.role, rule.agency, expires, rule.unmasked_video)
        accounts.grant(conn, user_id, membership, granted_by=granted_by, now=now)
    return user_id
