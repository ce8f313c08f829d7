"""The live bridge (services/live_bridge.py): what a `cityops ingest` process tells its live bus
reaches the server's (CITYOPS_INGEST=external) through PostgreSQL NOTIFY/LISTEN, and the
server publishes the incident on MQTT; the encoding holds PostgreSQL's payload limit."""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from cityops.app import ControlCenter
from cityops.app.ingest_role import IngestProcess, IngestRefusedError
from cityops.services.live import LiveKind, LiveMessage, SensorPayload
from cityops.services.live_bridge import PAYLOAD_LIMIT, decode, encode
from cityops.services.views import IncidentSummary
from cityops.settings import Settings
from cityops.store import cluster_repo
from tests.cluster.support import Member, health, wait_for
from tests.harness import LOOPBACK, MosquittoServer
from tests.town import api_client

pytestmark = pytest.mark.timeout(150)


def sensor(municipality: str, i: int, name: str = "river-1") -> LiveMessage:
    ts = datetime(2026, 12, 3, 12, 0, tzinfo=UTC) + timedelta(minutes=i)
    payload = SensorPayload.model_validate(
        {"id": name, "value": 2.5 + i / 100, "ts": ts, "state": "ok"}
    )
    return LiveMessage(municipality, LiveKind.SENSOR, payload)


def test_messages_round_trip_in_notifications_under_the_limit() -> None:
    messages = [sensor(f"town{i % 3}", i) for i in range(400)]
    payloads, oversize = encode(messages)
    assert not oversize
    assert len(payloads) > 1, "400 sensor updates do not fit one notification"
    assert all(len(p.encode("utf-8")) <= PAYLOAD_LIMIT for p in payloads)
    back = [m for p in payloads for m in decode(p)]
    assert [(m.municipality, m.kind, m.data_json()) for m in back] == [
        (m.municipality, m.kind, m.data_json()) for m in messages
    ]


def test_a_message_too_large_for_a_notification_becomes_a_resync() -> None:
    huge = sensor("town1", 1, name="x" * 64)
    object.__setattr__(huge, "_json", json.dumps({"pad": "y" * PAYLOAD_LIMIT}))
    payloads, oversize = encode([huge, sensor("town2", 2)])
    assert oversize == {"town1"}
    assert [m.municipality for p in payloads for m in decode(p)] == ["town2"]


@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_decoding_any_notification_never_raises(payload: str) -> None:
    assert isinstance(decode(payload), list)


@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=12), st.text(max_size=40))))
def test_decoding_wrong_items_skips_them(items: list[tuple[str, str, str]]) -> None:
    for message in decode(json.dumps(items)):
        assert isinstance(message, LiveMessage)


def test_ingest_refuses_sqlite_with_a_reason(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, mqtt_url="mqtt://127.0.0.1:1")
    with pytest.raises(IngestRefusedError, match="needs PostgreSQL"):
        IngestProcess(settings)
    pg = "postgresql+psycopg://u@127.0.0.1:1/db"
    short = Settings(database_url=pg, mqtt_url="mqtt://h", ingest_lease_s=1, ingest_heartbeat_s=1)
    with pytest.raises(IngestRefusedError, match="at least twice"):
        IngestProcess(short)
    with pytest.raises(RuntimeError, match="CITYOPS_INGEST=external needs PostgreSQL"):
        ControlCenter(Settings(data_dir=tmp_path, ingest="external"))


def test_an_incident_of_an_ingest_process_reaches_the_servers_live_bus_and_mqtt(
    server: ControlCenter, cluster_db: str, cluster_broker: MosquittoServer, tmp_path: Path
) -> None:
    assert server.pipeline is None, "external ingest: no pipeline in the server"
    assert server.live_bridge is not None
    assert server.live_bridge.listening.wait(10)
    heard: queue.Queue[LiveMessage] = queue.Queue()

    def listen(messages: Sequence[LiveMessage]) -> None:
        for m in messages:
            heard.put(m)

    server.live.subscribe(listen)
    retained: queue.Queue[str] = queue.Queue()
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"w-{uuid.uuid4().hex[:6]}")
    watcher.on_message = lambda _c, _u, msg: retained.put(msg.topic)
    watcher.connect(LOOPBACK, cluster_broker.port)
    watcher.subscribe("cityops/town1/incidents/+", qos=1)
    watcher.loop_start()
    before = health(server)
    assert set(before["reasons"]) == {"ingest_not_running", "ingest_partitions_unowned"}
    assert before["partitions_unowned"] == [f"town{i}" for i in range(1, 7)]
    assert before["ingest_members"] == 0
    member = Member("solo", cluster_db, cluster_broker.url, tmp_path / "solo", "live")
    member.start()
    try:
        wait_for(lambda: _holds_all(server), 45, "the ingest process to hold every town")
        now = health(server)
        assert (now["status"], now["ingest_members"]) == ("ok", 1), now
        assert now["partitions_unowned"] == []
        assert now["mqtt_connected"] is True
        base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="live-pub")
        publisher.connect(LOOPBACK, cluster_broker.port)
        publisher.loop_start()
        for i in range(12):  # above 2.8 m for 11 minutes: the flood rule is raised
            ts = (base + timedelta(minutes=i)).isoformat()
            info = publisher.publish(
                "cityops/town1/sensors/river-1/readings", f'{{"value": 3.1, "ts": "{ts}"}}', qos=1
            )
            info.wait_for_publish(10)
        publisher.disconnect()
        publisher.loop_stop()
        incident = _next(heard, LiveKind.INCIDENT, 30)
        assert incident.municipality == "town1"
        assert isinstance(incident.payload, IncidentSummary)
        assert incident.payload.title.startswith("River level high")
        topic = retained.get(timeout=10)  # published by the server's own MQTT client
        assert topic == f"cityops/town1/incidents/{incident.payload.id}"
        with api_client(server, municipality="town1") as client:
            answer = client.post("/api/v1/m/town1/readings", json={"sensor": "river-1"})
        assert answer.status_code == 503
        assert "cityops ingest" in answer.json()["detail"]
    finally:
        watcher.loop_stop()
        assert member.stop() == 0, member.log_tail()


def _holds_all(server: ControlCenter) -> bool:
    with server.db.connect() as conn:
        rows = cluster_repo.partitions(conn)
    return len(rows) == 6 and {p.owner for p in rows} == {"solo"}


def _next(heard: queue.Queue[LiveMessage], kind: LiveKind, timeout: float) -> LiveMessage:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while datetime.now(UTC) < deadline:
        try:
            message = heard.get(timeout=0.5)
        except queue.Empty:
            continue
        if message.kind is kind:
            return message
    raise AssertionError(f"no {kind} message reached the server's live bus")
