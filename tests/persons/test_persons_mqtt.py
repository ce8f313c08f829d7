"""A person's device over MQTT, through the embedded broker with credentials: a tracker
credential publishes only its own device's position and SOS, and what it publishes opens the
episode exactly as over HTTP."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cityops.app import ControlCenter
from cityops.domain.devices import DeviceKind, DeviceScope, grants, may_publish, may_subscribe
from cityops.services import persons
from cityops.settings import Settings
from cityops.store import tables as t
from cityops.store.tables_persons import person_positions
from tests.e2e.acl_support import Device, issue, start, wait_for
from tests.harness import LOOPBACK, free_port
from tests.persons.conftest import OUTSIDE, child
from tests.town import MUNI, town_db

TRACKER = DeviceScope("maria-watch", DeviceKind.TRACKER, MUNI, ("tracker-1",))


def test_a_tracker_may_publish_only_its_devices_position_and_sos() -> None:
    granted = grants(TRACKER)
    assert may_publish(granted, f"cityops/{MUNI}/persons/tracker-1/position")
    assert may_publish(granted, f"cityops/{MUNI}/persons/tracker-1/sos")
    assert not may_publish(granted, f"cityops/{MUNI}/persons/tracker-2/sos")
    assert not may_publish(granted, "cityops/other/persons/tracker-1/sos")
    assert not may_publish(granted, f"cityops/{MUNI}/sensors/tracker-1/readings")
    assert not may_subscribe(granted, f"cityops/{MUNI}/persons/+/position")  # nobody's track
    ingest = grants(DeviceScope("ingest", DeviceKind.INGEST, None))
    assert may_subscribe(ingest, "cityops/+/persons/+/position")
    assert may_subscribe(ingest, "cityops/+/persons/+/sos")


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    url = f"sqlite:///{(tmp_path / 'cityops.db').as_posix()}"
    town_db(url).dispose()
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        mqtt_port=free_port(),
        mqtt_anonymous=False,
        broker="amqtt",  # reads the credentials from the database itself (Mosquitto: tests/e2e)
        camera_probe_s=0,
        video_worker=False,
        log_level="WARNING",
    )
    c = start(settings)
    yield c
    c.stop()


def test_a_device_over_mqtt_opens_the_episode(center: ControlCenter) -> None:
    assert center.pipeline is not None
    with center.db.begin() as conn:
        rt = center.pipeline.runtimes[MUNI]
        maria = persons.register(conn, rt, child(), actor="test", now=datetime.now(UTC))
        persons.register(conn, rt, child("tracker-2", "Other"), actor="test", now=datetime.now(UTC))
    username, secret = issue(center.db, TRACKER)
    dev = Device(LOOPBACK, center.settings.mqtt_port, username, secret, client_id=username)
    assert dev.connect()
    doc = {"lon": OUTSIDE.lon, "lat": OUTSIDE.lat, "ts": datetime.now(UTC).isoformat()}
    dev.publish(f"cityops/{MUNI}/persons/tracker-1/position", json.dumps(doc))

    def opened() -> bool:
        with center.db.connect() as conn:
            q = select(t.incidents.c.dedup_key).where(t.incidents.c.type == "person_left_area")
            return list(conn.execute(q).scalars()) == [f"sos|{maria.id}"]

    wait_for(opened, 10, "the episode's incident")
    # another device's topic: refused by the broker, nothing stored for the other person
    with contextlib.suppress(RuntimeError, ValueError):  # the broker may hang up on it
        dev.publish(f"cityops/{MUNI}/persons/tracker-2/sos", json.dumps(doc))
    dev.stop()
    again = Device(LOOPBACK, center.settings.mqtt_port, username, secret, client_id=username)
    assert again.connect()  # an allowed publish after it: once stored, the other would be too
    again.publish(f"cityops/{MUNI}/persons/tracker-1/sos", json.dumps(doc))
    again.stop()
    q = select(person_positions.c.person_id, func.count()).group_by(person_positions.c.person_id)

    def points() -> dict[int, int]:
        with center.db.connect() as conn:
            return {int(p): int(n) for p, n in conn.execute(q).all()}

    wait_for(lambda: sum(points().values()) >= 2, 10, "the second signal")
    assert points() == {maria.id: 2}
    with center.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.incidents)).scalar() == 1
