"""Device credentials on the embedded amqtt broker (CITYOPS_BROKER=amqtt): the scenarios of
acl_scenarios.py with the control center's own broker, its ingest logged in with its in-memory
credential (the supervised Mosquitto: test_broker_acl_supervised.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.bus.broker import EmbeddedBroker
from tests.e2e import acl_scenarios as scenario
from tests.e2e.acl_support import Device
from tests.harness import LOOPBACK

REFRESH_S = 0.5


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[scenario.World]:
    center = scenario.own_broker(tmp_path_factory.mktemp("acl-embedded"), "amqtt")
    assert isinstance(center.broker, EmbeddedBroker)
    center.broker.authority.refresh_s = REFRESH_S  # revocation seen within this (default 5 s)
    creds = scenario.standard_credentials(center.db)

    def apply() -> None:  # the embedded broker reads the database itself
        time.sleep(REFRESH_S + 0.3)

    yield scenario.World(center, LOOPBACK, center.settings.mqtt_port, creds, apply, True)
    center.stop()


class TestEmbeddedBroker(scenario.Scenarios):
    """Every scenario, on the control center's own broker."""


def test_a_will_on_a_forbidden_topic_is_refused(world: scenario.World) -> None:
    """A Last Will is a publish too: a gateway cannot leave one in another town's topics."""
    dev = world.device("kz_gateway")
    dev.client.will_set("cityops/testtown/sensors/river-1/readings", b'{"value": 9}', qos=1)
    assert not dev.connect()
    ok = world.device("kz_gateway")
    ok.client.will_set("cityops/kazanlak/readings", b'{"readings": []}', qos=1)
    assert ok.connect()
    ok.stop()


def test_anonymous_clients_get_in_only_when_allowed(tmp_path: Path) -> None:
    """CITYOPS_MQTT_ANONYMOUS (the demo's setting) admits them; even then none may take a
    credential's client id."""
    center = scenario.own_broker(tmp_path, "amqtt", anonymous=True)
    port = center.settings.mqtt_port
    try:
        assert center.mqtt is not None
        assert Device(LOOPBACK, port, None, None).connect()
        assert not Device(LOOPBACK, port, None, None, client_id=center.mqtt.client_id).connect()
    finally:
        center.stop()
