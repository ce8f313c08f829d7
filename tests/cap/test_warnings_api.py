"""A running control center with ``public_warnings`` configured: the CAP feed (a local HTTP
server) polled, the warning listed by GET /api/v1/m/{mid}/warnings for a reader, the incident
opened by rule, nothing for another municipality or without a login."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops import safexml
from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.access import Role
from tests.cap.support import alert_xml, signing_pair
from tests.cap.test_feed import ATOM, ENTRY, served
from tests.cap.test_feed_poller import SECTION
from tests.cap.test_intake_pipeline import RULE
from tests.town import MUNI, NEIGHBOUR, TOWN_YAML, account, neighbour_yaml, start_center

__all__ = ["served"]

FAR = "2099-01-01T00:00:00+02:00"  # these tests run on the wall clock


@pytest.fixture
def center(tmp_path: Path, served: tuple[str, Path]) -> Iterator[ControlCenter]:
    base, root = served
    (root / "a1.cap").write_bytes(alert_xml(identifier="a1", expires=FAR))
    (root / "feed.xml").write_text(ATOM.format(entries=ENTRY.format(name="a1", href="a1.cap")))
    yaml = TOWN_YAML.read_text(encoding="utf-8").replace("rules:\n", RULE, 1)
    town = tmp_path / "town.yaml"
    town.write_text(yaml + SECTION.format(url=f"{base}/feed.xml"), encoding="utf-8")
    started = start_center(tmp_path, with_mqtt=False, also=[town, neighbour_yaml(tmp_path)])
    try:
        yield started
    finally:
        started.stop()


def test_a_polled_warning_is_listed_and_opens_an_incident(center: ControlCenter) -> None:
    assert center.cap_feeds is not None
    assert center.cap_feeds.poll_due() == 1
    reader = account(center.db, "reader", role=Role.ANALYST, installation_admin=False)
    api = TestClient(create_api(center))
    auth = {"Authorization": f"Bearer {reader}"}
    got = api.get(f"/api/v1/m/{MUNI}/warnings", headers=auth)
    assert got.status_code == 200, got.text
    (warning,) = got.json()
    assert (warning["identifier"], warning["severity"]) == ("a1", "Severe")
    assert warning["headline"] == "Наводнение в центъра"
    assert 25.35 <= warning["lon"] <= 25.45
    assert warning["signature"] == "absent"
    assert api.get(f"/api/v1/m/{MUNI}/warnings").status_code == 401
    assert api.get(f"/api/v1/m/{NEIGHBOUR}/warnings", headers=auth).status_code == 404
    deadline = time.monotonic() + 10
    incidents: list[dict[str, object]] = []
    while time.monotonic() < deadline and not incidents:
        incidents = [
            i
            for i in api.get(f"/api/v1/m/{MUNI}/incidents", headers=auth).json()
            if i["type"] == "public_warning"
        ]
        time.sleep(0.1)
    assert len(incidents) == 1


def test_an_alert_file_is_pushed(center: ControlCenter, shared_data: Path) -> None:
    gateway = account(center.db, "gw", role=Role.SUPERVISOR, installation_admin=False)
    api = TestClient(create_api(center))
    auth = {"Authorization": f"Bearer {gateway}"}
    cap = {**auth, "Content-Type": "application/cap+xml"}
    url = f"/api/v1/m/{MUNI}/cap/alerts"
    pushed = api.post(url, content=alert_xml(identifier="file-1", expires=FAR), headers=cap)
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["submitted"] == 1
    assert pushed.json()["signature"] == "absent"
    again = api.post(url, content=alert_xml(identifier="file-1", expires=FAR), headers=cap)
    assert again.json()["submitted"] == 0  # the same message once
    listed = api.get(f"/api/v1/m/{MUNI}/warnings", headers=auth).json()
    assert "file-1" in [w["identifier"] for w in listed]
    bad = api.post(url, content=(shared_data / "cap" / "invalid.cap").read_bytes(), headers=cap)
    assert bad.status_code == 422
    assert bad.json()["detail"]["reasons"][0].startswith("schema:")
    xee = api.post(url, content=(shared_data / "cap" / "xee.cap").read_bytes(), headers=cap)
    assert xee.status_code == 422
    assert xee.json()["detail"]["reasons"][0].startswith("refused:")
    as_json = api.post(url, content=alert_xml(identifier="file-2", expires=FAR), headers=auth)
    assert as_json.status_code == 415
    key, cert = signing_pair()
    signed = safexml.sign_enveloped(
        alert_xml(identifier="file-3", expires=FAR), key_pem=key, cert_pem=cert
    )
    answer = api.post(url, content=signed, headers=cap)
    assert answer.status_code == 200, answer.text
    assert answer.json()["signature"] == "valid"
    shown = {w["identifier"]: w for w in api.get(f"/api/v1/m/{MUNI}/warnings", headers=auth).json()}
    assert shown["file-3"]["signature"] == "valid (untrusted): signed by CN=CityOps test signer"
    tampered = signed.replace(b"file-3", b"file-4")
    answer = api.post(url, content=tampered, headers=cap)
    assert answer.json()["signature"] == "invalid"
    shown = {w["identifier"]: w for w in api.get(f"/api/v1/m/{MUNI}/warnings", headers=auth).json()}
    assert shown["file-4"]["signature"].startswith("invalid: digest mismatch")
