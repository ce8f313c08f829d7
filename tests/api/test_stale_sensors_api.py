"""GET /sensors serves a sensor silent for 3 x its expected interval as stale (the pipeline's
clock moved forward by hand, never slept), and ok again after its next reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from cityops.app import ControlCenter
from tests.api.test_incidents_api import BASE


def post_level(client: TestClient, value: float) -> None:
    reading = {"sensor": "river-1", "value": value, "ts": datetime.now(UTC).isoformat()}
    r = client.post(f"{BASE}/readings", json={"readings": [reading]})
    assert r.json()["accepted"] == 1


def states(client: TestClient) -> dict[str, str]:
    return {s["id"]: s["state"] for s in client.get(f"{BASE}/sensors").json()}


def tick_at(center: ControlCenter, moment: datetime) -> None:
    assert center.pipeline is not None
    center.pipeline.clock = lambda: moment
    center.pipeline.tick()


def test_a_silent_sensor_is_served_stale_and_comes_back(
    center: ControlCenter, client: TestClient
) -> None:
    post_level(client, 1.2)
    received = datetime.now(UTC)
    tick_at(center, received + timedelta(seconds=170))
    assert states(client) == {"river-1": "ok", "river-2": "unknown", "pm10-1": "unknown"}
    tick_at(center, received + timedelta(seconds=181))
    assert states(client)["river-1"] == "stale"
    one = next(s for s in client.get(f"{BASE}/sensors").json() if s["id"] == "river-1")
    assert one["value"] == 1.2  # the last value is still served, marked stale
    post_level(client, 1.3)
    assert states(client)["river-1"] == "ok"
