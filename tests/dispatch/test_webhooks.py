"""Webhooks for real over loopback: signed, retried with back-off until the agency's endpoint
works, a dead letter when it never does; the status in the timeline; acknowledgments signed
the same way, a wrong signature, a stale timestamp and a replay refused (401, counted)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from cityops.dispatch import signing
from cityops.dispatch.callback import REFUSALS
from cityops.domain.access import Role
from cityops.domain.dispatch import DeliveryStatus
from cityops.services.live import LiveKind, LiveMessage
from cityops.services.views import IncidentSummary
from cityops.store import audit_repo
from tests.dispatch.conftest import Setup
from tests.dispatch.support import (
    BASE,
    POLICE_SECRET,
    PUBLIC_URL,
    SECRET,
    deliveries,
    dispatch,
    new_incident,
    timeline,
    wait_for,
)
from tests.town import MUNI, account


def test_a_failing_receiver_gets_retries_until_it_takes_the_signed_message(env: Setup) -> None:
    env.webhooks.fail["/cp"] = 2
    incident_id = new_incident(env.center)
    dispatch(env.client, incident_id, "civil-protection")
    sent = wait_for(
        lambda: [d for d in deliveries(env.center, incident_id) if d.status is DeliveryStatus.SENT]
    )
    assert len(sent) == 1
    assert sent[0].attempts == 3
    got = env.webhooks.on("/cp")
    assert len(got) == 3
    for attempt, request in enumerate(got, start=1):
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["x-cityops-attempt"] == str(attempt)
        assert headers["x-cityops-delivery"] == str(sent[0].id)
        # the receiver's check, as docs/DISPATCH.md tells agencies to write it
        signing.verify(
            SECRET.encode(),
            headers["x-cityops-timestamp"],
            headers["x-cityops-signature"],
            request.body,
            time.time(),
        )
    doc = json.loads(got[-1].body)
    assert doc["delivery"] == sent[0].id
    assert doc["agency"] == "civil-protection"
    assert doc["incident"]["id"] == incident_id
    assert doc["incident"]["location"]["geo"] == "geo:42.619400,25.392500"
    assert doc["links"]["incident"] == f"{PUBLIC_URL}{BASE}/incidents/{incident_id}"
    assert doc["links"]["console"] == f"{PUBLIC_URL}/#/m/{MUNI}/incidents/{incident_id}"
    assert doc["links"]["ack"] == f"{PUBLIC_URL}{BASE}/dispatch/{sent[0].id}/ack"
    statuses = [e["data"]["status"] for e in timeline(env.client, incident_id, "dispatch")]
    assert sorted(statuses) == ["retrying", "sent"]  # the first failure and the success only
    listed = env.client.get(f"{BASE}/incidents/{incident_id}/deliveries").json()
    assert [(d["channel"], d["status"], d["attempts"]) for d in listed] == [("webhook", "sent", 3)]
    assert listed[0]["last_error"] is None  # cleared by the success
    # a liaison: only its own agency's deliveries, and only of incidents it may see
    until = datetime.now(UTC) + timedelta(days=1)
    for agency, expected in (("civil-protection", 200), ("police", 404)):
        token = account(
            env.center.db,
            f"liaison-{agency}",
            role=Role.LIAISON,
            agency=agency,
            expires_at=until,
            installation_admin=False,
        )
        r = env.client.get(
            f"{BASE}/incidents/{incident_id}/deliveries",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == expected
        if expected == 200:
            assert [d["agency"] for d in r.json()] == ["civil-protection"]


def test_a_receiver_that_never_works_ends_as_a_dead_letter_after_n_tries(env: Setup) -> None:
    env.webhooks.fail["/down"] = -1
    incident_id = new_incident(env.center, "Burglary")
    heard: list[LiveMessage] = []
    stop_listening = env.center.live.subscribe(heard.extend)
    dispatch(env.client, incident_id, "police")
    failed = wait_for(
        lambda: [
            d for d in deliveries(env.center, incident_id) if d.status is DeliveryStatus.FAILED
        ]
    )
    assert failed[0].attempts == 4
    assert failed[0].last_error == "HTTP 500"
    time.sleep(0.5)  # nothing more is tried after the dead letter
    assert len(env.webhooks.on("/down")) == 4
    request = env.webhooks.on("/down")[0]
    headers = {k.lower(): v for k, v in request.headers.items()}
    signing.verify(  # signed with the secret read from the file the YAML names
        POLICE_SECRET.encode(),
        headers["x-cityops-timestamp"],
        headers["x-cityops-signature"],
        request.body,
        time.time(),
    )
    entries = timeline(env.client, incident_id, "dispatch")
    assert sorted(e["data"]["status"] for e in entries) == ["failed", "retrying"]
    stop_listening()
    about = [
        m for m in heard if isinstance(m.payload, IncidentSummary) and m.payload.id == incident_id
    ]
    assert all(m.kind is LiveKind.INCIDENT for m in about)
    assert len(about) == 3 + 2  # acknowledge, assign, dispatch; then retrying and failed
    assert any("FAILED after 4 tries" in e["text"] for e in entries)


def _post_ack(env: Setup, delivery: int, body: bytes, stamp: int, secret: str = SECRET) -> int:
    headers = {
        "Content-Type": "application/json",
        signing.TIMESTAMP_HEADER: str(stamp),
        signing.SIGNATURE_HEADER: signing.sign(secret.encode(), stamp, body),
    }
    r = env.client.post(f"{BASE}/dispatch/{delivery}/ack", content=body, headers=headers)
    return int(r.status_code)


def test_signed_acknowledgment_lands_in_the_timeline_and_bad_ones_are_refused(
    env: Setup,
) -> None:
    incident_id = new_incident(env.center, "Smoke")
    dispatch(env.client, incident_id, "civil-protection")
    delivery = wait_for(lambda: deliveries(env.center, incident_id))[0].id
    body = json.dumps(
        {"reference": "CP-2026-118", "note": "crew on the way", "by": "Duty"}
    ).encode()
    now = int(time.time())
    before = REFUSALS.snapshot()

    assert _post_ack(env, delivery, body, now, secret="not-the-agency-secret-at-all") == 401
    assert _post_ack(env, delivery, body, now - 3600) == 401  # stale: an old capture
    assert _post_ack(env, 999_999, body, now) == 401  # no such delivery
    assert _post_ack(env, delivery, body, now) == 200
    assert _post_ack(env, delivery, body, now) == 401  # the same request again: a replay
    tampered = body.replace(b"118", b"119")
    headers = {
        "Content-Type": "application/json",
        signing.TIMESTAMP_HEADER: str(now),
        signing.SIGNATURE_HEADER: signing.sign(SECRET.encode(), now, body),
    }
    r = env.client.post(f"{BASE}/dispatch/{delivery}/ack", content=tampered, headers=headers)
    assert r.status_code == 401

    after = REFUSALS.snapshot()
    refused = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert refused["bad signature"] == 2
    assert refused["stale timestamp"] == 1
    assert refused["unknown delivery"] == 1
    assert refused["replayed"] == 1
    metrics = env.client.get("/api/v1/metrics").json()["dispatch_ack_refused"]
    assert metrics == after
    prometheus = env.client.get("/api/v1/metrics", params={"format": "prometheus"}).text
    assert f'cityops_dispatch_ack_refused{{reason="replayed"}} {after["replayed"]}' in prometheus
    acks = timeline(env.client, incident_id, "dispatch_ack")
    assert len(acks) == 1
    assert acks[0]["actor"] == "Duty"
    assert acks[0]["data"] == {
        "delivery": str(delivery),
        "agency": "civil-protection",
        "via": "webhook",
        "reference": "CP-2026-118",
    }
    assert "CP-2026-118" in acks[0]["text"]
    with env.center.db.connect() as conn:  # audited in the municipality's chain
        records = [
            r
            for r in audit_repo.chain_records(conn, MUNI)
            if r.target == f"incident:{incident_id}" and r.actor.startswith("agency:")
        ]
    assert [(r.actor, r.detail["via"]) for r in records] == [("agency:civil-protection", "webhook")]
    assert "crew on the way" in acks[0]["text"]
    # a malformed body with a good signature: 422, nothing stored
    assert _post_ack(env, delivery, b"[1, 2]", now) == 422
    assert len(timeline(env.client, incident_id, "dispatch_ack")) == 1
