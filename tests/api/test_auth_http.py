"""Login, logout, session expiry, CSRF and token revocation, at the HTTP level."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.services import accounts, tokens
from cityops.store import access_repo
from cityops.store.tables_access import console_sessions, users
from cityops.store.tables_audit import audit_log
from tests.town import MUNI, account, start_center

PASSWORD = "a long enough secret"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
INCIDENTS = f"/api/v1/m/{MUNI}/incidents"


def login(client: TestClient, username: str = "petrova", password: str = PASSWORD) -> str:
    """Log in through the API; returns the CSRF token."""
    r = client.post(LOGIN, json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    csrf: str = r.json()["csrf"]
    return csrf


def make_center(tmp_path: Path, **settings: Any) -> ControlCenter:
    center = start_center(tmp_path, with_mqtt=False, **settings)
    account(
        center.db, "petrova", display_name="Елена Петрова", role=Role.OPERATOR, password=PASSWORD
    )
    return center


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    cc = make_center(tmp_path)
    yield cc
    cc.stop()


@pytest.fixture
def browser(center: ControlCenter) -> Iterator[TestClient]:
    """A client without any credentials (a browser before logging in)."""
    with TestClient(create_api(center)) as c:
        yield c


def audit_actions(center: ControlCenter) -> list[tuple[str, str]]:
    with center.db.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.at, audit_log.c.seq))
        return [(r.action, r.actor) for r in rows]


def test_login_sets_a_strict_httponly_cookie_and_me_tells_roles(browser: TestClient) -> None:
    r = browser.post(LOGIN, json={"username": "petrova", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {"username": "petrova", "display_name": "Елена Петрова"}
    cookie = SimpleCookie(r.headers["set-cookie"])["cityops_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "strict"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # this center runs plain-http development
    me = browser.get(ME).json()
    assert me["username"] == "petrova"
    assert me["via"] == "session"
    assert me["csrf"] == body["csrf"]
    (membership,) = me["memberships"]
    assert (membership["municipality"], membership["role"]) == (MUNI, "operator")
    assert "incidents.act" in membership["permissions"]
    assert "users.manage" not in membership["permissions"]
    assert "video.unmasked" not in membership["permissions"]


def test_the_cookie_is_secure_outside_plain_http_development(tmp_path: Path) -> None:
    center = make_center(tmp_path, session_cookie_secure=True)
    try:
        with TestClient(create_api(center), base_url="https://testserver") as c:
            r = c.post(LOGIN, json={"username": "petrova", "password": PASSWORD})
            assert SimpleCookie(r.headers["set-cookie"])["cityops_session"]["secure"] is True
            assert c.get(ME).status_code == 200  # sent back over https
    finally:
        center.stop()


def test_wrong_password_unknown_user_and_disabled_account_are_refused_and_audited(
    browser: TestClient, center: ControlCenter
) -> None:
    for username, password in (("petrova", "wrong password!"), ("nobody", PASSWORD)):
        r = browser.post(LOGIN, json={"username": username, "password": password})
        assert r.status_code == 401
        assert "set-cookie" not in r.headers
    assert browser.get(ME).status_code == 401
    with center.db.begin() as conn:
        user = access_repo.user_by_name(conn, "petrova")
        assert user is not None
        access_repo.set_disabled(conn, user.id, True)
    assert (
        browser.post(LOGIN, json={"username": "petrova", "password": PASSWORD}).status_code == 401
    )
    failed = [a for a in audit_actions(center) if a[0] == "login.failed"]
    assert failed == [
        ("login.failed", "petrova"),
        ("login.failed", "nobody"),
        ("login.failed", "petrova"),
    ]


def test_the_password_is_stored_as_argon2id_only(center: ControlCenter) -> None:
    with center.db.connect() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(users.c.username == "petrova")
        ).scalar_one()
    assert stored.startswith("$argon2id$v=19$")
    assert PASSWORD not in stored
    assert accounts.HASHER.verify(stored, PASSWORD)


def test_cookie_writes_need_the_csrf_token_bearer_writes_do_not(
    browser: TestClient, center: ControlCenter
) -> None:
    csrf = login(browser)
    url = f"{INCIDENTS}/1/notes"
    note = {"text": "seen on camera"}
    missing = browser.post(url, json=note)
    assert missing.status_code == 403
    assert "X-CSRF-Token" in missing.json()["detail"]
    wrong = browser.post(url, json=note, headers={"X-CSRF-Token": csrf[:-1] + "x"})
    assert wrong.status_code == 403
    # with the right token the write reaches the route (no incident 1 here: 404, not 403)
    assert browser.post(url, json=note, headers={"X-CSRF-Token": csrf}).status_code == 404
    assert browser.get(INCIDENTS).status_code == 200  # reads need no token
    token = account(center.db, role=Role.OPERATOR)
    with TestClient(create_api(center)) as api:
        r = api.post(url, json=note, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404  # past authentication without any CSRF token


def test_logout_ends_the_session_for_good(browser: TestClient, center: ControlCenter) -> None:
    csrf = login(browser)
    stolen = browser.cookies.get("cityops_session")
    assert stolen
    assert browser.post("/api/v1/auth/logout").status_code == 403  # a write: CSRF needed
    r = browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert 'cityops_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert browser.get(ME).status_code == 401
    with TestClient(create_api(center)) as replay:  # the old cookie is worth nothing now
        replay.cookies.set("cityops_session", stolen)
        assert replay.get(ME).status_code == 401
    with center.db.connect() as conn:
        assert conn.execute(select(console_sessions)).all() == []
    actions = [a for a, _ in audit_actions(center)]
    assert actions[-2:] == ["login", "logout"]


def test_an_idle_session_ends(tmp_path: Path) -> None:
    center = make_center(tmp_path, session_idle_s=2.0)
    try:
        with TestClient(create_api(center)) as c:
            login(c)
            assert c.get(ME).status_code == 200
            time.sleep(2.2)
            r = c.get(ME)
            assert r.status_code == 401
            assert "log in again" in r.json()["detail"]
        with TestClient(create_api(center)) as left, TestClient(create_api(center)) as later:
            login(left)  # walks away without logging out
            time.sleep(2.2)
            login(later)  # a login sweeps the sessions that ended meanwhile
            with center.db.connect() as conn:
                assert len(conn.execute(select(console_sessions)).all()) == 1
            assert later.get(ME).status_code == 200
    finally:
        center.stop()


def test_a_session_ends_at_its_absolute_end_however_busy(tmp_path: Path) -> None:
    center = make_center(tmp_path, session_absolute_s=3.0, session_idle_s=3600)
    try:
        with TestClient(create_api(center)) as c:
            before = datetime.now(UTC)
            r = c.post(LOGIN, json={"username": "petrova", "password": PASSWORD})
            ends = datetime.fromisoformat(r.json()["expires_at"])
            cookie = c.cookies["cityops_session"]
            assert before + timedelta(seconds=3) <= ends <= datetime.now(UTC) + timedelta(seconds=3)
            answered = 0
            while True:  # busy all along: served until the end, refused from the end on
                sent = datetime.now(UTC)
                status = c.get(ME).status_code
                if status == 401:  # (the client's cookie jar keeps Max-Age in whole seconds)
                    assert datetime.now(UTC) >= ends - timedelta(seconds=1)
                    break
                assert (status, sent < ends) == (200, True)
                answered += 1
                time.sleep(0.2)
            assert answered >= 3
            time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.05)
        with TestClient(create_api(center)) as replay:  # the server ends it, not only the jar
            replay.cookies.set("cityops_session", cookie)
            assert replay.get(ME).status_code == 401
    finally:
        center.stop()


def test_a_changed_password_ends_the_sessions(browser: TestClient, center: ControlCenter) -> None:
    login(browser)
    with center.db.begin() as conn:
        user = access_repo.user_by_name(conn, "petrova")
        assert user is not None
        accounts.set_password(conn, user.id, "another long secret")
    assert browser.get(ME).status_code == 401


def test_a_revoked_token_is_refused_at_once(center: ControlCenter) -> None:
    token = account(center.db, "gateway-1", role=Role.SUPERVISOR, installation_admin=False)
    with TestClient(create_api(center)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        assert api.get(INCIDENTS).status_code == 200
        with center.db.begin() as conn:
            user = access_repo.user_by_name(conn, "gateway-1")
            assert user is not None
            (row,) = access_repo.tokens_of(conn, user.id)
            assert row.last_used_at is not None  # told to admins by `cityops tokens list`
            assert tokens.revoke_token(conn, row.id, actor="test", now=row.created_at)
        r = api.get(INCIDENTS)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert (
            api.get(INCIDENTS, headers={"Authorization": "Bearer cot_made-up"}).status_code == 401
        )


@given(
    authorization=st.one_of(
        st.text(max_size=200),
        st.text(max_size=120).map(lambda t: "Bearer " + t),
        st.text(max_size=60).map(lambda t: "Bearer cot_" + t),
    ),
    cookie=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=120),
    csrf=st.text(max_size=80),
)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_credentials_from_outside_get_401_never_a_server_error(
    browser: TestClient, authorization: str, cookie: str, csrf: str
) -> None:
    headers: dict[str, bytes] = {}
    for name, value in (("X-CSRF-Token", csrf), ("Authorization", authorization)):
        if not set(value) & {"\r", "\n", "\0"}:  # what HTTP can carry, as UTF-8 bytes
            headers[name] = value.encode()
    browser.cookies.clear()
    if cookie and ";" not in cookie and "," not in cookie and '"' not in cookie:
        browser.cookies.set("cityops_session", cookie)
    for method, url in (("GET", ME), ("POST", f"{INCIDENTS}/1/notes")):
        r = browser.request(method, url, headers=headers, json={"text": "x"})
        assert r.status_code == 401, (method, r.status_code, r.text)


def test_a_new_login_ends_the_session_the_browser_held(
    browser: TestClient, center: ControlCenter
) -> None:
    login(browser)
    first = browser.cookies["cityops_session"]
    login(browser)
    assert browser.cookies["cityops_session"] != first
    assert browser.get(ME).status_code == 200
    with TestClient(create_api(center)) as replay:
        replay.cookies.set("cityops_session", first)
        assert replay.get(ME).status_code == 401
    with center.db.connect() as conn:
        assert len(conn.execute(select(console_sessions)).all()) == 1
