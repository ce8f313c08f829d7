"""CAP out through the API of a running center: a supervisor publishes a signed bilingual
warning from an incident, then an update and a cancellation referencing it; every message
served validates against the OASIS CAP 1.2 schema and its signature verifies; the public feed
lists them; an operator may not publish; a bad request gets a clear 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops import safexml
from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.cap.check import check
from cityops.cap.feed import alert_links
from cityops.domain.access import Role
from cityops.store.tables_audit import audit_log
from tests.api.test_incidents_api import raise_flood
from tests.cap.support import signing_pair
from tests.town import MUNI, account, start_center

BASE = f"/api/v1/m/{MUNI}"


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    key, cert = signing_pair()
    (tmp_path / "cap.key").write_bytes(key)
    (tmp_path / "cap.crt").write_bytes(cert)
    started = start_center(
        tmp_path,
        with_mqtt=False,
        cap_sender="warnings@testtown.bg",
        cap_signing_key=tmp_path / "cap.key",
        cap_signing_cert=tmp_path / "cap.crt",
    )
    try:
        yield started
    finally:
        started.stop()


def _body(incident_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "incident_id": incident_id,
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "expires_in_min": 180,
        "radius_m": 800,
        "bg": {
            "event": "Наводнение",
            "headline": "Висока вода на река Тунджа",
            "description": "Нивото на реката е над 2,8 m.",
            "instruction": "Стойте далеч от брега & не пресичайте мостовете <ниско>.",
        },
        "en": {
            "event": "Flood",
            "headline": "High water on the Tundzha",
            "description": "The river is above 2.8 m.",
        },
    }
    body.update(changes)
    return body


def _served(api: TestClient, url: str, oasis: Path) -> bytes:
    got = api.get(url, headers={"Authorization": ""})  # public: no login
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/cap+xml")
    data: bytes = got.content
    assert safexml.schema_errors(safexml.parse(data), oasis) == []
    verdict = check(data)
    assert verdict.valid, verdict.reasons
    assert verdict.signature is not None
    assert verdict.signature.status == "valid"
    return data


def test_publish_update_cancel_and_the_feed(center: ControlCenter, shared_data: Path) -> None:
    oasis = shared_data / "cap" / "CAP-v1.2-oasis.xsd"
    api = TestClient(create_api(center))
    api.headers["Authorization"] = f"Bearer {account(center.db, 'boss', role=Role.ADMIN)}"
    incident_id = raise_flood(api)["id"]
    supervisor = account(center.db, "sup", role=Role.SUPERVISOR, installation_admin=False)
    operator = account(center.db, "op", role=Role.OPERATOR, installation_admin=False)
    sup = {"Authorization": f"Bearer {supervisor}"}

    denied = api.post(
        f"{BASE}/cap/messages",
        json=_body(incident_id),
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert denied.status_code == 403
    first = api.post(f"{BASE}/cap/messages", json=_body(incident_id), headers=sup)
    assert first.status_code == 201, first.text
    alert = first.json()
    assert alert["signed"] is True
    assert alert["identifier"] == f"cityops.{MUNI}.incident-{incident_id}.1"
    data = _served(api, alert["url"], oasis)
    parsed = check(data).alert
    assert parsed is not None
    assert [i.language for i in parsed.infos] == ["bg-BG", "en-US"]
    assert parsed.infos[0].areas[0].circles[0].radius_km == 0.8
    assert parsed.sender == "warnings@testtown.bg"

    update = api.post(
        f"{BASE}/cap/messages",
        json=_body(
            incident_id, msg_type="Update", references=alert["identifier"], severity="Extreme"
        ),
        headers=sup,
    )
    assert update.status_code == 201, update.text
    assert update.json()["references"] == [alert["identifier"]]
    updated = check(_served(api, update.json()["url"], oasis)).alert
    assert updated is not None
    assert (updated.references[0].sender, updated.references[0].identifier) == (
        "warnings@testtown.bg",
        alert["identifier"],
    )
    cancel = api.post(
        f"{BASE}/cap/messages",
        json=_body(incident_id, msg_type="Cancel", references=update.json()["identifier"]),
        headers=sup,
    )
    assert cancel.status_code == 201, cancel.text
    _served(api, cancel.json()["url"], oasis)

    feed = api.get(f"{BASE}/cap/feed.xml", headers={"Authorization": ""})
    assert feed.status_code == 200
    links = alert_links(feed.content, str(feed.url))
    assert len(links) == 3
    assert set(links) == {alert["url"], update.json()["url"], cancel.json()["url"]}

    orphan = api.post(
        f"{BASE}/cap/messages",
        json=_body(incident_id, msg_type="Update", references="nope"),
        headers=sup,
    )
    assert orphan.status_code == 422
    assert "earlier message" in orphan.text
    missing = api.post(f"{BASE}/cap/messages", json=_body(999999), headers=sup)
    assert missing.status_code == 404
    with center.db.connect() as conn:
        audited = conn.execute(
            select(audit_log.c.actor, audit_log.c.target, audit_log.c.detail)
            .where(audit_log.c.action == "export")
            .order_by(audit_log.c.seq)
        ).all()
    assert [(r.target, r.detail["cap"], r.detail["msg_type"]) for r in audited] == [
        (f"incident:{incident_id}", alert["identifier"], "Alert"),
        (f"incident:{incident_id}", update.json()["identifier"], "Update"),
        (f"incident:{incident_id}", cancel.json()["identifier"], "Cancel"),
    ]
    assert api.get(f"{BASE}/cap/nope.xml").status_code == 404
