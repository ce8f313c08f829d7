"""What the MQTT credential tests share, on a real Mosquitto and on the embedded broker.

A :class:`World` is a running control center for two municipalities (the test town and the
Kazanlak demo) on a broker that demands credentials, with device credentials made through
``services.devices``; the scenarios in test_mqtt_acl_*.py drive real paho clients against it and
judge by what the ingest stored in the database.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, select

from cityops.app import ControlCenter, import_config
from cityops.data import DEMO_CONFIG
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.services import devices
from cityops.settings import Settings
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from tests.town import TOWN_YAML


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


FRIGATE = "frigate: {cameras: {school_gate: cam-school}, min_score: 0.5}\n"
"""The test town's Frigate (topic prefix ``frigate``) in the credential worlds."""


def two_towns(data_dir: Path) -> str:
    """A migrated SQLite database with the test town (with a Frigate) and Kazanlak imported;
    its URL."""
    url = f"sqlite:///{(data_dir / 'cityops.db').as_posix()}"
    upgrade(url)
    db = make_engine(url)
    town = data_dir / "testtown.yaml"
    town.write_text(TOWN_YAML.read_text(encoding="utf-8") + FRIGATE, encoding="utf-8")
    for path in (town, DEMO_CONFIG):
        import_config(db, path, actor="test")
    db.dispose()
    return url


def issue(db: Engine, scope: DeviceScope) -> tuple[str, str]:
    """(username, secret) of a new credential."""
    with db.begin() as conn:
        made = devices.create(conn, scope, actor="test")
    return made.row.username, made.secret


def scope(
    name: str, kind: DeviceKind, municipality: str | None, *devs: str, prefix: str | None = None
) -> DeviceScope:
    return DeviceScope(name, kind, municipality, tuple(devs), prefix)


def start(settings: Settings) -> ControlCenter:
    center = ControlCenter(settings)
    center.start()
    assert center.mqtt is not None
    assert center.mqtt.connected.wait(15), "the control center did not reach the broker"
    return center


def stored(db: Engine, municipality: str, sensor: str) -> int:
    with db.connect() as conn:
        query = select(func.count()).where(
            t.readings.c.municipality == municipality, t.readings.c.sensor_id == sensor
        )
        return int(conn.execute(query).scalar_one())


@dataclass
class Device:
    """A paho client as a device runs one (MQTT 3.1.1 unless ``v5``), recording what it gets."""

    host: str
    port: int
    username: str | None
    password: str | None
    client_id: str = field(default_factory=lambda: f"dev-{uuid.uuid4().hex[:8]}")
    clean: bool = True
    v5: bool = False
    connack: list[Any] = field(default_factory=list)
    granted: list[list[int]] = field(default_factory=list)
    received: list[tuple[str, bytes]] = field(default_factory=list)
    disconnects: int = 0
    client: mqtt.Client = field(init=False)

    def __post_init__(self) -> None:
        if self.v5:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, self.client_id, protocol=mqtt.MQTTv5)
        else:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, self.client_id, clean_session=self.clean)
        if self.username is not None:
            c.username_pw_set(self.username, self.password)
        c.on_connect = lambda _c, _u, _f, rc, _p: self.connack.append(rc)
        c.on_subscribe = lambda _c, _u, _m, rcs, _p: self.granted.append([r.value for r in rcs])
        c.on_message = lambda _c, _u, m: self.received.append((m.topic, bytes(m.payload)))
        c.on_disconnect = lambda *_a: self._gone()
        self.client = c
        self._lock = threading.Lock()

    def _gone(self) -> None:
        with self._lock:
            self.disconnects += 1

    def connect(self, timeout: float = 10.0) -> bool:
        """True when the broker accepted the CONNECT; a refused client is stopped."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        wait_for(lambda: bool(self.connack), timeout, f"a CONNACK for {self.username}")
        ok = not self.connack[0].is_failure
        if not ok:
            self.stop()
        return ok

    def subscribe(self, topic: str) -> list[int]:
        """The SUBACK's codes (0x80: refused)."""
        before = len(self.granted)
        self.client.subscribe(topic, qos=1)
        wait_for(lambda: len(self.granted) > before, 10, f"SUBACK for {topic}")
        return self.granted[before]

    def publish(self, topic: str, payload: str | bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def reading(value: float, age_s: float = 0.0) -> str:
    ts = (datetime.now(UTC) - timedelta(seconds=age_s)).isoformat()
    return f'{{"value": {value}, "ts": "{ts}"}}'
