"""Request body limits (413) and rate limits (429 with Retry-After) on login and ingest."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from cityops.api.hardening import Hardening
from cityops.api.ratelimit import TokenBucket
from tests.security.conftest import MakeToken
from tests.town import MUNI

READINGS = f"/api/v1/m/{MUNI}/readings"
LOGIN = "/api/v1/auth/login"


def test_a_declared_body_over_the_limit_is_refused_before_the_route(client: TestClient) -> None:
    r = client.post(LOGIN, content=b"{" + b" " * 70_000 + b"}")
    assert r.status_code == 413
    assert "CITYOPS_MAX_REQUEST_BYTES" in r.json()["detail"]


def test_a_streamed_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(20):
            yield b" " * 8192

    r = client.post(LOGIN, content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "65536 bytes" in r.json()["detail"]


def test_a_body_within_the_limit_reaches_the_route(client: TestClient) -> None:
    r = client.post(LOGIN, json={"username": "nobody", "password": "x" * 60_000})
    assert r.status_code != 413


def test_an_ingest_batch_has_its_own_limit_and_is_kept(
    client: TestClient, gateway: dict[str, str]
) -> None:
    """Bigger than the general limit but within CITYOPS_MAX_PAYLOAD_BYTES: stored."""
    readings = [{"sensor": "river-1", "value": 1.0 + i / 1000} for i in range(2000)]
    r = client.post(READINGS, json={"readings": readings}, headers=gateway)
    assert len(r.request.content) > 65536
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2000
    big = b'{"readings": [' + b" " * 300_000 + b"]}"
    r = client.post(READINGS, content=big, headers=gateway)
    assert r.status_code == 413
    assert r.json()["detail"]["rejected"][0]["reason"] == "too_large"
    letters = client.get(f"/api/v1/m/{MUNI}/dead-letters", headers=gateway).json()
    assert [d["reason_code"] for d in letters] == ["too_large"]


@pytest.mark.parametrize("center", [{"login_burst": 3, "login_rate_per_min": 6}], indirect=True)
def test_login_is_rate_limited_per_address(client: TestClient) -> None:
    attempt = {"username": "admin", "password": "wrong-password-1"}
    answers = [client.post(LOGIN, json=attempt).status_code for _ in range(3)]
    assert 429 not in answers
    r = client.post(LOGIN, json=attempt)
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 10
    assert "too many login attempts" in r.json()["detail"]
    assert client.get("/api/v1/health").status_code == 200, "only the login is limited"
    sso = client.get("/api/v1/auth/oidc/some-idp/login", follow_redirects=False)
    assert sso.status_code == 429, "single sign-on shares the login's bucket"


@pytest.mark.parametrize("center", [{"ingest_burst": 5, "ingest_rate_per_s": 0.5}], indirect=True)
def test_ingest_is_rate_limited_per_client(
    client: TestClient, gateway: dict[str, str], make_token: MakeToken
) -> None:
    one = {"sensor": "river-1", "value": 1.0}
    assert [client.post(READINGS, json=one, headers=gateway).status_code for _ in range(5)] == [
        200
    ] * 5
    r = client.post(READINGS, json=one, headers=gateway)
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 2
    other = {"Authorization": f"Bearer {make_token('gateway-2')}"}
    assert client.post(READINGS, json=one, headers=other).status_code == 200


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.01, 100),
    burst=st.integers(1, 50),
    steps=st.lists(st.tuples(st.floats(0, 30), st.sampled_from("abc")), max_size=60),
)
def test_a_bucket_never_lets_more_through_than_burst_plus_refill(
    rate: float, burst: int, steps: list[tuple[float, str]]
) -> None:
    clock = Clock()
    bucket = TokenBucket(rate, burst, clock=clock)
    start = clock.t
    allowed: dict[str, int] = {}
    for dt, client in steps:
        clock.t += dt
        wait = bucket.take(client)
        assert wait >= 0
        if wait == 0:
            allowed[client] = allowed.get(client, 0) + 1
        else:
            assert wait <= 1 / rate + 1e-9, "never more than one token's refill away"
    elapsed = clock.t - start
    for count in allowed.values():
        assert count <= burst + elapsed * rate + 1e-6


def test_a_bucket_refills_and_forgets_the_oldest_clients() -> None:
    clock = Clock()
    bucket = TokenBucket(1.0, 2, clock=clock, max_clients=2)
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == pytest.approx(1.0)
    clock.t += 1.0
    assert bucket.take("a") == 0.0
    assert bucket.take("a") > 0
    bucket.take("b")
    bucket.take("c")  # "a" is forgotten: it starts again full
    assert bucket.take("a") == 0.0
    assert TokenBucket(0, 1).take("x") == 0.0, "rate 0: no limit"


@settings(max_examples=300, deadline=None)
@given(
    content_length=st.binary(max_size=30)
    | st.from_regex(rb"\A\s?[0-9]{0,6000}\s?\Z")
    | st.sampled_from([b"\xb2", b"\xb9\xb2", "١٢".encode(), b"-1", b"+5", b"1e9"]),
    body=st.binary(max_size=40),
)
@example(content_length=b"9" * 5000, body=b"")
@example(content_length=b"0" * 5000 + b"7", body=b"")
def test_any_content_length_header_is_answered_never_crashes(
    content_length: bytes, body: bytes
) -> None:
    """The body limit reads a header the client wrote: whatever it holds, the answer is the
    route's or a 413, never an exception."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    hardened = Hardening(app, headers={}, max_body=20, login=TokenBucket(1, 1))
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/m/testtown/incidents/1/notes",
        "scheme": "http",
        "headers": [(b"content-length", content_length)],
    }
    asyncio.run(hardened(scope, receive, send))
    status = sent[0]["status"]
    digits = content_length.strip()
    significant = digits.lstrip(b"0")
    if digits.isdigit() and (len(significant) > 2 or (significant and int(significant) > 20)):
        assert status == 413
    else:
        assert status == 204
