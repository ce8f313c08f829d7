"""HTTP ingest cannot be posted by a web page of another origin: what a form or a no-cors
fetch can send (no Content-Type, text/plain, form-urlencoded, multipart) is refused with 415
even with valid credentials, and without credentials nothing is accepted at all."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.domain.access import Role
from tests.security.conftest import MakeToken
from tests.town import MUNI

READINGS = f"/api/v1/m/{MUNI}/readings"
EVENTS = f"/api/v1/m/{MUNI}/cameras/cam-a/events"
FIRE = json.dumps({"sensor": "river-1", "value": 3.5}).encode()

CROSS_SITE_SHAPES = {
    # <form enctype="text/plain"> with name='{"sensor":...,"x":"' value='"}': valid JSON body
    "form text/plain": {"Content-Type": "text/plain"},
    "form urlencoded": {"Content-Type": "application/x-www-form-urlencoded"},
    "form multipart": {"Content-Type": "multipart/form-data; boundary=x"},
    # fetch(url, {mode: 'no-cors', method: 'POST', body: string}): text/plain;charset=UTF-8
    "no-cors fetch string": {"Content-Type": "text/plain;charset=UTF-8"},
    # fetch with a Blob or ArrayBuffer body: no Content-Type at all
    "no-cors fetch blob": {},
}


def stored(client: TestClient, headers: dict[str, str]) -> list[float]:
    r = client.get(f"/api/v1/m/{MUNI}/sensors/river-1/readings", headers=headers)
    assert r.status_code == 200, r.text
    return [p["value"] for p in r.json()]


@pytest.mark.parametrize("shape", CROSS_SITE_SHAPES)
@pytest.mark.parametrize("path", [READINGS, EVENTS])
def test_cross_site_shapes_are_refused_even_with_credentials(
    client: TestClient, gateway: dict[str, str], shape: str, path: str
) -> None:
    headers = {"Authorization": gateway["Authorization"], **CROSS_SITE_SHAPES[shape]}
    body = FIRE if path == READINGS else json.dumps({"kind": "fire"}).encode()
    r = client.post(path, content=body, headers=headers)
    assert r.status_code == 415
    assert "application/json" in r.json()["detail"]
    assert stored(client, gateway) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
def test_without_credentials_nothing_is_accepted(client: TestClient, content_type: str) -> None:
    r = client.post(READINGS, content=FIRE, headers={"Content-Type": content_type})
    assert r.status_code in {401, 415}
    assert client.get(f"/api/v1/m/{MUNI}/dead-letters").status_code == 401


def test_json_with_credentials_is_accepted(client: TestClient, gateway: dict[str, str]) -> None:
    r = client.post(READINGS, content=FIRE, headers=gateway)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "rejected": []}
    charset = {**gateway, "Content-Type": "application/json; charset=utf-8"}
    assert client.post(READINGS, content=FIRE, headers=charset).status_code == 200
    assert stored(client, gateway) == [3.5, 3.5]


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OPERATOR, 403), (Role.ANALYST, 403), (Role.AUDITOR, 403), (None, 404)],
)
def test_only_a_client_with_ingest_write_may_post(
    client: TestClient, make_token: MakeToken, role: Role | None, status: int
) -> None:
    token = make_token(f"user-{role or 'none'}", role)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    assert client.post(READINGS, content=FIRE, headers=headers).status_code == status


def test_a_client_of_another_municipality_gets_404(
    client: TestClient, make_token: MakeToken
) -> None:
    token = make_token("neighbour", Role.ADMIN, municipality="elsewhere")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    assert client.post(READINGS, content=FIRE, headers=headers).status_code == 404


SAFELISTED = st.sampled_from(
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
"""What a page of another origin may send without a preflight (the CORS-safelisted types)."""


@st.composite
def cross_site_type(draw: st.DrawFn) -> str:
    base = draw(SAFELISTED)
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in base)
    params = draw(
        st.sampled_from(
            ["", ";charset=UTF-8", "; boundary=x", ";application/json", "; type=application/json"]
        )
    )
    return draw(st.sampled_from(["", " "])) + cased + params


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content_type=cross_site_type(), body=st.binary(max_size=200) | st.just(FIRE))
def test_no_spelling_of_a_cross_site_type_gets_in(
    client: TestClient, gateway: dict[str, str], content_type: str, body: bytes
) -> None:
    headers = {"Authorization": gateway["Authorization"]}
    if content_type:
        headers["Content-Type"] = content_type
    assert client.post(READINGS, content=body, headers=headers).status_code == 415
    assert client.post(EVENTS, content=body, headers=headers).status_code == 415
    assert stored(client, gateway) == []
