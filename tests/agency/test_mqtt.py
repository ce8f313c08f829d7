"""Location requests over MQTT on a real, secured Mosquitto (tests/harness): the ACL comes from
`cityops mqtt sync`, the ingest logs in with an ingest credential, each agency system with an
``agency`` credential. Round trips with an MQTT 5 response topic and correlation data and with
MQTT 3.1.1's default answer topic; an error answer; what the ACL keeps an agency from."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.app import ControlCenter, import_config
from cityops.cli import app
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.mqtt_url import with_credentials
from cityops.services import agency_requests, devices, shares
from cityops.settings import Settings
from cityops.store import incidents_repo as repo
from cityops.store.db import make_engine, upgrade
from tests.agency.support import FAR, AgencySystem, body, incidents_of_case, requests_yaml, wait_for
from tests.harness import MosquittoServer, mosquitto_unavailable_reason
from tests.town import MUNI, TOWN_YAML

pytestmark = pytest.mark.mosquitto

POLICE = f"cityops/{MUNI}/agency/police"
TRAFFIC = f"cityops/{MUNI}/agency/traffic-police"


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
    assert incidents_of_case(world.center.db, "112-mq-5") == 0
    assert incidents_of_case(world.center.db, "112-mq-6") == 1
    assert [r[0] for r in traffic.received] == [f"{TRAFFIC}/responses/112-mq-6"]
    assert police.received == []  # not the traffic police's answer either


def test_a_retained_request_is_served_once_not_again_after_a_reconnect(world: World) -> None:
    """Published retained, it reaches the subscribed ingest as a live message (served); when
    the ingest subscribes again after a reconnect, Mosquitto sends it once more flagged
    retained: acknowledged and counted, not served a second time."""
    police = world.system("police", v5=False)
    ingest = world.center.mqtt
    assert ingest is not None
    ignored = agency_requests.COUNTS.snapshot().get("retained", 0)
    try:
        police.subscribe(f"{POLICE}/responses/#")
        info = police.client.publish(
            f"{POLICE}/requests", json.dumps(body("112-mq-7")), qos=1, retain=True
        )
        info.wait_for_publish(10)
        police.answer(f"{POLICE}/responses/112-mq-7")
        time.sleep(0.5)  # its PUBACK is out (else the session resumes it: at least once, by design)
        ingest.connected.clear()
        ingest.client.reconnect()  # on_connect subscribes again: the retained request comes back
        assert ingest.connected.wait(15)
        wait_for(
            lambda: agency_requests.COUNTS.snapshot().get("retained", 0) == ignored + 1,
            10,
            "the retained request to be seen and ignored",
        )
        empty = agency_requests.COUNTS.snapshot().get("empty", 0)
        police.client.publish(f"{POLICE}/requests", b"", qos=1, retain=True).wait_for_publish(10)
        wait_for(
            lambda: agency_requests.COUNTS.snapshot().get("empty", 0) == empty + 1,
            10,
            "the empty message that clears it to be ignored",
        )
    finally:
        police.stop()
    assert incidents_of_case(world.center.db, "112-mq-7") == 1
    assert [r[0] for r in police.received] == [f"{POLICE}/responses/112-mq-7"]
