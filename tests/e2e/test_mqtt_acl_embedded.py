"""Device credentials on the embedded amqtt broker (CITYOPS_BROKER=amqtt): the scenarios of
acl_scenarios.py with the control center's own broker, its ingest logged in with its in-memory
credential (the supervised Mosquitto: test_broker_acl_supervised.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.bus.broker import EmbeddedBroker
from cityops.settings import Settings
from tests.e2e import acl_scenarios as scenario
from tests.e2e.acl_support import Device, start, two_towns
from tests.harness import LOOPBACK, free_port

REFRESH_S = 0.5


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[scenario.World]:
    data = tmp_path_factory.mktemp("acl-embedded")
    url = two_towns(data)
    settings = Settings(
        data_dir=data,
        database_url=url,
        mqtt_port=free_port(),
        broker="amqtt",
        mqtt_anonymous=False,
        camera_probe_s=0,
        video_worker=False,
        log_level="WARNING",
    )
    center = start(settings)
    assert isinstance(center.broker, EmbeddedBroker)
    center.broker.authority.refresh_s = REFRESH_S  # revocation seen within this (default 5 s)
    creds = scenario.standard_credentials(center.db)

    def apply() -> None:  # the embedded broker reads the database itself
        import time

        time.sleep(REFRESH_S + 0.3)

    yield scenario.World(center, LOOPBACK, settings.mqtt_port, creds, apply, True)
    center.stop()


def test_a_device_publishes_only_its_own_topics(world: scenario.World) -> None:
    scenario.publishes_only_its_own_topics(world)


def test_a_device_reads_nothing_of_another_municipality(world: scenario.World) -> None:
    scenario.reads_nothing_of_another_municipality(world)


def test_anonymous_and_wrong_secrets_are_refused(world: scenario.World) -> None:
    scenario.anonymous_and_wrong_secrets_are_refused(world)


def test_a_revoked_credential_is_refused(world: scenario.World) -> None:
    scenario.a_revoked_credential_is_refused(world)


def test_the_ingest_session_cannot_be_taken_over(world: scenario.World) -> None:
    scenario.the_ingest_session_cannot_be_taken_over(world)


def test_workers_and_simulators_use_their_credentials(world: scenario.World) -> None:
    scenario.workers_and_simulators_use_their_credentials(world)


def test_a_frigate_publishes_under_its_prefix_only(world: scenario.World) -> None:
    scenario.a_frigate_publishes_under_its_prefix_only(world)


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
    url = two_towns(tmp_path)
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        mqtt_port=port,
        broker="amqtt",
        mqtt_anonymous=True,
        camera_probe_s=0,
        video_worker=False,
    )
    center = start(settings)
    try:
        assert center.mqtt is not None
        assert Device(LOOPBACK, port, None, None).connect()
        assert not Device(LOOPBACK, port, None, None, client_id=center.mqtt.client_id).connect()
    finally:
        center.stop()
