"""CAP out to the configured endpoints, through a running center and real HTTP receivers on
loopback: the BG-ALERT request package (JSON envelope, HMAC-signed, the signed CAP message in
it byte for byte) to a receiver that fails twice then succeeds, the bare CAP message to a
``cap-post`` endpoint, and a dead letter for one that always fails. The outbox survives in the
table, each message's deliveries are listed for the incident, the timeline tells the first
failure, the success and the dead letter, and each success is audited ``warning.sent``. Every
message sent validates against the OASIS schema and its signature verifies."""

from __future__ import annotations

import base64
import hashlib
import json
import time
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
from cityops.dispatch import signing
from cityops.domain.access import Role
from cityops.store.tables_audit import audit_log
from tests.api.test_incidents_api import raise_flood
from tests.cap.intake_support import town_with_warnings
from tests.cap.support import signing_pair
from tests.cap.test_cap_out_api import _body
from tests.dispatch.receivers import WebhookReceiver, webhook_receiver
from tests.town import MUNI, account, start_center

BASE = f"/api/v1/m/{MUNI}"
SECRET = "bg-alert-shared-secret-0123456789"
ENDPOINTS = """  endpoints:
    - {{id: bg-alert, kind: bg-alert, url: "{url}/bg", secret_env: CITYOPS_TEST_BG_ALERT}}
    - {{id: mirror, kind: cap-post, url: "{url}/cap"}}
    - {{id: broken, kind: cap-post, url: "{url}/down"}}
"""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as r:
        r.fail["/bg"] = 2
        r.fail["/down"] = -1
        yield r


@pytest.fixture
def center(
    tmp_path: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ControlCenter]:
    monkeypatch.setenv("CITYOPS_TEST_BG_ALERT", SECRET)
    key, cert = signing_pair()
    (tmp_path / "cap.key").write_bytes(key)
    (tmp_path / "cap.crt").write_bytes(cert)
    town = town_with_warnings(tmp_path, ENDPOINTS.format(url=receiver.url))
    started = start_center(
        tmp_path,
        with_mqtt=False,
        also=[town],
        cap_sender="warnings@testtown.bg",
        cap_signing_key=tmp_path / "cap.key",
        cap_signing_cert=tmp_path / "cap.crt",
        dispatch_poll_s=0.05,
        dispatch_backoff_s=0.05,
        dispatch_backoff_cap_s=0.1,
        dispatch_max_attempts=3,
    )
    try:
        yield started
    finally:
        started.stop()


def _settled(api: TestClient, incident_id: int, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        got = api.get(f"{BASE}/incidents/{incident_id}/cap")
        assert got.status_code == 200, got.text
        messages: list[dict[str, Any]] = got.json()
        states = [d["status"] for m in messages for d in m["deliveries"]]
        if len(states) == count and all(s in {"sent", "failed"} for s in states):
            return messages
        assert time.monotonic() < deadline, messages
        time.sleep(0.05)


def _valid(xml: bytes, oasis: Path) -> None:
    assert safexml.schema_errors(safexml.parse(xml), oasis) == []
    verdict = check(xml)
    assert verdict.valid, verdict.reasons
    assert verdict.signature is not None
    assert verdict.signature.status == "valid"


@pytest.mark.timeout(120)
def test_alert_and_cancel_reach_the_endpoints(
    center: ControlCenter, receiver: WebhookReceiver, shared_data: Path
) -> None:
    oasis = shared_data / "cap" / "CAP-v1.2-oasis.xsd"
    api = TestClient(create_api(center))
    api.headers["Authorization"] = f"Bearer {account(center.db, 'boss', role=Role.ADMIN)}"
    incident_id = raise_flood(api)["id"]
    sup = account(center.db, "sup", display_name="Supervisor Petrova", role=Role.SUPERVISOR)
    pub = {"Authorization": f"Bearer {sup}"}
    first = api.post(f"{BASE}/cap/messages", json=_body(incident_id), headers=pub)
    assert first.status_code == 201, first.text
    assert first.json()["sent_to"] == ["bg-alert", "mirror", "broken"]
    alert_id = first.json()["identifier"]
    _settled(api, incident_id, 3)
    own = {w["identifier"]: w for w in api.get(f"{BASE}/warnings").json() if w["own"]}
    assert list(own) == [alert_id]  # on the map's layer too
    assert own[alert_id]["circles"][0]["radius_m"] == pytest.approx(800)
    assert own[alert_id]["signature"] == "published by CityOps"
    cancel = _body(incident_id, msg_type="Cancel", references=alert_id)
    second = api.post(f"{BASE}/cap/messages", json=cancel, headers=pub)
    assert second.status_code == 201, second.text
    cancel_id = second.json()["identifier"]
    messages = _settled(api, incident_id, 6)
    assert [w for w in api.get(f"{BASE}/warnings").json() if w["own"]] == []  # cancelled

    # what the incident view shows: each message, in force or not, and its deliveries
    assert [(m["identifier"], m["in_force"]) for m in messages] == [
        (alert_id, False),
        (cancel_id, False),
    ]
    states = {m["identifier"]: {d["endpoint"]: d for d in m["deliveries"]} for m in messages}
    bg = states[alert_id]["bg-alert"]
    assert (bg["status"], bg["attempts"]) == ("sent", 3)
    assert states[alert_id]["mirror"]["status"] == "sent"
    assert (states[alert_id]["broken"]["status"], states[alert_id]["broken"]["attempts"]) == (
        "failed",
        3,
    )
    assert states[alert_id]["broken"]["last_error"] == "HTTP 500"

    _the_requests(api, receiver, (alert_id, cancel_id), incident_id, oasis)
    _the_record(api, center, (alert_id, cancel_id), incident_id)


def _the_requests(
    api: TestClient,
    receiver: WebhookReceiver,
    ids: tuple[str, str],
    incident_id: int,
    oasis: Path,
) -> None:
    alert_id, cancel_id = ids
    # the BG-ALERT request package: three tries of one request, signed, the message inside
    tries = receiver.on("/bg")
    bodies = [json.loads(r.body) for r in tries]
    assert [b["cap"]["identifier"] for b in bodies] == [alert_id] * 3 + [cancel_id]
    assert len({r.headers["Idempotency-Key"] for r in tries[:3]}) == 1
    for r in tries:
        signing.verify(
            SECRET.encode(),
            r.headers.get(signing.TIMESTAMP_HEADER),
            r.headers.get(signing.SIGNATURE_HEADER),
            r.body,
            now=time.time(),
        )
    with pytest.raises(signing.SignatureError):
        signing.verify(
            b"another-secret-of-enough-length",
            tries[0].headers.get(signing.TIMESTAMP_HEADER),
            tries[0].headers.get(signing.SIGNATURE_HEADER),
            tries[0].body,
            now=time.time(),
        )
    envelope = bodies[2]
    assert envelope["type"] == "cityops.cap-request"
    assert envelope["version"] == 1
    assert envelope["action"] == "broadcast"
    assert bodies[3]["action"] == "cancel"
    assert envelope["municipality"] == MUNI
    assert envelope["incident"]["id"] == incident_id
    assert envelope["requested_by"] == "Supervisor Petrova"
    for body in (envelope, bodies[3]):
        xml = base64.b64decode(body["cap"]["xml_base64"])
        assert hashlib.sha256(xml).hexdigest() == body["cap"]["sha256"]
        served = api.get(f"{BASE}/cap/{body['cap']['identifier']}.xml")
        assert served.content == xml  # byte for byte what CityOps publishes
        _valid(xml, oasis)
    cancelled = check(base64.b64decode(bodies[3]["cap"]["xml_base64"])).alert
    assert cancelled is not None
    assert cancelled.msg_type == "Cancel"
    assert [r.identifier for r in cancelled.references] == [alert_id]

    # the bare CAP message to the cap-post endpoint, unsigned by HMAC (no secret named)
    mirrored = receiver.on("/cap")
    assert [r.headers["Content-Type"] for r in mirrored] == ["application/cap+xml"] * 2
    assert signing.SIGNATURE_HEADER not in mirrored[0].headers
    for r in mirrored:
        _valid(r.body, oasis)


def _the_record(
    api: TestClient, center: ControlCenter, ids: tuple[str, str], incident_id: int
) -> None:
    alert_id, cancel_id = ids
    # the timeline: the first failure, the successes, the dead letter; not every retry
    timeline = api.get(f"{BASE}/incidents/{incident_id}").json()["timeline"]
    texts = [e["text"] for e in timeline if e["kind"] == "dispatch"]
    assert f"Public warning {alert_id} (Alert) to bg-alert failed, retrying: HTTP 500" in texts
    assert f"Public warning {alert_id} (Alert) to bg-alert sent" in texts
    assert f"Public warning {cancel_id} (Cancel) to mirror sent" in texts
    assert f"Public warning {alert_id} (Alert) to broken FAILED after 3 tries: HTTP 500" in texts
    assert sum("to bg-alert failed" in t for t in texts) == 1

    # the audit: one warning.sent per delivered message and endpoint
    with center.db.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail).where(
                audit_log.c.action == "warning.sent"
            )
        ).all()
    sent = sorted((r.detail["cap"], r.detail["endpoint"]) for r in rows)
    assert sent == sorted(
        [
            (alert_id, "bg-alert"),
            (alert_id, "mirror"),
            (cancel_id, "bg-alert"),
            (cancel_id, "mirror"),
        ]
    )
    assert {r.actor for r in rows} == {"cap-out"}
    assert {r.detail["requested_by"] for r in rows} == {"Supervisor Petrova"}


def test_endpoints_are_checked_when_the_configuration_is_loaded(tmp_path: Path) -> None:
    from cityops.config.errors import ConfigError
    from cityops.config.loader import load_config

    bad = town_with_warnings(
        tmp_path, '  endpoints:\n    - {id: bg, kind: bg-alert, url: "https://x.example/r"}\n'
    )
    with pytest.raises(ConfigError, match="needs a secret"):
        load_config(bad)
    twice = town_with_warnings(
        tmp_path,
        "  endpoints:\n"
        '    - {id: m, kind: cap-post, url: "https://x.example/a"}\n'
        '    - {id: m, kind: cap-post, url: "https://x.example/b"}\n',
    )
    with pytest.raises(ConfigError, match="unique"):
        load_config(twice)
    both = town_with_warnings(
        tmp_path,
        "  endpoints:\n"
        '    - {id: m, kind: cap-post, url: "https://x.example/a", secret_env: A_B,'
        " secret_file: /run/s}\n",
    )
    with pytest.raises(ConfigError, match="one of secret_env or secret_file"):
        load_config(both)
    ftp = town_with_warnings(
        tmp_path, '  endpoints:\n    - {id: m, kind: cap-post, url: "ftp://x.example/a"}\n'
    )
    with pytest.raises(ConfigError):
        load_config(ftp)
    good = town_with_warnings(
        tmp_path, '  endpoints:\n    - {id: m, kind: cap-post, url: "https://x.example/a"}\n'
    )
    section = load_config(good).public_warnings
    assert section is not None
    assert [(e.id, e.kind.value, e.secret_env) for e in section.endpoints] == [
        ("m", "cap-post", None)
    ]


@pytest.mark.timeout(120)
def test_the_outbox_outlives_a_restart(
    tmp_path: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Published while no worker runs (a crash right after the publication): the delivery is in
    the table, and the next start sends it."""
    monkeypatch.setenv("CITYOPS_TEST_BG_ALERT", SECRET)
    town = town_with_warnings(tmp_path, ENDPOINTS.format(url=receiver.url))
    down = start_center(tmp_path, with_mqtt=False, also=[town], dispatch_poll_s=0)
    try:
        api = TestClient(create_api(down))
        api.headers["Authorization"] = f"Bearer {account(down.db, 'boss', role=Role.ADMIN)}"
        incident_id = raise_flood(api)["id"]
        made = api.post(f"{BASE}/cap/messages", json=_body(incident_id))
        assert made.status_code == 201, made.text
        listed = api.get(f"{BASE}/incidents/{incident_id}/cap").json()
        assert [d["status"] for d in listed[0]["deliveries"]] == ["pending"] * 3
    finally:
        down.stop()
    assert receiver.received == []
    settings = down.settings.model_copy(
        update={"dispatch_poll_s": 0.05, "dispatch_backoff_s": 0.05, "dispatch_max_attempts": 3}
    )
    up = ControlCenter(settings)
    up.start(with_mqtt=False)
    try:
        api = TestClient(create_api(up))
        api.headers["Authorization"] = f"Bearer {account(up.db, 'boss2', role=Role.ADMIN)}"
        messages = _settled(api, incident_id, 3)
        states = {d["endpoint"]: d["status"] for d in messages[0]["deliveries"]}
        assert states == {"bg-alert": "sent", "mirror": "sent", "broken": "failed"}
        assert len(receiver.on("/cap")) == 1
    finally:
        up.stop()
