"""The incident API over HTTP: list, filter, fetch, and every action of the lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

BASE = "/api/v1/m/testtown"
JSON = {"Content-Type": "application/json"}


def raise_flood(client: TestClient) -> dict[str, Any]:
    """Post 11 readings a minute apart above 2.8 m over HTTP, as a gateway would."""
    start = datetime.now(UTC) - timedelta(minutes=11)
    readings = [
        {"sensor": "river-1", "value": 3.1, "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(11)
    ]
    r = client.post(f"{BASE}/readings", json={"readings": readings})
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 11, "rejected": []}
    listed = client.get(f"{BASE}/incidents", params={"open": "true"}).json()
    assert [i["type"] for i in listed] == ["flood"]
    return listed[0]


def test_full_lifecycle_through_the_api(client: TestClient) -> None:
    inc = raise_flood(client)
    url = f"{BASE}/incidents/{inc['id']}"
    got = client.get(url).json()
    assert [c["camera_id"] for c in got["cameras"]] == []  # the gauge is out of camera view
    assert [s["id"] for s in got["sop"]["steps"]] == ["verify", "inform", "warn"]

    assert client.post(f"{url}/dispatch").status_code == 409  # must acknowledge first
    assert client.post(f"{url}/acknowledge", json={"note": "seen"}).json()["status"] == (
        "acknowledged"
    )
    r = client.post(f"{url}/dispatch")
    assert r.status_code == 409
    assert "assign an agency" in r.json()["detail"]
    assert client.post(f"{url}/assign", json={"agency": "nobody"}).status_code == 409
    assert client.post(f"{url}/assign", json={"agency": "civil-protection"}).status_code == 200
    assert client.post(f"{url}/sop/inform", json={"done": True}).status_code == 200
    assert client.post(f"{url}/sop/nonexistent", json={"done": True}).status_code == 404
    assert client.post(f"{url}/dispatch").json()["status"] == "dispatched"
    assert client.post(f"{url}/notes", json={"text": "crew on the way"}).status_code == 200
    assert client.post(f"{url}/on-scene").json()["status"] == "on_scene"
    assert client.post(f"{url}/cancel", json={"reason": "x"}).status_code == 409
    assert client.post(f"{url}/resolve").json()["status"] == "resolved"
    final = client.post(f"{url}/close").json()
    assert final["status"] == "closed"
    assert final["closed_at"] is not None
    kinds = [(e["kind"], e["to_status"], e["actor"]) for e in final["timeline"]]
    assert kinds == [
        ("created", None, "rule:flood-level"),
        ("status", "acknowledged", "Operator Ivanova"),
        ("assigned", None, "Operator Ivanova"),
        ("sop_step", None, "Operator Ivanova"),
        ("status", "dispatched", "Operator Ivanova"),
        ("note", None, "Operator Ivanova"),
        ("status", "on_scene", "Operator Ivanova"),
        ("status", "resolved", "Operator Ivanova"),
        ("status", "closed", "Operator Ivanova"),
    ]
    assert final["sop"]["steps"][1]["done"] is True
    assert client.post(f"{url}/reopen").status_code == 409  # closed is final


def test_cancel_needs_a_reason_and_writes_need_a_login(client: TestClient) -> None:
    inc = raise_flood(client)
    url = f"{BASE}/incidents/{inc['id']}"
    assert client.post(f"{url}/cancel", json={"reason": ""}).status_code == 422
    anonymous = client.post(f"{url}/acknowledge", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    r = client.post(f"{url}/cancel", json={"reason": "gauge maintenance, false alarm"})
    assert r.json()["status"] == "cancelled"
    assert r.json()["timeline"][-1]["text"] == "gauge maintenance, false alarm"


def test_filters_and_unknown_things(client: TestClient) -> None:
    raise_flood(client)
    assert len(client.get(f"{BASE}/incidents", params={"sector": "disaster"}).json()) == 1
    assert client.get(f"{BASE}/incidents", params={"sector": "safety"}).json() == []
    assert client.get(f"{BASE}/incidents", params={"status": "closed"}).json() == []
    inside = {"bbox": "25.3,42.5,25.5,42.7"}
    assert len(client.get(f"{BASE}/incidents", params=inside).json()) == 1
    outside = {"bbox": "20,40,21,41"}
    assert client.get(f"{BASE}/incidents", params=outside).json() == []
    assert client.get(f"{BASE}/incidents", params={"bbox": "1,2"}).status_code == 422
    assert client.get(f"{BASE}/incidents", params={"sector": "x"}).status_code == 422
    assert client.get(f"{BASE}/incidents/99999").status_code == 404
    assert client.get("/api/v1/m/nowhere/incidents").status_code == 404


def test_sensors_cameras_overview_and_openapi(client: TestClient) -> None:
    raise_flood(client)
    sensors = {s["id"]: s for s in client.get(f"{BASE}/sensors").json()}
    assert sensors["river-1"]["state"] == "alarm"
    assert sensors["river-1"]["value"] == 3.1
    assert sensors["river-1"]["thresholds"] == [
        {"rule_id": "flood-level", "op": "above", "value": 2.8}
    ]
    assert sensors["river-2"]["state"] == "unknown"
    points = client.get(f"{BASE}/sensors/river-1/readings").json()
    assert [p["value"] for p in points] == [3.1] * 11
    cams = client.get(f"{BASE}/cameras").json()
    assert [c["id"] for c in cams] == ["cam-a", "cam-b", "cam-school"]
    overview = client.get(f"{BASE}/overview").json()
    assert overview["incidents_by_sector"] == {"disaster": 1}
    assert overview["open_by_age"]["lt_1h"] == 1
    spec = client.get("/openapi.json").json()
    assert "/api/v1/m/{mid}/incidents/{incident_id}/{action}" in spec["paths"]


def test_http_ingest_rejects_bad_payloads_with_reasons(client: TestClient) -> None:
    r = client.post(f"{BASE}/readings", content=b"{oops", headers=JSON)
    assert r.status_code == 422
    assert r.json()["detail"]["rejected"][0]["reason"] == "malformed_json"
    big = b'{"readings": [' + b" " * 300000 + b"]}"
    r = client.post(f"{BASE}/readings", content=big, headers=JSON)
    assert r.json()["detail"]["rejected"][0]["reason"] == "too_large"
    letters = client.get(f"{BASE}/dead-letters").json()
    assert [d["reason_code"] for d in letters] == ["too_large", "malformed_json"]
    metrics = client.get("/api/v1/metrics", params={"format": "prometheus"}).text
    assert 'cityops_rejected_by_reason{reason="too_large"} 1' in metrics
