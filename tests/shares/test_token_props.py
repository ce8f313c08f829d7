"""Property tests of the edge where a share's credential comes in from outside: the token in a
JSON body and the cookie. Every well-formed token is taken as it is; anything else is refused
before the database is asked; over HTTP nothing a stranger sends is answered with anything but
401 (nothing sent), 404 (no such share) or 422 (not a JSON string), and never opens a share."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.entities import LonLat
from cityops.domain.shares import (
    TOKEN_PATTERN,
    Share,
    ShareOrigin,
    new_token,
    parse_token,
    share_url,
    token_digest,
)
from tests.town import start_center

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@given(st.text(alphabet=URLSAFE, min_size=43, max_size=43))
def test_every_well_formed_token_is_taken_as_it_is(token: str) -> None:
    assert parse_token(token) == token
    assert len(token_digest(token)) == 64
    assert share_url("https://c.example/", token) == f"https://c.example/share.html#{token}"


@given(st.one_of(st.text(max_size=100), st.binary(max_size=60), st.integers(), st.none()))
def test_anything_else_is_refused(raw: object) -> None:
    shaped = isinstance(raw, str) and TOKEN_PATTERN.fullmatch(raw) is not None
    assert (parse_token(raw) is not None) is shaped


@given(
    st.text(alphabet=URLSAFE, min_size=43, max_size=43), st.sampled_from(["=", " ", "\n", "é", "."])
)
def test_a_token_with_anything_added_is_refused(token: str, extra: str) -> None:
    assert parse_token(token + extra) is None
    assert parse_token(extra + token) is None
    assert parse_token(token[:-1]) is None


def test_new_tokens_are_well_formed_and_distinct() -> None:
    made = {new_token() for _ in range(200)}
    assert len(made) == 200
    assert all(parse_token(t) == t for t in made)


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    center: ControlCenter = start_center(tmp_path_factory.mktemp("props"), with_mqtt=False)
    try:
        with TestClient(create_api(center)) as client:
            yield client
    finally:
        center.stop()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(JSON, st.text(alphabet=URLSAFE, min_size=43, max_size=43)))
def test_no_body_opens_a_share_or_breaks_the_exchange(stranger: TestClient, token: object) -> None:
    r = stranger.post("/api/v1/share-access", json={"token": token})
    assert r.status_code in (401, 404, 422), r.text
    assert "set-cookie" not in r.headers


COOKIE = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';,"\\'),
    max_size=120,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(COOKIE | st.just(secrets.token_urlsafe(32)))
def test_no_cookie_opens_a_share(stranger: TestClient, cookie: str) -> None:
    stranger.cookies.clear()
    headers = {"Cookie": f"cityops_share={cookie}"}
    for path in ("", "/cameras/cam-a/snapshot.jpg"):
        r = stranger.get(f"/api/v1/share-access{path}", headers=headers)
        assert r.status_code in (401, 404, 422), (path, r.status_code, r.text)


TIMES = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@given(TIMES, st.integers(1, 10_000), st.none() | TIMES, TIMES, st.sampled_from(["cam-a", "x"]))
def test_a_share_is_revoked_once_revoked_else_active_only_before_its_expiry(
    created: datetime, minutes: int, revoked: datetime | None, now: datetime, camera: str
) -> None:
    share = Share(
        id=1,
        municipality="m",
        incident_id=None,
        place=LonLat(25.39, 42.62),
        radius_m=100,
        cameras=("cam-a",),
        agency="police",
        purpose="robbery",
        origin=ShareOrigin.OPERATOR,
        created_by="x",
        created_at=created,
        expires_at=created + timedelta(minutes=minutes),
        revoked_at=revoked,
    )
    expected = "revoked" if revoked else "active" if now < share.expires_at else "expired"
    assert share.status(now) == expected
    assert share.shows(camera, now) is (expected == "active" and camera == "cam-a")
