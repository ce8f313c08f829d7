"""Security headers on every answer: the console's files, the API, errors and the middleware's
own refusals (it adds them at the start of every response, so streamed ones too), HSTS only
over https, and the API docs' own policy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from cityops.api.app import create_api
from cityops.api.hardening import Hardening, content_security_policy, security_headers
from cityops.api.ratelimit import TokenBucket
from cityops.app import ControlCenter
from cityops.settings import Settings


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


PATHS = ["/", "/index.html", "/js/main.js", "/api/v1/health", "/api/v1/nowhere", "/openapi.json"]


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "camera=()" in r.headers["permissions-policy"]
    assert "geolocation=()" in r.headers["permissions-policy"]
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"], "no inline script, no eval, no other origin"
    assert csp["object-src" if "object-src" in csp else "default-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert "strict-transport-security" not in r.headers, "HSTS only over https"


def test_refusals_written_by_the_middleware_carry_them_too(client: TestClient) -> None:
    r = client.post("/api/v1/auth/logout", content=b"x" * 70_000)
    assert r.status_code == 413
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_hsts_when_served_over_https(center: ControlCenter) -> None:
    with TestClient(create_api(center), base_url="https://cityops.example") as c:
        r = c.get("/api/v1/health")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_a_header_a_route_sets_itself_is_kept_and_never_doubled() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"x-frame-options", b"SAMEORIGIN"), (b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    hardened = Hardening(
        app, headers=security_headers(Settings()), max_body=10, login=TokenBucket(1, 1)
    )
    r = TestClient(hardened).get("/")
    assert r.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert len(r.headers.get_list("content-security-policy")) == 1
    assert r.headers["x-content-type-options"] == "nosniff"


def test_api_docs_get_their_own_wider_policy_still_unframeable(client: TestClient) -> None:
    r = client.get("/docs")
    csp = directives(r.headers["content-security-policy"])
    assert "https://cdn.jsdelivr.net" in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    console = directives(client.get("/").headers["content-security-policy"])
    assert "'unsafe-inline'" not in console["script-src"] + console["style-src"]


def test_an_online_tile_layer_is_allowed_for_images_only() -> None:
    s = Settings(tile_url="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    csp = directives(content_security_policy(s))
    assert "https://*.tile.openstreetmap.org" in csp["img-src"]
    assert csp["connect-src"] == ["'self'"]
    hostile = Settings(tile_url="https://x.org; script-src *;/{z}/{x}/{y}.png")
    assert "script-src *" not in content_security_policy(hostile)
