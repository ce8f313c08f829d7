"""Received warnings are kept: a warning pushed once is in force again after a restart, a
repeat after the restart is ignored, a cancel after it ends the stored warning. CAP alerts over
MQTT (``cityops/<m>/cap``, the embedded broker, QoS 1) take the same path: listed, an incident
opened by rule, a refused document acknowledged and counted."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from cityops.api.app import create_api
from cityops.app import ControlCenter, import_config
from cityops.domain.access import Role
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.ingest.cap_mqtt import cap_municipality
from cityops.services import devices
from cityops.settings import Settings
from cityops.store.tables_warnings import cap_received
from tests.cap.intake_support import town_with_warnings
from tests.cap.support import alert_xml
from tests.harness import free_port
from tests.town import MUNI, account, start_center, town_db

FAR = "2099-01-01T00:00:00+02:00"
CAP = {"Content-Type": "application/cap+xml"}


def _until(what: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def _listed(api: TestClient, auth: dict[str, str]) -> dict[str, dict[str, object]]:
    got = api.get(f"/api/v1/m/{MUNI}/warnings", headers=auth)
    assert got.status_code == 200, got.text
    return {w["identifier"]: w for w in got.json()}


@pytest.mark.timeout(120)
def test_a_pushed_warning_survives_a_restart(tmp_path: Path) -> None:
    town = town_with_warnings(tmp_path)
    center = start_center(tmp_path, with_mqtt=False, also=[town])
    token = account(center.db, "pusher", role=Role.SUPERVISOR, installation_admin=False)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/m/{MUNI}/cap/alerts"
    try:
        api = TestClient(create_api(center))
        assert (
            api.post(
                url, content=alert_xml(identifier="p1", expires=FAR), headers={**auth, **CAP}
            ).json()["submitted"]
            == 1
        )
        before = _listed(api, auth)["p1"]
        assert before["circles"] == [{"lon": 25.40, "lat": 42.62, "radius_m": 1500.0}]
        assert before["polygons"][0][:2] == [[25.38, 42.60], [25.38, 42.64]]  # [lon, lat]
    finally:
        center.stop()
    again = ControlCenter(center.settings)
    again.start(with_mqtt=False)
    try:
        api = TestClient(create_api(again))
        after = _listed(api, auth)
        assert after["p1"] == before  # same warning, place, signature verdict
        repeat = api.post(
            url, content=alert_xml(identifier="p1", expires=FAR), headers={**auth, **CAP}
        )
        assert repeat.json()["submitted"] == 0  # seen before the restart
        cancel = alert_xml(
            identifier="p1-cancel",
            msg_type="Cancel",
            references="ops@kazanlak.bg,p1,2026-12-03T12:00:00+02:00",
            expires=FAR,
        )
        assert api.post(url, content=cancel, headers={**auth, **CAP}).status_code == 200
        assert "p1" not in _listed(api, auth)
    finally:
        again.stop()
    third = ControlCenter(center.settings)
    third.start(with_mqtt=False)
    try:
        assert "p1" not in _listed(TestClient(create_api(third)), auth)
        with third.db.connect() as conn:
            c = cap_received.c
            rows = conn.execute(select(c.identifier, c.ended_by)).all()
        assert [tuple(r) for r in rows] == [("p1", "cancelled")]
    finally:
        third.stop()


@dataclass
class BrokerTown:
    center: ControlCenter
    system: tuple[str, str]
    """A ``system`` device credential of the town (username, secret): may publish CAP."""


@pytest.fixture(params=["mosquitto", "amqtt"])
def broker_town(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BrokerTown]:
    """Both embedded brokers; the publisher logs in with its device credential."""
    if request.param == "mosquitto" and shutil.which("mosquitto") is None:
        pytest.skip("Mosquitto is not installed")
    settings = Settings(
        data_dir=tmp_path,
        broker=request.param,
        mqtt_port=free_port(),
        camera_probe_s=0,
        video_worker=False,
        session_cookie_secure=False,
    )
    db = town_db(settings.db_url)
    import_config(db, town_with_warnings(tmp_path), actor="test")
    with db.begin() as conn:
        made = devices.create(conn, DeviceScope("civil", DeviceKind.SYSTEM, MUNI), actor="test")
    db.dispose()
    center = ControlCenter(settings)
    center.start()
    try:
        assert center.mqtt is not None
        assert center.mqtt.connected.wait(15), "the control center did not reach the broker"
        yield BrokerTown(center, (made.row.username, made.secret))
    finally:
        center.stop()


def _publish(port: int, login: tuple[str, str], topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=login[0])
    client.username_pw_set(*login)
    connected: list[object] = []
    client.on_connect = lambda _c, _u, _f, rc, _p: connected.append(rc)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        _until(lambda: bool(connected), 10)
        assert not getattr(connected[0], "is_failure", False), connected
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.timeout(120)
def test_an_alert_over_mqtt_is_in_force_and_opens_an_incident(broker_town: BrokerTown) -> None:
    broker_center, login = broker_town.center, broker_town.system
    port = broker_center.settings.mqtt_port
    token = account(broker_center.db, "reader", role=Role.ANALYST, installation_admin=False)
    auth = {"Authorization": f"Bearer {token}"}
    api = TestClient(create_api(broker_center))
    assert broker_center.cap_mqtt is not None
    _publish(port, login, f"cityops/{MUNI}/cap", b"<alert>not CAP</alert>")
    _until(lambda: broker_center.cap_mqtt is not None and broker_center.cap_mqtt.refused == 1)
    _publish(port, login, f"cityops/{MUNI}/cap", alert_xml(identifier="m1", expires=FAR))
    _until(lambda: "m1" in _listed(api, auth))
    _until(
        lambda: any(
            i["type"] == "public_warning"
            for i in api.get(f"/api/v1/m/{MUNI}/incidents", headers=auth).json()
        )
    )
    with broker_center.db.connect() as conn:
        stored = conn.execute(select(cap_received.c.identifier)).scalars().all()
    assert stored == ["m1"]
    assert broker_center.pipeline is not None
    rejected = broker_center.pipeline.metrics.snapshot()["rejected_by_reason"]
    assert rejected == {}  # neither CAP message went down the readings path


ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}", fullmatch=True)


@given(ID)
def test_a_cap_topic_names_its_municipality(mid: str) -> None:
    assert cap_municipality(f"cityops/{mid}/cap") == mid


@given(st.text(max_size=120))
def test_any_other_topic_is_not_a_cap_topic(topic: str) -> None:
    found = cap_municipality(topic)
    assert found is None or topic == f"cityops/{found}/cap"
    assert cap_municipality(topic + "/x") is None
