"""The per-process principal cache (store/principal_cache.py): a burst of requests reads the
session, account and memberships once; a logout, revoked token, removed or expired membership,
disabled account or changed password is refused on the very next request in this process; a
change this process did not make (another process of the deployment) applies within
``CITYOPS_AUTH_CACHE_S``; the idle-activity write happens at most every minute."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, update

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.access import Membership, Principal, Role
from cityops.services import accounts, tokens
from cityops.store import access_repo
from cityops.store.principal_cache import CACHE, Entry, PrincipalCache
from cityops.store.tables_access import console_sessions, memberships
from tests.town import MUNI, account, start_center

PASSWORD = "a long enough secret"
ME = "/api/v1/auth/me"
INCIDENTS = f"/api/v1/m/{MUNI}/incidents"


class Statements:
    """The SQL statements the database is sent (to see what the cache spares it)."""

    def __init__(self, db: Engine) -> None:
        self.sql: list[str] = []
        event.listen(db, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sql.append(statement)

    def about(self, table: str) -> list[str]:
        return [s for s in self.sql if f"FROM {table}" in s or f"UPDATE {table}" in s]


@pytest.fixture
def center(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ControlCenter]:
    overrides = {"auth_cache_s": 30.0, **getattr(request, "param", {})}
    cc = start_center(tmp_path, with_mqtt=False, **overrides)
    account(cc.db, "petrova", role=Role.OPERATOR, installation_admin=False, password=PASSWORD)
    yield cc
    cc.stop()


@pytest.fixture
def console(center: ControlCenter) -> Iterator[TestClient]:
    """A console signed in as operator petrova."""
    with TestClient(create_api(center)) as c:
        r = c.post("/api/v1/auth/login", json={"username": "petrova", "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf"]
        yield c


def user_id(center: ControlCenter, username: str = "petrova") -> int:
    with center.db.connect() as conn:
        user = access_repo.user_by_name(conn, username)
    assert user is not None
    return user.id


def test_a_burst_of_requests_reads_the_session_once(
    center: ControlCenter, console: TestClient
) -> None:
    seen = Statements(center.db)
    for _ in range(8):  # the console's first render
        assert console.get(INCIDENTS).status_code == 200
    assert len(seen.about("console_sessions")) == 1
    assert len(seen.about("memberships")) == 1
    assert len(seen.about("users")) == 1


def test_a_logged_out_session_is_refused_at_once(
    center: ControlCenter, console: TestClient
) -> None:
    assert console.get(INCIDENTS).status_code == 200
    hits = CACHE.hits
    assert console.get(INCIDENTS).status_code == 200
    assert CACHE.hits == hits + 1  # answered from the cache
    cookie = console.cookies["cityops_session"]
    assert console.post("/api/v1/auth/logout").status_code in (200, 204)
    with TestClient(create_api(center)) as replay:
        replay.cookies.set("cityops_session", cookie)
        assert replay.get(INCIDENTS).status_code == 401


def test_a_revoked_token_is_refused_at_once(center: ControlCenter) -> None:
    token = account(center.db, "gateway", role=Role.SUPERVISOR, installation_admin=False)
    with TestClient(create_api(center)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        assert api.get(INCIDENTS).status_code == 200
        hits = CACHE.hits
        assert api.get(INCIDENTS).status_code == 200
        assert CACHE.hits == hits + 1
        with center.db.begin() as conn:
            (row,) = access_repo.tokens_of(conn, user_id(center, "gateway"))
            assert tokens.revoke_token(conn, row.id, actor="test", now=datetime.now(UTC))
        assert api.get(INCIDENTS).status_code == 401


def test_a_removed_membership_is_refused_at_once(
    center: ControlCenter, console: TestClient
) -> None:
    assert console.get(INCIDENTS).status_code == 200
    with center.db.begin() as conn:
        assert accounts.revoke(
            conn, user_id(center), MUNI, revoked_by="admin", now=datetime.now(UTC)
        )
    assert console.get(INCIDENTS).status_code == 404  # as for an unknown municipality
    assert console.get(ME).json()["memberships"] == []


def test_a_changed_role_applies_at_once(center: ControlCenter, console: TestClient) -> None:
    assert console.get(ME).json()["memberships"][0]["role"] == "operator"
    with center.db.begin() as conn:
        analyst = Membership(MUNI, Role.ANALYST, None, None, unmasked_video=False)
        accounts.grant(conn, user_id(center), analyst, granted_by="admin", now=datetime.now(UTC))
    assert console.get(ME).json()["memberships"][0]["role"] == "analyst"


def test_an_expired_membership_is_refused_when_it_ends_not_when_the_cache_forgets(
    center: ControlCenter,
) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=2)
    token = account(
        center.db, "liaison", role=Role.LIAISON, agency="police", expires_at=ends,
        installation_admin=False,
    )  # fmt: skip
    with TestClient(create_api(center)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        assert api.get(INCIDENTS).status_code == 200
        time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.1)
        hits = CACHE.hits
        assert api.get(INCIDENTS).status_code == 404  # the cache (30 s) still holds it
        assert CACHE.hits == hits + 1


@pytest.mark.parametrize("change", ["disable", "password"])
def test_a_disabled_account_or_changed_password_ends_at_once(
    center: ControlCenter, console: TestClient, change: str
) -> None:
    assert console.get(ME).status_code == 200
    with center.db.begin() as conn:
        if change == "disable":
            accounts.set_disabled(conn, user_id(center), True, actor="admin", now=datetime.now(UTC))
        else:
            accounts.set_password(conn, user_id(center), "another long enough secret")
    assert console.get(ME).status_code == 401


@pytest.mark.parametrize("center", [{"auth_cache_s": 1.0}], indirect=True)
def test_a_change_by_another_process_applies_within_the_cache_time(
    center: ControlCenter, console: TestClient
) -> None:
    """Another process's change reaches this one's cache only by age: at most auth_cache_s."""
    assert console.get(INCIDENTS).status_code == 200
    with center.db.begin() as conn:  # as another process would: no hook of this one runs
        conn.execute(update(memberships).values(role=Role.AUDITOR.value))
    assert console.get(INCIDENTS).status_code == 200  # this process cannot know yet
    time.sleep(1.1)
    assert console.get(INCIDENTS).status_code == 403  # an auditor reads no incidents


@pytest.mark.parametrize("center", [{"auth_cache_s": 0.0}], indirect=True)
def test_no_cache_reads_the_database_on_every_request(
    center: ControlCenter, console: TestClient
) -> None:
    seen = Statements(center.db)
    for _ in range(3):
        assert console.get(INCIDENTS).status_code == 200
    assert len(seen.about("console_sessions")) == 3


def test_the_idle_activity_is_written_at_most_every_minute(
    center: ControlCenter, console: TestClient
) -> None:
    seen = Statements(center.db)
    with center.db.begin() as conn:  # as if last seen 61 s ago
        conn.execute(
            update(console_sessions).values(last_seen_at=datetime.now(UTC) - timedelta(seconds=61))
        )
    CACHE.clear()
    for _ in range(5):
        assert console.get(ME).status_code == 200
    writes = [s for s in seen.sql if s.startswith("UPDATE console_sessions") and "WHERE" in s]
    assert len(writes) == 1


# --- the cache itself, on a fake clock


def principal(user_id: int) -> Principal:
    return Principal(user_id, f"u{user_id}", f"U {user_id}", {}, False, "password")


def entry(user_id: int, started: float) -> Entry:
    return Entry(principal(user_id), "csrf", datetime.now(UTC), None, started)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_entries_age_out_and_the_least_recently_used_goes_first() -> None:
    clock = Clock()
    cache = PrincipalCache(size=2, clock=clock)
    cache.put("db", "a", entry(1, clock()), 5)
    cache.put("db", "b", entry(2, clock()), 5)
    assert cache.get("db", "a", 5) is not None  # a used: b is now the oldest
    cache.put("db", "c", entry(3, clock()), 5)
    assert cache.get("db", "b", 5) is None
    assert cache.get("db", "a", 5) is not None
    assert cache.get("other-db", "a", 5) is None  # one database's entry is not another's
    clock.t += 5
    assert cache.get("db", "a", 5) is None
    assert len(cache) == 1


def test_a_lookup_that_began_before_a_change_committed_is_not_stored() -> None:
    clock = Clock()
    cache = PrincipalCache(clock=clock)
    started = clock()  # a request begins reading the account ...
    clock.t += 0.1
    cache.forget_user("db", 1)  # ... another's change has committed meanwhile
    cache.put("db", "a", entry(1, started), 5)
    assert cache.get("db", "a", 5) is None
    clock.t += 0.1
    cache.put("db", "a", entry(1, clock()), 5)
    assert cache.get("db", "a", 5) is not None
    cache.put("db", "b", entry(2, started), 5)  # another account is not held back
    assert cache.get("db", "b", 5) is not None
