"""The live feed over a real HTTP server: an incident raised by ingest arrives as an SSE event."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from cityops.api.app import create_api
from cityops.app import ControlCenter
from tests.harness import free_port


@pytest.fixture
def base_url(center: ControlCenter) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_api(center), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_incident_and_sensor_changes_arrive_on_the_feed(base_url: str) -> None:
    events: list[tuple[str, dict[str, object]]] = []
    connected = threading.Event()
    done = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{base_url}/api/v1/m/testtown/live", timeout=20) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                    connected.set()
                elif line.startswith("data:") and name in ("incident", "sensor"):
                    events.append((name, json.loads(line[5:])))
                    if name == "incident":
                        done.set()
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert connected.wait(10)
    start = datetime.now(UTC) - timedelta(minutes=11)
    readings = [
        {"sensor": "river-1", "value": 3.0, "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(11)
    ]
    r = httpx.post(f"{base_url}/api/v1/m/testtown/readings", json={"readings": readings})
    assert r.json()["accepted"] == 11
    assert done.wait(10)
    incident = next(data for name, data in events if name == "incident")
    assert (incident["type"], incident["status"], incident["rule_id"]) == (
        "flood",
        "new",
        "flood-level",
    )
    sensor_events = [data for name, data in events if name == "sensor"]
    assert sensor_events == []  # incidents are sent before the sensor updates of their batch
    thread.join(5)


def test_other_municipalities_and_unknown_ones(base_url: str) -> None:
    assert httpx.get(f"{base_url}/api/v1/m/nowhere/live").status_code == 404
