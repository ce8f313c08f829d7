"""The live feed over a real HTTP server: an incident raised by ingest arrives as an SSE event,
on its own municipality's feed only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cityops.api import routes_live
from cityops.data import DEMO_CONFIG
from cityops.domain.entities import CameraHealth, SensorState
from cityops.services.live import CameraPayload, LiveKind, LiveMessage, SensorPayload
from tests.harness.live_server import LiveServer
from tests.town import TOWN_YAML


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """Two municipalities on one installation, on the embedded broker."""
    with LiveServer(tmp_path, None, [TOWN_YAML, DEMO_CONFIG]) as running:
        yield running


class Feed:
    """Reads one municipality's SSE feed on a thread until an event named ``until`` arrives.

    ``received`` keeps every event in order; ``events`` the incident and sensor ones."""

    def __init__(self, server: LiveServer, path: str, until: str = "incident") -> None:
        url = server.api(path)
        self.headers = server.headers(municipality=("testtown", "kazanlak"))
        self.received: list[tuple[str, dict[str, object]]] = []
        self.until = until
        self.connected = threading.Event()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._listen, args=(url,), daemon=True)
        self._thread.start()
        assert self.connected.wait(10), f"no hello from {url}"

    @property
    def events(self) -> list[tuple[str, dict[str, object]]]:
        return [(name, data) for name, data in self.received if name in ("incident", "sensor")]

    def _listen(self, url: str) -> None:
        try:
            self._read(url)
        except httpx.HTTPError:
            return  # the server stopped at the end of the test with this feed still open

    def _read(self, url: str) -> None:
        with httpx.stream("GET", url, timeout=20, headers=self.headers) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    self.received.append((name, json.loads(line[5:])))
                    self.connected.set()
                    if name == self.until:
                        self.done.set()
                        return


def post_flood(server: LiveServer) -> None:
    start = datetime.now(UTC) - timedelta(minutes=11)
    readings = [
        {"sensor": "river-1", "value": 3.0, "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(11)
    ]
    r = httpx.post(
        server.api("/m/testtown/readings"), json={"readings": readings}, headers=server.headers()
    )
    assert r.json()["accepted"] == 11


def test_an_incident_arrives_on_its_municipality_feed_only(server: LiveServer) -> None:
    town = Feed(server, "/m/testtown/live")
    neighbour = Feed(server, "/m/kazanlak/live")
    post_flood(server)
    assert town.done.wait(10)
    incident = next(data for name, data in town.events if name == "incident")
    assert (incident["type"], incident["status"], incident["rule_id"]) == (
        "flood",
        "new",
        "flood-level",
    )
    # incidents are sent before the sensor updates of the batch that raised them
    assert [name for name, _ in town.events] == ["incident"]
    time.sleep(0.5)  # what the neighbour would have got has long been delivered by now
    assert neighbour.events == []
    auth = town.headers
    assert httpx.get(server.api("/m/kazanlak/incidents"), headers=auth).json() == []
    assert len(httpx.get(server.api("/m/testtown/incidents"), headers=auth).json()) == 1


def test_unknown_municipality_has_no_feed(server: LiveServer) -> None:
    auth = server.headers(municipality=("testtown", "kazanlak"))
    assert httpx.get(server.api("/m/nowhere/live"), headers=auth).status_code == 404
    assert httpx.get(server.api("/m/testtown/live")).status_code == 401


def test_hello_comes_first_with_the_municipality_and_the_server_time(server: LiveServer) -> None:
    before = datetime.now(UTC)
    feed = Feed(server, "/m/testtown/live", until="hello")
    assert feed.done.wait(10)
    name, data = feed.received[0]
    assert name == "hello"
    assert set(data) == {"municipality", "server_time"}
    assert data["municipality"] == "testtown"
    sent = datetime.fromisoformat(str(data["server_time"]))
    assert sent.tzinfo is not None
    assert before - timedelta(seconds=1) <= sent <= datetime.now(UTC)


def publish_to_small_queue(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, n: int, until: str
) -> Feed:
    """A feed whose queue holds 5 messages; then ``n`` sensor updates published at once."""
    monkeypatch.setattr(routes_live, "QUEUE_LIMIT", 5)
    feed = Feed(server, "/m/testtown/live", until=until)
    assert server.center is not None
    server.center.live.publish_many(
        [
            LiveMessage(
                "testtown",
                LiveKind.SENSOR,
                SensorPayload(id="river-1", value=float(i), ts=None, state=SensorState.OK),
            )
            for i in range(n)
        ]
    )
    return feed


def test_a_client_that_falls_behind_is_told_to_resync(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = publish_to_small_queue(server, monkeypatch, 6, until="resync")  # more than it holds
    assert feed.done.wait(10)
    assert feed.received == [
        ("hello", feed.received[0][1]),
        ("resync", {"reason": "overflow"}),  # what was queued was dropped, not half-delivered
    ]


def test_a_client_keeping_up_gets_every_message_in_order(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = publish_to_small_queue(server, monkeypatch, 4, until="never")  # fits in the queue
    deadline = time.monotonic() + 10
    while len(feed.events) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [data["value"] for _, data in feed.events] == [0.0, 1.0, 2.0, 3.0]
    assert [name for name, _ in feed.received] == ["hello"] + ["sensor"] * 4


def test_a_client_asking_for_some_kinds_gets_only_those(server: LiveServer) -> None:
    """``?kinds=camera``: the sensor messages published before the camera's are not sent to it
    (they are to a client asking for everything), and hello still comes first."""
    only = Feed(server, "/m/testtown/live?kinds=camera", until="camera")
    every = Feed(server, "/m/testtown/live", until="camera")
    assert server.center is not None
    sensor = SensorPayload(id="river-1", value=1.0, ts=None, state=SensorState.OK)
    camera = CameraPayload(id="cam-1", health=CameraHealth.OFFLINE)
    server.center.live.publish_many(
        [LiveMessage("testtown", LiveKind.SENSOR, sensor)] * 3
        + [LiveMessage("testtown", LiveKind.CAMERA, camera)]
    )
    assert only.done.wait(10)
    assert every.done.wait(10)
    assert [name for name, _ in only.received] == ["hello", "camera"]
    assert only.received[1][1] == {"id": "cam-1", "health": "offline"}
    assert [name for name, _ in every.received] == ["hello"] + ["sensor"] * 3 + ["camera"]


@pytest.mark.parametrize("kinds", ["incident,rumour", "", " , "])
def test_an_unknown_or_empty_kind_is_refused_with_the_known_ones(
    server: LiveServer, kinds: str
) -> None:
    r = httpx.get(
        server.api(f"/m/testtown/live?kinds={kinds}"),
        headers=server.headers(municipality=("testtown",)),
    )
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "known: hello, incident, sensor, camera" in detail
    assert ("'rumour'" in detail) == ("rumour" in kinds)
