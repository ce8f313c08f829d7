"""The test town with dispatch channels, a running center, and helpers to dispatch incidents."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cityops.app import ControlCenter
from cityops.domain.entities import LonLat, Sector, Severity
from cityops.domain.incident import Incident
from cityops.store import dispatch_repo, incidents_repo
from cityops.store.dispatch_repo import Delivery
from tests.town import MUNI, TOWN_YAML

SECRET = "s3cret-for-the-civil-protection-webhook"
SECRET_ENV = "CITYOPS_TEST_DISPATCH_SECRET"
POLICE_SECRET = "another-secret-for-the-police-webhook"
PUBLIC_URL = "http://cityops.example"
BASE = f"/api/v1/m/{MUNI}"
WHERE = LonLat(25.3925, 42.6194)


def dispatch_yaml(directory: Path, webhook: str, police_secret_file: Path) -> Path:
    """The test town whose civil protection has a webhook (secret in an environment variable),
    the police a webhook that never works (secret in a file), the traffic police e-mail."""
    text = TOWN_YAML.read_text(encoding="utf-8")
    lines = {
        "  - {id: civil-protection, name: Civil Protection, kind: civil_protection}\n": (
            "  - id: civil-protection\n    name: Civil Protection\n    kind: civil_protection\n"
            f"    dispatch: {{webhook_url: '{webhook}/cp', secret_env: {SECRET_ENV}}}\n"
        ),
        '  - {id: police, name: Police 112, kind: police, phone: "112"}\n': (
            "  - id: police\n    name: Police 112\n    kind: police\n"
            f"    dispatch: {{webhook_url: '{webhook}/down', "
            f"secret_file: '{police_secret_file}'}}\n"
        ),
        "  - {id: traffic-police, name: Traffic Police, kind: traffic_police}\n": (
            "  - id: traffic-police\n    name: Traffic Police\n    kind: traffic_police\n"
            "    dispatch: {email_to: [duty@traffic.example, chief@traffic.example]}\n"
        ),
    }
    for old, new in lines.items():
        assert old in text, old
        text = text.replace(old, new)
    path = directory / "testtown-dispatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def new_incident(center: ControlCenter, title: str = "Fire at the crossing") -> int:
    now = datetime.now(UTC)
    with center.db.begin() as conn:
        return incidents_repo.insert_incident(
            conn,
            Incident(
                municipality=MUNI,
                type="fire",
                sector=Sector.SAFETY,
                severity=Severity.SEVERE,
                title=title,
                title_local="Пожар на кръстовището",
                created_at=now,
                updated_at=now,
                location=WHERE,
            ),
            [],
        )


def dispatch(client: TestClient, incident_id: int, agency: str) -> None:
    url = f"{BASE}/incidents/{incident_id}"
    for step, body in (
        ("acknowledge", None),
        ("assign", {"agency": agency}),
        ("dispatch", None),
    ):
        r = client.post(f"{url}/{step}", json=body)
        assert r.status_code == 200, r.text


def deliveries(center: ControlCenter, incident_id: int) -> list[Delivery]:
    with center.db.connect() as conn:
        return dispatch_repo.for_incident(conn, MUNI, incident_id)


def wait_for(check: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        time.sleep(0.05)


def timeline(client: TestClient, incident_id: int, *kinds: str) -> list[dict[str, Any]]:
    got = client.get(f"{BASE}/incidents/{incident_id}").json()["timeline"]
    return [e for e in got if e["kind"] in kinds]
