"""Parameters at the edges answer 4xx, never 500 (the hostile-input probe, issue 6 item 7);
the health answer, its shape and when it says degraded."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.app import ControlCenter
from cityops.bus.mqtt import MqttIngest
from cityops.ingest.pipeline import InboundMessage
from tests.harness import free_port

BASE = "/api/v1/m/testtown"


@pytest.mark.parametrize("incident_id", [2**31, 2**63, 10**30, 0, -1])
def test_incident_ids_beyond_the_database_integer_are_422(
    client: TestClient, incident_id: int
) -> None:
    assert client.get(f"{BASE}/incidents/{incident_id}").status_code == 422
    r = client.post(f"{BASE}/incidents/{incident_id}/notes", json={"text": "x"})
    assert r.status_code == 422


def test_the_largest_postgresql_integer_is_a_plain_404(client: TestClient) -> None:
    assert client.get(f"{BASE}/incidents/{2**31 - 1}").status_code == 404


EDGES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59Z",
    "1969-12-31T23:00:00Z",
    "2201-01-01T00:00:00Z",
    "2026-11-20T10:00:00",  # no zone
]


@pytest.mark.parametrize("when", EDGES)
@pytest.mark.parametrize("param", ["since", "until"])
def test_times_at_the_calendars_edges_or_without_zone_are_422(
    client: TestClient, when: str, param: str
) -> None:
    r = client.get(f"{BASE}/sensors/river-1/readings", params={param: when})
    assert r.status_code == 422, r.text
    r = client.get(f"{BASE}/incidents", params={param: when})
    assert r.status_code == 422, r.text


def test_times_with_a_zone_in_range_are_answered(client: TestClient) -> None:
    params = {"since": "2026-11-20T12:00:00+02:00", "until": "2200-12-31T23:59:59-14:00"}
    assert client.get(f"{BASE}/sensors/river-1/readings", params=params).status_code == 200
    assert client.get(f"{BASE}/incidents", params=params).status_code == 200


def test_health_is_ok_with_its_documented_shape(client: TestClient) -> None:
    health = client.get("/api/v1/health").json()
    assert health == {
        "status": "ok",
        "reasons": [],
        "mqtt_connected": True,  # no MQTT in this test: nothing to be disconnected from
        "ingest_alive": True,
        "ingest_backlog": 0,
        "last_progress_age_s": health["last_progress_age_s"],
        "data_age_s": None,
        "worker_restarts": 0,
        "municipalities": ["testtown"],
        "ingest_members": None,  # this server ingests itself (docs/SCALING.md: external)
        "partitions_unowned": [],
        "partitions_refused": {},
    }
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    assert spec["HealthStatus"]["enum"] == ["ok", "degraded"]


def test_health_is_degraded_when_the_worker_is_gone(
    client: TestClient, center: ControlCenter
) -> None:
    assert center.pipeline is not None
    center.pipeline.stop()  # a worker that is not running
    health = client.get("/api/v1/health").json()
    assert (health["status"], health["reasons"]) == ("degraded", ["ingest_worker_dead"])
    assert health["ingest_alive"] is False


def test_health_is_degraded_while_mqtt_is_disconnected(
    client: TestClient, center: ControlCenter
) -> None:
    assert center.pipeline is not None
    # a real client for a broker that is not there, never connected
    center.mqtt = MqttIngest(f"mqtt://127.0.0.1:{free_port()}", center.pipeline)
    try:
        health = client.get("/api/v1/health").json()
        assert (health["status"], health["reasons"]) == ("degraded", ["mqtt_disconnected"])
        assert health["mqtt_connected"] is False
    finally:
        center.mqtt.stop()
        center.mqtt = None


def test_health_is_degraded_while_ingest_is_stuck_with_a_backlog(
    client: TestClient, center: ControlCenter
) -> None:
    """A real stall: another connection holds SQLite's write lock, the worker waits on it."""
    assert center.pipeline is not None
    center.settings.ingest_stall_s = 0.3
    locker = sqlite3.connect(center.settings.db_url.removeprefix("sqlite:///"))
    locker.isolation_level = None
    try:
        locker.execute("BEGIN EXCLUSIVE")
        done = threading.Event()
        center.pipeline.submit(
            InboundMessage(
                "cityops/testtown/sensors/river-1/readings",
                b'{"value": 1}',
                datetime.now(UTC),
                done=lambda _o: done.set(),
            )
        )
        health = wait_health(client, "degraded")
        assert health["reasons"] == ["ingest_stalled"]
        assert health["ingest_backlog"] == 1
        assert health["last_progress_age_s"] > 0.3
        locker.execute("ROLLBACK")
        assert done.wait(15)
        assert wait_health(client, "ok")["reasons"] == []
    finally:
        locker.close()


def wait_health(client: TestClient, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    health: dict[str, Any] = client.get("/api/v1/health").json()
    while health["status"] != status and time.monotonic() < deadline:
        time.sleep(0.05)
        health = client.get("/api/v1/health").json()
    return health


def test_ingest_documents_its_request_body_and_its_422(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/api/v1/m/{mid}/readings"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["anyOf"][0]["required"] == ["sensor", "value"]
    refused = post["responses"]["422"]["content"]["application/json"]["schema"]
    assert refused == {"$ref": "#/components/schemas/IngestRefused"}
    r = client.post(
        f"{BASE}/readings",
        content=b'{"sensor": "river-1", "value": 1e400}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json() == {
        "detail": {
            "accepted": 0,
            "rejected": [
                {
                    "index": None,
                    "reason": "not_finite",
                    "detail": "value inf is not a finite number",
                }
            ],
        }
    }


def test_data_age_is_reported_next_to_lag_and_labelled(client: TestClient) -> None:
    """Readings that waited two minutes somewhere (a broker's queue) show as two minutes old,
    while CityOps's own receipt-to-commit lag stays small."""
    two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)
    readings = [
        {
            "sensor": "river-1",
            "value": 1.0,
            "ts": (two_minutes_ago + timedelta(seconds=i)).isoformat(),
        }
        for i in range(3)
    ]
    assert client.post(f"{BASE}/readings", json={"readings": readings}).status_code == 200
    snap = client.get("/api/v1/metrics").json()
    assert 115_000 < snap["data_age_ms"]["p50"] < 180_000
    assert snap["lag_ms"] == {}  # one message: no quantiles yet
    assert 115 < client.get("/api/v1/health").json()["data_age_s"] < 180
    text = client.get("/api/v1/metrics", params={"format": "prometheus"}).text
    assert "# HELP cityops_data_age_ms Commit time minus the reading's own timestamp" in text
    assert '\ncityops_data_age_ms{quantile="p50"} ' in text
    assert "# HELP cityops_lag_ms Receipt-to-commit time" in text
