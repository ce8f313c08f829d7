"""What every HTTP answer and request goes through before the routes (docs/SECURITY.md,
"Hardening"): security headers, request body limits and rate limits.

One pure ASGI middleware (:class:`Hardening`, installed by :func:`install`) so that streamed
answers (the live feed's SSE, MJPEG) pass through untouched:

- every answer carries the security headers of :func:`security_headers` (a Content-Security-
  Policy without inline scripts, ``frame-ancestors 'none'``, ``nosniff``, no referrer across
  origins, no powerful browser features, and HSTS when the request came over https);
- a request body larger than ``CITYOPS_MAX_REQUEST_BYTES`` is refused with 413 before a route
  reads it (a declared Content-Length at once, a streamed body as soon as it passes the limit);
  HTTP ingest has its own limit, the batch limit ``CITYOPS_MAX_PAYLOAD_BYTES``, enforced by
  its routes (an over-large batch is answered 413 and kept as a ``too_large`` dead letter);
- ``POST /api/v1/auth/login`` (and single sign-on's ``/api/v1/auth/oidc/*/login|callback``) is
  rate limited per client address (a token bucket: ``CITYOPS_LOGIN_BURST`` attempts, refilled
  at ``CITYOPS_LOGIN_RATE_PER_MIN``), answered 429 with ``Retry-After`` before any password is
  hashed; ingest is limited per authenticated
  client by :func:`ingest_quota` (``CITYOPS_INGEST_BURST``, ``CITYOPS_INGEST_RATE_PER_S``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityops.api.ratelimit import TokenBucket
from cityops.settings import Settings

LOGIN_PATH: Final = "/api/v1/auth/login"
SSO_LOGIN: Final = re.compile(r"^/api/v1/auth/oidc/[^/]+/(login|callback)$")
"""Single sign-on's start and return share the login's bucket (each costs the provider work)."""
SELF_LIMITED: Final = re.compile(r"^/api/v1/m/[^/]+/(readings|cameras/[^/]+/events)$")
"""Paths whose routes enforce their own body limit (HTTP ingest: the batch limit)."""
API_DOCS: Final = ("/docs", "/redoc")
_HOST: Final = re.compile(r"^(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def content_security_policy(settings: Settings) -> str:
    """The console's policy: its own scripts, styles, images and API only; no inline script,
    no plugin, no framing, no form posted elsewhere. A configured online tile layer's origin
    is allowed for images."""
    images = ["'self'", "data:", "blob:"]
    if settings.tile_url:
        parts = urlsplit(settings.tile_url)
        host = parts.netloc.replace("{s}", "*")
        if parts.scheme in {"http", "https"} and _HOST.match(host):
            images.append(f"{parts.scheme}://{host}")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(images)}",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "font-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


DOCS_POLICY: Final = (
    "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; font-src https://fonts.gstatic.com; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""FastAPI's generated /docs and /redoc pages load their viewer from a CDN with an inline
bootstrap script; they hold no outside content, so only they get this wider policy."""


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": (
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
            "interest-cohort=(), browsing-topics=()"
        ),
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


HSTS: Final = "max-age=31536000; includeSubDomains"


@dataclass(frozen=True)
class Limits:
    """The buckets of one application (``app.state.limits``)."""

    login: TokenBucket
    ingest: TokenBucket

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            login=TokenBucket(settings.login_rate_per_min / 60.0, settings.login_burst),
            ingest=TokenBucket(settings.ingest_rate_per_s, settings.ingest_burst),
        )


def install(api: FastAPI, settings: Settings) -> None:
    """Put :class:`Hardening` in front of every route of ``api``."""
    limits = Limits.from_settings(settings)
    api.state.limits = limits
    api.add_middleware(
        Hardening,
        headers=security_headers(settings),
        max_body=settings.max_request_bytes,
        login=limits.login,
    )


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def ingest_quota(request: Request, client: str) -> None:
    """Take one ingest request from ``client``'s bucket (the authenticated account); 429 with
    ``Retry-After`` when it is empty."""
    limits: Limits = request.app.state.limits
    wait = limits.ingest.take(client)
    if wait > 0:
        raise HTTPException(
            429,
            f"ingest rate limit: at most {limits.ingest.burst} requests at once, then "
            f"{limits.ingest.rate:g}/s per client (CITYOPS_INGEST_RATE_PER_S); batch readings",
            headers={"Retry-After": str(math.ceil(wait))},
        )


class Hardening:
    """Headers on every answer, the body limit and the login rate limit (module docstring)."""

    def __init__(
        self, app: ASGIApp, *, headers: Mapping[str, str], max_body: int, login: TokenBucket
    ) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        docs = {**headers, "Content-Security-Policy": DOCS_POLICY}
        self.docs_headers = [(k.lower().encode(), v.encode()) for k, v in docs.items()]
        self.max_body = max_body
        self.login = login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = self.docs_headers if path in API_DOCS else self.headers
        if scope["scheme"] == "https":
            extra = [*extra, (b"strict-transport-security", HSTS.encode())]

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                added = [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        if (scope["method"] == "POST" and path == LOGIN_PATH) or SSO_LOGIN.match(path):
            wait = self.login.take(client_address(scope))
            if wait > 0:
                await _refuse(send_hardened, 429, _LOGIN_LIMITED, retry_after=wait)
                return
        if SELF_LIMITED.match(path):
            await self.app(scope, receive, send_hardened)
            return
        await self._limited(scope, receive, send_hardened)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length", "")
        too_large = (
            f"request body over {self.max_body} bytes (CITYOPS_MAX_REQUEST_BYTES); "
            "readings and events have their own limit (CITYOPS_MAX_PAYLOAD_BYTES)"
        )
        if _declares_more(declared, self.max_body):
            await _refuse(send, 413, too_large)
            return
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:  # FastAPI answers it (JSON, 413)
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, receive_limited, send)


_LOGIN_LIMITED: Final = "too many login attempts from this address; try again later"


def _declares_more(content_length: str, limit: int) -> bool:
    """Whether a Content-Length header declares more than ``limit`` (ASCII digits only: "²"
    is a digit to ``str.isdigit`` and not to ``int``; any number of digits)."""
    digits = content_length.strip()
    if not (digits.isascii() and digits.isdigit()):
        return False  # not a length: the server (h11) refuses or ignores it
    digits = digits.lstrip("0")
    return len(digits) > len(str(limit)) or (digits != "" and int(digits) > limit)


async def _refuse(send: Send, status: int, detail: str, *, retry_after: float = 0) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after > 0:
        headers.append((b"retry-after", str(math.ceil(retry_after)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
