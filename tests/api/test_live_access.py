"""The live feed under the authorization matrix, on a real server: who may open it, and what
each principal receives (a liaison its agency's incidents only and no sensors, a neighbour the
incidents handed over to it, nobody another municipality's traffic)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cityops.api import routes_live
from cityops.domain.access import Role
from cityops.domain.entities import SensorState
from cityops.services import tokens
from cityops.services.live import LiveKind, LiveMessage, SensorPayload
from cityops.services.views import load_summary
from cityops.store.tables_access import api_tokens
from tests.api.test_access_scope import AGENCY, put_incident
from tests.harness.live_server import LiveServer
from tests.town import MUNI, NEIGHBOUR, TOWN_YAML, neighbour_yaml


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path, None, [TOWN_YAML, neighbour_yaml(tmp_path)]) as running:
        yield running


class Feed:
    """One SSE connection read on a thread; ``received`` keeps (event, data) in order."""

    def __init__(self, server: LiveServer, municipality: str, headers: dict[str, str]) -> None:
        self.url = server.api(f"/m/{municipality}/live")
        self.headers = headers
        self.received: list[tuple[str, Any]] = []
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.status: int | None = None
        threading.Thread(target=self._read, daemon=True).start()
        assert self.connected.wait(10), f"no answer from {self.url}"

    def _read(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=30) as r:
                self.status = r.status_code
                if r.status_code != 200:
                    self.connected.set()
                    return
                name = ""
                for line in r.iter_lines():
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        self.received.append((name, json.loads(line[5:])))
                        self.connected.set()
        except httpx.HTTPError:
            self.connected.set()
        finally:
            self.closed.set()

    def incidents(self) -> list[str]:
        return [data["title"] for name, data in self.received if name == "incident"]

    def kinds(self) -> list[str]:
        return [name for name, _ in self.received]


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_who_may_open_the_feed(server: LiveServer) -> None:
    url = server.api(f"/m/{MUNI}/live")
    assert httpx.get(url).status_code == 401
    auditor = server.headers(role=Role.AUDITOR, installation_admin=False)
    assert httpx.get(url, headers=auditor).status_code == 403
    stranger = server.headers(role=Role.ADMIN, municipality=NEIGHBOUR, installation_admin=False)
    assert httpx.get(url, headers=stranger).status_code == 404
    install = server.headers(role=None, installation_admin=True)
    assert httpx.get(url, headers=install).status_code == 404
    for role in (Role.ADMIN, Role.OPERATOR, Role.ANALYST):
        feed = Feed(server, MUNI, server.headers(role=role, installation_admin=False))
        assert feed.status == 200
        assert feed.kinds()[0] == "hello"


def test_each_principal_receives_only_what_it_may_see(server: LiveServer) -> None:
    center = server.center
    assert center is not None
    ours = put_incident(center.db, "ours", agency=AGENCY, cameras=["cam-a"])
    police = put_incident(center.db, "police's", agency="police")
    expires = datetime.now(UTC) + timedelta(hours=1)
    liaison = Feed(
        server,
        MUNI,
        server.headers(
            role=Role.LIAISON, agency=AGENCY, expires_at=expires, installation_admin=False
        ),
    )
    analyst = Feed(server, MUNI, server.headers(role=Role.ANALYST, installation_admin=False))
    neighbour_headers = server.headers(role=Role.OPERATOR, municipality=NEIGHBOUR)
    neighbour = Feed(server, NEIGHBOUR, neighbour_headers)

    with center.db.connect() as conn:
        briefs = [load_summary(conn, MUNI, i) for i in (ours, police)]
    sensor = SensorPayload(id="river-1", value=1.0, ts=None, state=SensorState.OK)
    center.live.publish_many(
        [LiveMessage(MUNI, LiveKind.INCIDENT, b) for b in briefs if b is not None]
        + [LiveMessage(MUNI, LiveKind.SENSOR, sensor)]
    )
    wait_until(lambda: "sensor" in analyst.kinds())
    time.sleep(0.3)  # what the others would have got has been delivered by now
    assert analyst.incidents() == ["ours", "police's"]
    assert liaison.incidents() == ["ours"]
    assert "sensor" not in liaison.kinds()
    assert neighbour.kinds() == ["hello"]

    # a hand-over: the neighbour's open feed gets it, and the incident's later changes too
    admin = server.headers(role=Role.SUPERVISOR)
    base = server.api(f"/m/{MUNI}/incidents/{police}")
    r = httpx.post(f"{base}/handover", json={"to": NEIGHBOUR, "reason": "boundary"}, headers=admin)
    assert r.status_code == 200, r.text
    wait_until(lambda: neighbour.incidents() == ["police's"])
    assert neighbour.incidents() == ["police's"]
    httpx.post(f"{base}/notes", json={"text": "road closed"}, headers=admin).raise_for_status()
    wait_until(lambda: len(neighbour.incidents()) == 2)
    assert neighbour.incidents() == ["police's", "police's"]
    assert liaison.incidents() == ["ours"]  # still not the police's
    other = put_incident(center.db, "ours, elsewhere", municipality=NEIGHBOUR, agency=AGENCY)
    with center.db.connect() as conn:
        brief = load_summary(conn, NEIGHBOUR, other)
    assert brief is not None
    center.live.publish(LiveMessage(NEIGHBOUR, LiveKind.INCIDENT, brief))
    wait_until(lambda: len(neighbour.incidents()) == 3)
    time.sleep(0.3)
    assert "ours, elsewhere" not in liaison.incidents() + analyst.incidents()


def test_the_feed_ends_when_the_token_is_revoked_or_the_membership_ends(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_live, "RECHECK_S", 0.2)
    center = server.center
    assert center is not None
    ours = put_incident(center.db, "ours", agency=AGENCY)
    token_feed = Feed(server, MUNI, server.headers(role=Role.OPERATOR, installation_admin=False))
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    who = {"role": Role.LIAISON, "agency": AGENCY, "expires_at": expires}
    liaison = Feed(server, MUNI, server.headers(installation_admin=False, **who))
    with center.db.begin() as conn:  # the operator's token: the second newest
        token_id = (
            conn.execute(select(api_tokens.c.id).order_by(api_tokens.c.id)).scalars().all()[-2]
        )
        assert tokens.revoke_token(conn, token_id, actor="test", now=datetime.now(UTC))
    wait_until(token_feed.closed.is_set, 5)
    assert token_feed.closed.is_set()  # the server ended the stream
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    with center.db.connect() as conn:
        brief = load_summary(conn, MUNI, ours)
    assert brief is not None
    center.live.publish(LiveMessage(MUNI, LiveKind.INCIDENT, brief))
    wait_until(liaison.closed.is_set, 5)
    assert liaison.closed.is_set()
    assert liaison.incidents() == []  # nothing after the membership's end
