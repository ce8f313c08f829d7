"""Location requests over MQTT on a real, secured Mosquitto (tests/harness): the ACL comes from
`cityops mqtt sync`, the ingest logs in with an ingest credential, each agency system with an
``agency`` credential. Round trips with an MQTT 5 response topic and correlation data and with
MQTT 3.1.1's default answer topic; an error answer; what the ACL keeps an agency from."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityops.app import ControlCenter, import_config
from cityops.cli import app
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.mqtt_url import with_credentials
from cityops.services import agency_requests, devices, shares
from cityops.settings import Settings
from cityops.store import incidents_repo as repo
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from tests.agency.support import FAR, body, requests_yaml
from tests.harness import MosquittoServer, mosquitto_unavailable_reason
from tests.town import MUNI, TOWN_YAML

pytestmark = pytest.mark.mosquitto

POLICE = f"cityops/{MUNI}/agency/police"
TRAFFIC = f"cityops/{MUNI}/agency/traffic-police"


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class AgencySystem:
    """An agency's MQTT client (MQTT 5 unless ``v5`` is False), recording what it receives."""

    host: str
    port: int
    username: str
    password: str
    v5: bool = True
    received: list[tuple[str, dict[str, Any], bytes | None]] = field(default_factory=list)
    granted: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        cid = f"agency-{uuid.uuid4().hex[:8]}"  # Mosquitto replaces it with the username
        if self.v5:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, cid, protocol=mqtt.MQTTv5)
        else:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, cid)
        c.username_pw_set(self.username, self.password)
        c.on_message = self._message
        c.on_subscribe = lambda _c, _u, _m, rcs, _p: self.granted.append([r.value for r in rcs])
        self.client = c
        self._lock = threading.Lock()

    def _message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        with self._lock:
            self.received.append((msg.topic, json.loads(msg.payload), correlation))

    def start(self) -> AgencySystem:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        return self

    def subscribe(self, topic: str) -> list[int]:
        before = len(self.granted)
        self.client.subscribe(topic, qos=1)
        wait_for(lambda: len(self.granted) > before, 10, f"SUBACK for {topic}")
        return self.granted[before]

    def request(
        self, topic: str, payload: dict[str, Any], *, reply: str | None = None, corr: bytes = b""
    ) -> None:
        props = None
        if reply is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.ResponseTopic = reply
            props.CorrelationData = corr
        info = self.client.publish(topic, json.dumps(payload), qos=1, properties=props)
        info.wait_for_publish(10)

    def answer(self, topic: str, timeout: float = 10.0) -> tuple[dict[str, Any], bytes | None]:
        wait_for(
            lambda: any(r[0] == topic for r in self.received), timeout, f"an answer on {topic}"
        )
        with self._lock:
            _, doc, correlation = next(r for r in self.received if r[0] == topic)
        return doc, correlation

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class World:
    center: ControlCenter
    broker: MosquittoServer
    creds: dict[str, tuple[str, str]]

    def system(self, who: str, *, v5: bool = True) -> AgencySystem:
        user, secret = self.creds[who]
        return AgencySystem(self.broker.host, self.broker.port, user, secret, v5=v5).start()


def issue(url: str, scope: DeviceScope) -> tuple[str, str]:
    db = make_engine(url)
    try:
        with db.begin() as conn:
            made = devices.create(conn, scope, actor="test")
        return made.row.username, made.secret
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if reason := mosquitto_unavailable_reason():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    data: Path = tmp_path_factory.mktemp("agency-mqtt")
    url = f"sqlite:///{(data / 'cityops.db').as_posix()}"
    upgrade(url)
    db = make_engine(url)
    for path in (TOWN_YAML, requests_yaml(data)):
        import_config(db, path, actor="test")
    db.dispose()
    creds = {
        "ingest": issue(url, DeviceScope("ingest", DeviceKind.INGEST, None)),
        "police": issue(url, DeviceScope("police-system", DeviceKind.AGENCY, MUNI, ("police",))),
        "traffic": issue(
            url, DeviceScope("traffic-system", DeviceKind.AGENCY, MUNI, ("traffic-police",))
        ),
    }
    with MosquittoServer(secured=True, max_queued_messages=1_000_000) as broker:
        env = {"CITYOPS_DATABASE_URL": url, "CITYOPS_DATA_DIR": str(data)}
        args = ["mqtt", "sync", "--password-file", str(broker.password_path)]
        args += ["--acl-file", str(broker.acl_path), "--pid-file", str(broker.pid_path)]
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        time.sleep(1.0)  # SIGHUP is handled asynchronously
        settings = Settings(
            data_dir=data,
            database_url=url,
            mqtt_url=with_credentials(broker.url, *creds["ingest"]),
            camera_probe_s=0,
            video_worker=False,
        )
        center = ControlCenter(settings)
        center.start()
        try:
            assert center.mqtt is not None
            assert center.mqtt.connected.wait(15), "the control center did not reach the broker"
            time.sleep(0.3)  # its SUBSCRIBE, sent on connect, is acknowledged
            yield World(center, broker, creds)
        finally:
            center.stop()


def test_an_mqtt5_request_is_answered_on_its_response_topic_with_its_correlation_data(
    world: World,
) -> None:
    police = world.system("police")
    try:
        assert police.subscribe(f"{POLICE}/responses/#") == [1]
        inbox = f"{POLICE}/responses/inbox-7"
        police.request(f"{POLICE}/requests", body("112-mq-1"), reply=inbox, corr=b"\x00corr-1")
        answer, correlation = police.answer(inbox)
    finally:
        police.stop()
    assert correlation == b"\x00corr-1"
    assert answer["ok"] is True
    assert answer["case"] == "112-mq-1"
    assert sorted(answer["cameras"]) == ["cam-a", "cam-b"]
    with world.center.db.connect() as conn:
        record = repo.get_incident(conn, MUNI, answer["incident_id"])
        assert record is not None
        assert record.incident.dedup_key == "agency-request|police|112-mq-1"
        share = shares.by_token(conn, answer["link"].split("#", 1)[1], datetime.now(UTC))
        assert share is not None
        assert (share.id, share.origin.value, share.agency) == (
            answer["share_id"],
            "request",
            "police",
        )


def test_an_mqtt311_request_is_answered_on_the_case_topic_with_its_request_id(
    world: World,
) -> None:
    police = world.system("police", v5=False)
    try:
        assert police.subscribe(f"{POLICE}/responses/#") == [1]
        police.request(f"{POLICE}/requests", body("112-mq-2", request_id="r-42"))
        answer, _ = police.answer(f"{POLICE}/responses/112-mq-2")
        police.request(f"{POLICE}/requests", body("112-mq-2", request_id="r-43"))
        wait_for(lambda: len(police.received) == 2, 10, "the second answer")
    finally:
        police.stop()
    again = police.received[1][1]
    assert (answer["ok"], answer["request_id"], answer["incident_created"]) == (True, "r-42", True)
    assert (again["request_id"], again["incident_id"]) == ("r-43", answer["incident_id"])
    assert again["incident_created"] is False


def test_a_bad_request_gets_an_error_answer_and_is_counted(world: World) -> None:
    counted = agency_requests.COUNTS.snapshot().get("outside", 0)
    police = world.system("police")
    try:
        police.subscribe(f"{POLICE}/responses/#")
        police.request(f"{POLICE}/requests", body("112-mq-3", **FAR))
        outside, _ = police.answer(f"{POLICE}/responses/112-mq-3")
        police.request(f"{POLICE}/requests", {"type": "robbery", "lon": 25.39, "lat": 42.6})
        missing, _ = police.answer(f"{POLICE}/responses/_invalid")
        elsewhere = f"cityops/{MUNI}/incidents/1"  # not the agency's: answered on the default
        police.request(f"{POLICE}/requests", body("112-mq-4"), reply=elsewhere, corr=b"c")
        refused, corr = police.answer(f"{POLICE}/responses/112-mq-4")
    finally:
        police.stop()
    assert (outside["ok"], outside["status"], outside["reason"]) == (False, 422, "outside")
    assert outside["case"] == "112-mq-3"
    assert (missing["status"], missing["reason"]) == (422, "missing_case")
    assert (refused["reason"], corr) == ("malformed", b"c")
    assert "response topic" in refused["detail"]
    assert agency_requests.COUNTS.snapshot()["outside"] == counted + 1


def requests_for(world: World, case: str) -> int:
    with world.center.db.connect() as conn:
        query = select(func.count()).where(t.incidents.c.dedup_key.like(f"%|{case}"))
        return int(conn.execute(query).scalar_one())


def test_an_agency_can_neither_request_nor_read_for_another(world: World) -> None:
    police = world.system("police")
    traffic = world.system("traffic")
    try:
        police.subscribe(f"{TRAFFIC}/responses/#")  # Mosquitto 2.0 grants it, delivers nothing
        assert traffic.subscribe(f"{TRAFFIC}/responses/#") == [1]
        wrong = body("112-mq-5", type="traffic-accident")
        police.request(f"{TRAFFIC}/requests", wrong)  # dropped by the ACL
        traffic.request(f"{TRAFFIC}/requests", body("112-mq-6", type="traffic-accident"))
        mine, _ = traffic.answer(f"{TRAFFIC}/responses/112-mq-6")
        time.sleep(0.5)
    finally:
        police.stop()
        traffic.stop()
    assert mine["ok"] is True
    assert requests_for(world, "112-mq-5") == 0
    assert requests_for(world, "112-mq-6") == 1
    assert [r[0] for r in traffic.received] == [f"{TRAFFIC}/responses/112-mq-6"]
    assert police.received == []  # not the traffic police's answer either
