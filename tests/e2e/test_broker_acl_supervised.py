"""Device credentials on the supervised Mosquitto (CITYOPS_BROKER=mosquitto): the scenarios of
acl_scenarios.py, with the files CityOps generates itself from the database (no `cityops mqtt
sync`: the supervisor re-reads the credentials every ``refresh_s`` and sends Mosquitto SIGHUP)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cityops.bus.mosquitto_conf import find_mosquitto
from cityops.bus.supervisor import SupervisedMosquitto
from cityops.settings import Settings
from tests.e2e import acl_scenarios as scenario
from tests.e2e.acl_support import start, two_towns
from tests.harness import LOOPBACK, free_port

REFRESH_S = 0.5

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="Mosquitto is not installed")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[scenario.World]:
    data = tmp_path_factory.mktemp("acl-supervised")
    url = two_towns(data)
    settings = Settings(
        data_dir=data,
        database_url=url,
        mqtt_port=free_port(),
        broker="mosquitto",
        mqtt_anonymous=False,
        camera_probe_s=0,
        video_worker=False,
        log_level="WARNING",
    )
    center = start(settings)
    assert isinstance(center.broker, SupervisedMosquitto)
    center.broker.refresh_s = REFRESH_S  # credentials re-read within this (default 5 s)
    creds = scenario.standard_credentials(center.db)

    def apply() -> None:  # the supervisor syncs the files itself; Mosquitto reloads on SIGHUP
        time.sleep(REFRESH_S + 0.7)

    apply()
    # Mosquitto 2.0 accepts a forbidden subscription and delivers it nothing
    yield scenario.World(center, LOOPBACK, settings.mqtt_port, creds, apply, False)
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
