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

from cityops.data import DEMO_CONFIG
from tests.harness.live_server import LiveServer
from tests.town import TOWN_YAML


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """Two municipalities on one installation, on the embedded broker."""
    with LiveServer(tmp_path, None, [TOWN_YAML, DEMO_CONFIG]) as running:
        yield running


class Feed:
    """Reads one municipality's SSE feed on a thread, keeping incident and sensor events."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []
        self.connected = threading.Event()
        self.got_incident = threading.Event()
        self._thread = threading.Thread(target=self._listen, args=(url,), daemon=True)
        self._thread.start()
        assert self.connected.wait(10), f"no hello from {url}"

    def _listen(self, url: str) -> None:
        try:
            self._read(url)
        except httpx.HTTPError:
            return  # the server stopped at the end of the test with this feed still open

    def _read(self, url: str) -> None:
        with httpx.stream("GET", url, timeout=20) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                    self.connected.set()
                elif line.startswith("data:") and name in ("incident", "sensor"):
                    self.events.append((name, json.loads(line[5:])))
                    if name == "incident":
                        self.got_incident.set()
                        return


def post_flood(server: LiveServer) -> None:
    start = datetime.now(UTC) - timedelta(minutes=11)
    readings = [
        {"sensor": "river-1", "value": 3.0, "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(11)
    ]
    r = httpx.post(server.api("/m/testtown/readings"), json={"readings": readings})
    assert r.json()["accepted"] == 11


def test_an_incident_arrives_on_its_municipality_feed_only(server: LiveServer) -> None:
    town = Feed(server.api("/m/testtown/live"))
    neighbour = Feed(server.api("/m/kazanlak/live"))
    post_flood(server)
    assert town.got_incident.wait(10)
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
    assert httpx.get(server.api("/m/kazanlak/incidents")).json() == []
    assert len(httpx.get(server.api("/m/testtown/incidents")).json()) == 1


def test_unknown_municipality_has_no_feed(server: LiveServer) -> None:
    assert httpx.get(server.api("/m/nowhere/live")).status_code == 404
