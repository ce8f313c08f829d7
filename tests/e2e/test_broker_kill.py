"""The delivery guarantee when the server is killed, under each embedded broker mode.

A gateway (its own device credential) publishes readings at QoS 1 while `cityops serve` is
SIGKILLed twice and started again; every reading whose PUBACK the gateway received must be
stored exactly once at the end, and the rule state must have survived: every reading is above
the PM10 threshold, so its "for an hour" rule opens exactly one incident.

- ``mosquitto``: CityOps's supervised Mosquitto outlives the server, keeps queueing for the
  ingest's persistent session, and is adopted (same pid, never a second one) by the restarted
  server: nothing acknowledged is lost.
- ``amqtt``: the broker lives in the server's process, so whatever it acknowledged that CityOps
  had not yet stored may die with it (docs/MQTT.md, "Embedded broker"). Whether any does depends
  on how far the ingest had got at the kill, so the test holds amqtt to what it does promise:
  nothing stored twice, the rule state kept, and every reading first published after the last
  restart (acknowledged by the new broker only) stored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from cityops.bus.mosquitto_conf import BrokerFiles, find_mosquitto
from cityops.bus.supervisor import is_our_mosquitto
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.services import devices
from cityops.store import tables as t
from cityops.store.db import make_engine
from tests.e2e.stored_readings import stored_times
from tests.harness import LOOPBACK, free_port
from tests.town import MUNI, town_db

SENSOR = "pm10-1"
KILLS = 2
RATE = 400
"""Readings/s the gateway offers: within what either broker carries on a loaded machine."""


class AcknowledgedLostError(AssertionError):
    """Readings the broker acknowledged to the gateway are not in the database."""


class Server:
    """`cityops serve` in its own process on a data directory that outlives it."""

    def __init__(self, data_dir: Path, mode: str) -> None:
        self.data_dir = data_dir
        self.http_port = free_port()
        self.mqtt_port = free_port()
        self.env = dict(
            os.environ,
            CITYOPS_DATA_DIR=str(data_dir),
            CITYOPS_BROKER=mode,
            CITYOPS_MQTT_PORT=str(self.mqtt_port),
            CITYOPS_HTTP_PORT=str(self.http_port),
            CITYOPS_VIDEO_WORKER="false",
            CITYOPS_CAMERA_PROBE_S="0",
            CITYOPS_LOG_LEVEL="WARNING",
        )
        self.env.pop("CITYOPS_MQTT_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        log = (self.data_dir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cityops.cli", "serve"], env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_tail()
            with contextlib.suppress(httpx.HTTPError, ValueError):
                health = httpx.get(f"http://{LOOPBACK}:{self.http_port}/api/v1/health", timeout=2)
                if health.json().get("mqtt_connected"):
                    return
            time.sleep(0.1)
        raise AssertionError(f"server did not come up: {self.log_tail()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")[-3000:]


class Gateway:
    """A QoS 1 publisher of one reading per message, offering ``RATE`` per second; remembers
    each message so that what the broker acknowledged can be told at the end."""

    def __init__(self, port: int, username: str, secret: str, total: int) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=username, clean_session=False
        )
        self.client.username_pw_set(username, secret)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 1)
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = self._on_disconnect
        self.client.connect_async(LOOPBACK, port)
        self.acked_mids: set[int] = set()
        self.disconnects: list[str] = []
        self.total = total
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_publish(self, _c: object, _u: object, mid: int, _rc: object, _p: object) -> None:
        self.acked_mids.add(mid)  # PUBACK received (a message sent again keeps its mid)

    def _on_disconnect(self, _c: object, _u: object, _f: object, rc: object, _p: object) -> None:
        self.disconnects.append(str(rc))

    def start(self) -> None:
        self.client.loop_start()
        self._thread.start()

    def _run(self) -> None:
        began = time.monotonic()
        for i in range(self.total):
            lag = began + i / RATE - time.monotonic()
            if lag > 0:
                time.sleep(lag)
            ts = (self.base + timedelta(seconds=i)).isoformat()
            payload = f'{{"value": {60 + i % 20}, "ts": "{ts}"}}'
            topic = f"cityops/{MUNI}/sensors/{SENSOR}/readings"
            self.infos.append(self.client.publish(topic, payload, qos=1))
        self.done.set()

    def acknowledged(self) -> set[datetime]:
        return {
            self.base + timedelta(seconds=i)
            for i, info in enumerate(self.infos)
            if info.mid in self.acked_mids
        }

    def published(self) -> set[datetime]:
        return {self.base + timedelta(seconds=i) for i in range(len(self.infos))}

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def incidents(db_url: str) -> int:
    """Incidents of the test town's PM10 rule (every reading is above its threshold)."""
    db = make_engine(db_url)
    try:
        with db.connect() as conn:
            query = select(func.count()).where(
                t.incidents.c.municipality == MUNI, t.incidents.c.rule_id == "pm10-high"
            )
            return int(conn.execute(query).scalar_one())
    finally:
        db.dispose()


def mosquittos(conf: Path) -> list[int]:
    """Every live Mosquitto process on ``conf``."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [pid for pid in pids if is_our_mosquitto(pid, conf)]


@pytest.fixture
def gateway_secret(tmp_path: Path) -> Iterator[tuple[str, str]]:
    db = town_db(f"sqlite:///{tmp_path / 'cityops.db'}")
    with db.begin() as conn:
        made = devices.create(
            conn, DeviceScope("gw", DeviceKind.GATEWAY, MUNI, (SENSOR,)), actor="test"
        )
    db.dispose()
    yield made.row.username, made.secret
    files = BrokerFiles(tmp_path / "broker")
    for pid in mosquittos(files.conf):  # a broker a failed test left behind: ours, by its pid
        os.kill(pid, signal.SIGKILL)


MODES = [
    pytest.param(
        "mosquitto",
        marks=pytest.mark.skipif(find_mosquitto() is None, reason="Mosquitto is not installed"),
    ),
    "amqtt",
]


@pytest.mark.parametrize("mode", MODES)
def test_every_acknowledged_reading_survives_sigkill(
    tmp_path: Path, gateway_secret: tuple[str, str], mode: str
) -> None:
    server = Server(tmp_path, mode)
    conf = BrokerFiles(tmp_path / "broker").conf
    gateway = Gateway(server.mqtt_port, *gateway_secret, total=RATE * 4 * (KILLS + 1))
    try:
        server.start()
        broker_pid = mosquittos(conf) if mode == "mosquitto" else []
        gateway.start()
        kills = []
        for _ in range(KILLS):
            time.sleep(2.5)  # readings flowing: some acknowledged by the broker, not yet stored
            server.kill()
            kills.append(len(gateway.infos))
            time.sleep(0.5)
            if mode == "mosquitto":  # the broker outlived the server and still takes readings
                assert mosquittos(conf) == broker_pid
            server.start()
            if mode == "mosquitto":  # adopted, not started twice
                assert mosquittos(conf) == broker_pid, server.log_tail()
        assert gateway.done.wait(120), "the gateway could not publish everything"
        deadline = time.monotonic() + 60
        while len(gateway.acknowledged()) < gateway.total and time.monotonic() < deadline:
            time.sleep(0.2)
        acked = gateway.acknowledged()
        db_url = f"sqlite:///{tmp_path / 'cityops.db'}"
        seen, quiet = -1, 0.0
        while quiet < 5.0:  # until nothing more arrives for 5 s (everything, or all there is)
            have = set(stored_times(db_url, MUNI, SENSOR))
            if acked <= have:
                break
            quiet = quiet + 0.5 if len(have) == seen else 0.0
            seen = len(have)
            time.sleep(0.5)
    finally:
        gateway.stop()
        server.stop()
    rows = stored_times(db_url, MUNI, SENSOR)
    assert len(rows) == len(set(rows)), "a reading stored twice"
    assert set(rows) <= gateway.published()
    # rule state survived too: above 50 for an hour of readings opens one incident, once
    assert incidents(db_url) == 1
    missing = acked - set(rows)
    lost = sorted(int((ts - gateway.base).total_seconds()) for ts in missing)
    if mode == "amqtt":  # only what the killed brokers had acknowledged may be gone
        lost = [i for i in lost if i >= kills[-1]]
    if lost:
        raise AcknowledgedLostError(
            f"{len(lost)} of {len(acked)} acknowledged lost: {lost[:20]}; kills {kills}; "
            f"gateway disconnected {gateway.disconnects}"
        )
    if mode == "mosquitto":
        assert mosquittos(conf) == [], "a clean stop of the server stops its broker"
