"""GET /sensors and GET /cameras (start-up requests of the console) are written straight to JSON
from rows (issue 8's first-render cost): their bytes must be exactly what the documented models
give, for sensors with and without readings, in alarm or not; a liaison gets no sensors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from cityops.api.routes_sources import CameraView, SensorView
from cityops.app import ControlCenter
from cityops.domain.access import Role
from tests.town import MUNI, api_client

BASE = f"/api/v1/m/{MUNI}"
MODEL = TypeAdapter(list[SensorView])
CAMERAS = TypeAdapter(list[CameraView])


def test_the_sensor_list_is_byte_for_byte_the_models_encoding(client: TestClient) -> None:
    start = datetime.now(UTC) - timedelta(minutes=11)
    readings = [
        {"sensor": "river-1", "value": 3.1, "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(11)
    ] + [{"sensor": "river-2", "value": 1.25, "ts": start.isoformat()}]
    assert client.post(f"{BASE}/readings", json={"readings": readings}).status_code == 200
    r = client.get(f"{BASE}/sensors")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    parsed = MODEL.validate_json(r.content)  # every field there, of its type
    assert MODEL.dump_json(parsed) == r.content  # and encoded as the model encodes it
    by_id = {s.id: s for s in parsed}
    assert by_id["river-1"].state == "alarm"
    assert by_id["river-1"].ts is not None
    assert by_id["river-1"].ts.tzinfo is not None
    assert by_id["river-2"].value == 1.25
    assert [(t.rule_id, t.op, t.value) for t in by_id["river-1"].thresholds] == [
        ("flood-level", "above", 2.8)
    ]
    assert r.content == client.get(f"{BASE}/sensors").content  # the cached part is reused as is


def test_a_liaison_gets_no_sensors(center: ControlCenter) -> None:
    ends = datetime.now(UTC) + timedelta(hours=1)
    with api_client(
        center, role=Role.LIAISON, agency="police", expires_at=ends, installation_admin=False
    ) as liaison:
        r = liaison.get(f"{BASE}/sensors")
    assert r.status_code == 200
    assert r.json() == []


def test_the_camera_list_is_byte_for_byte_the_models_encoding(client: TestClient) -> None:
    r = client.get(f"{BASE}/cameras")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    parsed = CAMERAS.validate_json(r.content)
    assert CAMERAS.dump_json(parsed) == r.content
    assert [c.id for c in parsed] == ["cam-a", "cam-b", "cam-school"]
    assert all(c.health == "unknown" for c in parsed)
