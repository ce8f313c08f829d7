"""Device credentials on the supervised Mosquitto (CITYOPS_BROKER=mosquitto): the scenarios of
acl_scenarios.py, with the files CityOps generates itself from the database (no `cityops mqtt
sync`: the supervisor re-reads the credentials every ``refresh_s`` and sends Mosquitto SIGHUP)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cityops.bus.mosquitto_conf import find_mosquitto
from cityops.bus.supervisor import SupervisedMosquitto
from tests.e2e import acl_scenarios as scenario
from tests.harness import LOOPBACK

REFRESH_S = 0.5

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="Mosquitto is not installed")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[scenario.World]:
    center = scenario.own_broker(tmp_path_factory.mktemp("acl-supervised"), "mosquitto")
    assert isinstance(center.broker, SupervisedMosquitto)
    center.broker.refresh_s = REFRESH_S  # credentials re-read within this (default 5 s)
    creds = scenario.standard_credentials(center.db)

    def apply() -> None:  # the supervisor syncs the files itself; Mosquitto reloads on SIGHUP
        time.sleep(REFRESH_S + 0.7)

    apply()
    # Mosquitto 2.0 accepts a forbidden subscription and delivers it nothing
    yield scenario.World(center, LOOPBACK, center.settings.mqtt_port, creds, apply, False)
    center.stop()


class TestSupervisedMosquitto(scenario.Scenarios):
    """Every scenario, on the Mosquitto that CityOps supervises."""
