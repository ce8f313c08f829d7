"""The console contract over HTTP: the actions each incident offers, typed enums in OpenAPI,
bounded path and time parameters (422, never 500)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cityops.domain.entities import CameraHealth, Sector, SensorState, Severity
from cityops.domain.incident import IncidentAction, Status
from tests.api.test_incidents_api import BASE, raise_flood


def test_every_incident_carries_what_may_be_done_and_the_server_enforces_it(
    client: TestClient,
) -> None:
    inc = raise_flood(client)
    url = f"{BASE}/incidents/{inc['id']}"
    assert inc["actions"] == ["acknowledge", "assign", "cancel", "note", "sop"]
    assert client.get(url).json()["actions"] == inc["actions"]
    acked = client.post(f"{url}/acknowledge", json={"note": "seen"}).json()
    assert acked["actions"] == ["assign", "resolve", "cancel", "note", "sop"]  # no agency yet
    assigned = client.post(f"{url}/assign", json={"agency": "civil-protection"}).json()
    assert assigned["actions"] == ["assign", "dispatch", "resolve", "cancel", "note", "sop"]
    refused = client.post(f"{url}/reopen")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "reopen is only for a resolved incident (it is acknowledged)"
    resolved = client.post(f"{url}/resolve").json()
    assert resolved["actions"] == ["close", "reopen", "note"]
    sop = client.post(f"{url}/sop/inform", json={"done": True})
    assert (sop.status_code, sop.json()["detail"]) == (
        409,
        "cannot tick a procedure step of a resolved incident",
    )
    assert client.post(f"{url}/acknowledge").status_code == 409  # reopened, not acknowledged
    assert client.post(f"{url}/reopen").json()["actions"][:3] == ["assign", "dispatch", "resolve"]
    listed = client.get(f"{BASE}/incidents").json()
    assert [i["actions"] for i in listed] == [
        ["assign", "dispatch", "resolve", "cancel", "note", "sop"]
    ]
    # actions that are not lifecycle moves have their own routes
    assert client.post(f"{url}/note").status_code == 404
    assert client.post(f"{url}/sop").status_code == 404


@pytest.mark.parametrize(
    ("incident_id", "status"),
    [("0", 422), ("-1", 422), ("2147483648", 422), ("99999999999999999999", 422), ("x", 422)],
)
def test_incident_ids_are_bounded(client: TestClient, incident_id: str, status: int) -> None:
    assert client.get(f"{BASE}/incidents/{incident_id}").status_code == status
    assert client.post(f"{BASE}/incidents/{incident_id}/acknowledge").status_code == status


def test_the_largest_incident_id_is_merely_not_found(client: TestClient) -> None:
    assert client.get(f"{BASE}/incidents/2147483647").status_code == 404
    assert client.post(f"{BASE}/incidents/2147483647/acknowledge").status_code == 404


@pytest.mark.parametrize(
    "when",
    [
        "2026-11-22T08:00:00",  # no zone
        "1969-12-31T23:59:59Z",
        "2201-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
        "yesterday",
    ],
)
def test_since_and_until_outside_the_sane_range_are_refused(client: TestClient, when: str) -> None:
    for name in ("since", "until"):
        r = client.get(f"{BASE}/incidents", params={name: when})
        assert r.status_code == 422, (name, when, r.text)


def test_since_and_until_in_range_filter(client: TestClient) -> None:
    raise_flood(client)
    ok = {"since": "1970-01-01T00:00:00Z", "until": "2200-12-31T23:59:59+02:00"}
    assert len(client.get(f"{BASE}/incidents", params=ok).json()) == 1
    later = {"since": "2199-01-01T00:00:00Z"}
    assert client.get(f"{BASE}/incidents", params=later).json() == []


def _enum(schema: dict[str, object], name: str) -> list[str]:
    components = schema["components"]
    assert isinstance(components, dict)
    found = components["schemas"][name]["enum"]
    assert isinstance(found, list)
    return found


def test_openapi_lists_the_enum_values(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert _enum(schema, "Status") == [s.value for s in Status]
    assert _enum(schema, "Sector") == [s.value for s in Sector]
    assert _enum(schema, "Severity") == [s.value for s in Severity]
    assert _enum(schema, "IncidentAction") == [a.value for a in IncidentAction]
    assert _enum(schema, "CameraHealth") == [h.value for h in CameraHealth]
    assert _enum(schema, "SensorState") == [s.value for s in SensorState]
    props = schema["components"]["schemas"]["IncidentSummary"]["properties"]
    assert props["status"] == {"$ref": "#/components/schemas/Status"}
    assert props["actions"]["items"] == {"$ref": "#/components/schemas/IncidentAction"}
    sensor = schema["components"]["schemas"]["SensorView"]["properties"]
    assert sensor["state"] == {"$ref": "#/components/schemas/SensorState"}
    camera = schema["components"]["schemas"]["CameraView"]["properties"]
    assert camera["health"] == {"$ref": "#/components/schemas/CameraHealth"}
