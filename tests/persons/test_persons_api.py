"""The registry over HTTP: who may do what, the photo (type and size checked, metadata
dropped, every view audited), municipalities apart, devices posting over HTTP, and an episode
forwarded to police as a share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.store.tables_audit import audit_log
from tests.town import MUNI, NEIGHBOUR, account, api_client, neighbour_yaml, start_center

BODY: dict[str, Any] = {
    "kind": "dementia",
    "name": "Ivan D.",
    "guardian_name": "Petya D.",
    "guardian_phone": "+359 88 765 4321",
    "device_id": "watch-7",
    "safe_area": [[25.390, 42.618], [25.395, 42.618], [25.395, 42.621], [25.390, 42.621]],
    "notes": "grey coat, hard of hearing",
}
SECRET = b"GPS 42.6194N 25.3925E serial XY-123"


def jpeg_with_metadata() -> bytes:
    image = np.full((600, 1600, 3), 180, np.uint8)
    cv2.circle(image, (800, 300), 120, (40, 80, 200), -1)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    data = bytes(encoded.tobytes())
    app1 = b"Exif\x00\x00" + SECRET
    segment = b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1
    return data[:2] + segment + data[2:]


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlCenter]:
    data = tmp_path_factory.mktemp("persons")
    c = start_center(data, with_mqtt=False, also=[neighbour_yaml(data)])
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def admin(center: ControlCenter) -> Iterator[TestClient]:
    with api_client(center, municipality=[MUNI, NEIGHBOUR]) as client:
        yield client


def audited(center: ControlCenter, action: str) -> list[dict[str, Any]]:
    with center.db.connect() as conn:
        q = select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.at)
        return [dict(r) for r in conn.execute(q).mappings()]


def register(client: TestClient, **change: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/m/{MUNI}/persons", json=BODY | change)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_register_change_list_remove(center: ControlCenter, admin: TestClient) -> None:
    made = register(admin, device_id="watch-crud")
    assert made["guardian_phone"] == BODY["guardian_phone"]
    assert made["incident_id"] is None
    url = f"/api/v1/m/{MUNI}/persons/{made['id']}"
    listed = admin.get(f"/api/v1/m/{MUNI}/persons").json()
    mine = next(p for p in listed if p["id"] == made["id"])
    assert "guardian_phone" not in mine  # the list shows no contact
    assert mine["has_photo"] is False
    changed = admin.put(url, json=BODY | {"device_id": "watch-crud", "name": "Ivan Dimitrov"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Ivan Dimitrov"
    # the same device twice, a bad phone, a crossed outline: 422 with the reason
    again = admin.post(f"/api/v1/m/{MUNI}/persons", json=BODY | {"device_id": "watch-crud"})
    assert again.status_code == 422
    assert "already registered" in again.json()["detail"]
    phone = admin.post(f"/api/v1/m/{MUNI}/persons", json=BODY | {"guardian_phone": "call me"})
    assert phone.status_code == 422
    bow = [[25.390, 42.618], [25.395, 42.621], [25.395, 42.618], [25.390, 42.621]]
    crossed = admin.post(f"/api/v1/m/{MUNI}/persons", json=BODY | {"safe_area": bow})
    assert crossed.status_code == 422
    assert "crosses itself" in crossed.json()["detail"]
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404
    ops = [r["detail"]["op"] for r in audited(center, "person.changed")]
    assert ops[-3:] == ["create", "change", "remove"]


def test_the_photo_is_checked_cleaned_and_every_view_audited(
    center: ControlCenter, admin: TestClient, tmp_path: Path
) -> None:
    made = register(admin, device_id="watch-photo")
    url = f"/api/v1/m/{MUNI}/persons/{made['id']}/photo"
    put = admin.put(url, content=jpeg_with_metadata(), headers={"Content-Type": "image/jpeg"})
    assert put.status_code == 200, put.text
    assert put.json()["has_photo"] is True
    before = len(audited(center, "person.viewed"))
    got = admin.get(f"{url}.jpg")
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert "no-store" in got.headers["cache-control"]
    assert SECRET not in got.content  # re-encoded: a phone's GPS position does not survive
    image = cv2.imdecode(np.frombuffer(got.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert max(image.shape[:2]) == 1024  # scaled down to the kept size
    views = audited(center, "person.viewed")
    assert len(views) == before + 1
    assert views[-1]["target"] == f"person:{made['id']}"
    assert views[-1]["detail"] == {"what": "photo"}
    stored = list((center.settings.data_dir / "persons" / MUNI).glob(f"{made['id']}-*.jpg"))
    assert len(stored) == 1
    # not an image, the wrong type, too large
    text = admin.put(url, content=b"\xff\xd8\xffnot really", headers={"Content-Type": "image/jpeg"})
    assert text.status_code == 422
    gif = admin.put(url, content=b"GIF89a....", headers={"Content-Type": "image/gif"})
    assert gif.status_code == 415
    huge = b"\xff\xd8\xff" + bytes(2_100_000)
    big = admin.put(url, content=huge, headers={"Content-Type": "image/jpeg"})
    assert big.status_code == 413
    # removing the person removes the photo file
    assert admin.delete(f"/api/v1/m/{MUNI}/persons/{made['id']}").status_code == 204
    assert not stored[0].exists()


@pytest.mark.parametrize(
    ("role", "view", "manage"),
    [
        (Role.OPERATOR, 200, 403),
        (Role.ANALYST, 403, 403),
        (Role.LIAISON, 403, 403),
        (Role.AUDITOR, 403, 403),
    ],
)
def test_who_may_see_and_manage(
    center: ControlCenter, admin: TestClient, role: Role, view: int, manage: int
) -> None:
    made = register(admin, device_id=f"watch-{role.value}")
    liaison = role is Role.LIAISON
    token = account(
        center.db,
        role=role,
        agency="police" if liaison else None,
        expires_at=datetime.now(UTC) + timedelta(days=1) if liaison else None,
        installation_admin=False,
    )
    with api_client(center, token) as client:
        assert client.get(f"/api/v1/m/{MUNI}/persons/{made['id']}").status_code == view
        photo = client.get(f"/api/v1/m/{MUNI}/persons/{made['id']}/photo.jpg")
        assert photo.status_code == (404 if view == 200 else view)  # none yet, or refused
        assert client.post(f"/api/v1/m/{MUNI}/persons", json=BODY).status_code == manage


def test_municipalities_are_apart(center: ControlCenter, admin: TestClient) -> None:
    made = register(admin, device_id="watch-apart")
    other = f"/api/v1/m/{NEIGHBOUR}/persons"
    assert admin.get(f"{other}/{made['id']}").status_code == 404
    assert all(p["id"] != made["id"] for p in admin.get(other).json())
    # the neighbour's device of the same id is a different, unregistered device
    sos = admin.post(f"{other}/watch-apart/sos", json={"lon": 25.3925, "lat": 42.6194})
    assert sos.status_code == 422
    assert sos.json()["detail"]["rejected"][0]["reason"] == "unknown_device"
    token = account(center.db, role=Role.ADMIN, municipality=NEIGHBOUR, installation_admin=False)
    with api_client(center, token) as neighbour:
        assert neighbour.get(f"/api/v1/m/{MUNI}/persons").status_code == 404
        assert neighbour.get(f"/api/v1/m/{MUNI}/persons/{made['id']}").status_code == 404


def test_an_sos_over_http_is_forwarded_to_police_as_a_share(
    center: ControlCenter, admin: TestClient
) -> None:
    made = register(admin, device_id="watch-sos")
    sos = admin.post(
        f"/api/v1/m/{MUNI}/persons/watch-sos/sos", json={"lon": 25.3925, "lat": 42.6194}
    )
    assert sos.status_code == 200, sos.text
    assert sos.json() == {"accepted": 1, "rejected": []}
    person = admin.get(f"/api/v1/m/{MUNI}/persons/{made['id']}").json()
    incident_id = person["incident_id"]
    assert incident_id is not None
    shown = admin.get(f"/api/v1/m/{MUNI}/incidents/{incident_id}/person")
    assert shown.json()["guardian_phone"] == BODY["guardian_phone"]
    assert audited(center, "person.viewed")[-1]["detail"] == {
        "what": "details",
        "incident": incident_id,
    }
    forwarded = admin.post(f"/api/v1/m/{MUNI}/incidents/{incident_id}/person/forward", json={})
    assert forwarded.status_code == 201, forwarded.text
    share = forwarded.json()
    assert (share["agency"], share["purpose"], share["origin"]) == (
        "police",
        "missing-person",
        "sos",
    )
    assert set(share["cameras"]) >= {"cam-a", "cam-b"}
    assert "/share.html#" in share["link"]
    listed = admin.get(f"/api/v1/m/{MUNI}/incidents/{incident_id}/shares").json()
    assert [s["origin"] for s in listed] == ["sos"]
    bad = admin.post(
        f"/api/v1/m/{MUNI}/incidents/{incident_id}/person/forward", json={"agency": "nobody"}
    )
    assert bad.status_code == 422
    # an incident that is not a person's episode has no person
    track = admin.get(f"/api/v1/m/{MUNI}/persons/{made['id']}/track").json()
    assert [(p["kind"], p["lon"]) for p in track] == [("sos", 25.3925)]


def test_an_episode_track_by_its_incident_is_audited(
    center: ControlCenter, admin: TestClient
) -> None:
    """A console opening during an episode knows the incident, not the person: it asks the
    episode's track by the incident (the person's number comes with it), audited as a view."""
    made = register(admin, device_id="watch-track")
    at = datetime.now(UTC) - timedelta(minutes=2)
    for i, kind in enumerate(["sos", "position"]):
        point = {
            "lon": 25.3925 + i * 0.001,
            "lat": 42.6194,
            "ts": (at + timedelta(seconds=i)).isoformat(),
        }
        sent = admin.post(f"/api/v1/m/{MUNI}/persons/watch-track/{kind}", json=point)
        assert sent.status_code == 200, sent.text
    incident_id = admin.get(f"/api/v1/m/{MUNI}/persons/{made['id']}").json()["incident_id"]
    before = len(audited(center, "person.viewed"))
    got = admin.get(f"/api/v1/m/{MUNI}/incidents/{incident_id}/person/track")
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["person_id"], body["incident_id"]) == (made["id"], incident_id)
    assert [(p["kind"], p["lon"]) for p in body["points"]] == [
        ("sos", 25.3925),
        ("position", 25.3935),
    ]
    records = audited(center, "person.viewed")
    assert len(records) == before + 1
    assert records[-1]["target"] == f"person:{made['id']}"
    assert records[-1]["detail"] == {"what": "track", "incident": incident_id}
    assert admin.get(f"/api/v1/m/{MUNI}/incidents/999999/person/track").status_code == 404
