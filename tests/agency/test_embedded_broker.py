"""Location requests through CityOps's own broker, both kinds (docs/MQTT.md "Embedded broker"):
the amqtt broker holds clients to the grants of domain/devices.py itself, the supervised
Mosquitto through the ACL file CityOps writes from them. Either way an ``agency`` credential
gets its answers, and cannot ask for another agency."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.app import ControlCenter, import_config
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.services import devices
from cityops.settings import Settings
from tests.agency.support import AgencySystem, body, incidents_of_case, requests_yaml
from tests.agency.test_mqtt import POLICE, TRAFFIC
from tests.harness import LOOPBACK, free_port, mosquitto_unavailable_reason
from tests.town import MUNI, town_db


def start(data: Path, broker: str) -> tuple[ControlCenter, tuple[str, str]]:
    """A control center on its own broker with an agency credential for the police, made
    before the start (the supervised Mosquitto's files are written then)."""
    settings = Settings(
        data_dir=data,
        mqtt_port=free_port(),
        broker=broker,
        mqtt_anonymous=False,
        camera_probe_s=0,
        video_worker=False,
        session_cookie_secure=False,
    )
    db = town_db(settings.db_url)
    import_config(db, requests_yaml(data), actor="test")
    scope = DeviceScope("police-system", DeviceKind.AGENCY, MUNI, ("police",))
    with db.begin() as conn:
        made = devices.create(conn, scope, actor="test")
    db.dispose()
    center = ControlCenter(settings)
    center.start()
    assert center.mqtt is not None
    assert center.mqtt.connected.wait(15), "the control center did not reach its broker"
    time.sleep(0.3)  # its SUBSCRIBE, sent on connect, is acknowledged
    return center, (made.row.username, made.secret)


@pytest.fixture(params=["amqtt", "mosquitto"])
def embedded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[ControlCenter, AgencySystem]]:
    if request.param == "mosquitto" and (reason := mosquitto_unavailable_reason()):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    center, (user, secret) = start(tmp_path, request.param)
    port = center.settings.mqtt_port
    police = AgencySystem(LOOPBACK, port, user, secret, v5=False).start()
    try:
        yield center, police
    finally:
        police.stop()
        center.stop()


def test_an_agency_system_is_answered_through_the_embedded_broker(
    embedded: tuple[ControlCenter, AgencySystem],
) -> None:
    center, police = embedded
    police.subscribe(f"{POLICE}/responses/#")
    police.request(f"{POLICE}/requests", body("emb-1", request_id="e-1"))
    answer, _ = police.answer(f"{POLICE}/responses/emb-1", timeout=15)
    assert (answer["ok"], answer["request_id"]) == (True, "e-1")
    assert sorted(answer["cameras"]) == ["cam-a", "cam-b"]
    police.request(f"{TRAFFIC}/requests", body("emb-2", type="traffic-accident"))  # not its own
    time.sleep(1.0)
    assert incidents_of_case(center.db, "emb-2") == 0
    assert [topic for topic, _, _ in police.received] == [f"{POLICE}/responses/emb-1"]
