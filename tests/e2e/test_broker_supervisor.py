"""The supervised Mosquitto under a running control center: restarted when it dies, its files,
and which broker CITYOPS_BROKER means (docs/MQTT.md, Embedded broker)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.app import ControlCenter
from cityops.app.brokers import broker_problem
from cityops.bus.mosquitto_conf import (
    BrokerFiles,
    credential_files,
    find_mosquitto,
    internal_secret,
    internal_username,
)
from cityops.bus.supervisor import SupervisedMosquitto, embedded_kind, is_our_mosquitto
from cityops.domain.device_secret import verify
from cityops.domain.devices import DeviceKind
from cityops.settings import Settings
from tests.e2e.acl_support import Device, issue, reading, scope, stored, wait_for
from tests.harness import LOOPBACK, free_port
from tests.security.test_serve_refusals import run_serve
from tests.town import MUNI, start_center

needs_mosquitto = pytest.mark.skipif(find_mosquitto() is None, reason="Mosquitto not installed")


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[ControlCenter]:
    center = start_center(tmp_path, broker="mosquitto", mqtt_port=free_port())
    yield center
    center.stop()


def logs_in(port: int, username: str, secret: str) -> bool:
    """The broker accepts this credential now (the client leaves at once: with
    ``use_username_as_clientid`` a second connection would take over the first's session)."""
    dev = Device(LOOPBACK, port, username, secret)
    accepted = dev.connect()
    if accepted:
        dev.stop()
    return accepted


def publish_and_count(center: ControlCenter, value: float, age_s: float) -> None:
    dev = Device(LOOPBACK, center.settings.mqtt_port, None, None)
    assert dev.connect()
    before = stored(center.db, MUNI, "river-1")
    dev.publish(f"cityops/{MUNI}/sensors/river-1/readings", reading(value, age_s))
    dev.stop()
    wait_for(lambda: stored(center.db, MUNI, "river-1") == before + 1, 15, "the reading stored")


@needs_mosquitto
def test_a_dead_broker_is_started_again(supervised: ControlCenter) -> None:
    broker = supervised.broker
    assert isinstance(broker, SupervisedMosquitto)
    assert supervised.mqtt is not None
    publish_and_count(supervised, 1.0, 60)
    first = broker.pid
    assert first is not None
    assert is_our_mosquitto(first, broker.files.conf)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: broker.pid != first and broker.alive(), 15, "a new broker")
    assert broker.restarts == 1
    assert first not in (broker.pid, None)
    assert broker.files.pid.read_text().strip() == str(broker.pid)
    wait_for(supervised.mqtt.connected.is_set, 20, "the ingest back on the new broker")
    publish_and_count(supervised, 1.1, 30)


@needs_mosquitto
def test_a_clean_stop_stops_the_broker(tmp_path: Path) -> None:
    center = start_center(tmp_path, broker="mosquitto", mqtt_port=free_port())
    broker = center.broker
    assert isinstance(broker, SupervisedMosquitto)
    pid = broker.pid
    assert pid is not None
    center.stop()
    assert not is_our_mosquitto(pid, broker.files.conf)
    assert not broker.files.pid.exists()
    mode = broker.files.root.stat().st_mode & 0o777
    assert mode == 0o700  # hashes of secrets and the queued readings: the server's user only


@needs_mosquitto
def test_a_second_start_adopts_the_running_broker(tmp_path: Path) -> None:
    """What a restart after SIGKILL does: a live Mosquitto on this configuration is adopted,
    not started twice (the port would be taken), even when CityOps died before writing its pid
    file (here: removed)."""
    port = free_port()
    binary = find_mosquitto()
    assert binary is not None
    first = SupervisedMosquitto(binary, tmp_path / "broker", None, port=port)
    first.start()
    first._stop.set()  # its CityOps is gone (killed): nobody watches the broker any more
    first.files.pid.unlink()
    pid = first.pid
    try:
        second = SupervisedMosquitto(binary, tmp_path / "broker", None, port=port)
        second.add_internal(second.internal_name("ingest"))
        second.start()
        assert second.adopted
        assert second.pid == first.pid
        assert second.internal_name("ingest") == first.internal_name("ingest")
        second.stop()
        assert pid is not None
        assert not is_our_mosquitto(pid, first.files.conf)
    finally:
        first.stop()


@needs_mosquitto
def test_another_configuration_replaces_the_running_broker(tmp_path: Path) -> None:
    binary = find_mosquitto()
    assert binary is not None
    first = SupervisedMosquitto(binary, tmp_path / "broker", None, port=free_port())
    first.start()
    first._stop.set()  # its CityOps is gone: nobody watches the broker any more
    old = first.pid
    second = SupervisedMosquitto(binary, tmp_path / "broker", None, port=free_port())
    try:
        second.start()
        assert not second.adopted
        assert second.pid != old
        assert old is not None
        assert not is_our_mosquitto(old, first.files.conf)
    finally:
        second.stop()
        first.stop()


def test_which_broker_each_mode_means() -> None:
    assert embedded_kind("auto", "/usr/sbin/mosquitto") == "mosquitto"
    assert embedded_kind("auto", None) == "amqtt"
    assert embedded_kind("amqtt", "/usr/sbin/mosquitto") == "amqtt"
    assert embedded_kind("mosquitto", "/usr/sbin/mosquitto") == "mosquitto"
    with pytest.raises(RuntimeError, match="no mosquitto binary"):
        embedded_kind("mosquitto", None)


def test_production_refuses_to_fall_back_to_amqtt_without_being_told(tmp_path: Path) -> None:
    """Mosquitto missing (CITYOPS_MOSQUITTO_BIN names nothing): `cityops serve` in production
    refuses in one line rather than run on amqtt, which loses acknowledged readings when
    killed; asked for by name, in development, or with Mosquitto found, it is no refusal."""
    missing = str(tmp_path / "no-such-mosquitto")
    done = run_serve(tmp_path, CITYOPS_MOSQUITTO_BIN=missing)
    assert done.returncode == 2, done.stdout + done.stderr
    refusal = done.stderr.strip().splitlines()[-1]
    assert refusal.startswith("refused: Mosquitto is not installed"), done.stderr
    assert "CITYOPS_BROKER=amqtt" in refusal
    assert not (tmp_path / "cityops.db").exists(), "refused before anything was started"
    production = Settings(env="production", mosquitto_bin=missing)
    assert broker_problem(production) is not None
    assert broker_problem(production.model_copy(update={"broker": "amqtt"})) is None
    assert broker_problem(production.model_copy(update={"env": "development"})) is None
    external = production.model_copy(update={"mqtt_url": "mqtts://i:x@broker:8883"})
    assert broker_problem(external) is None
    if find_mosquitto() is not None:
        assert broker_problem(production.model_copy(update={"mosquitto_bin": None})) is None


def test_the_credential_files(tmp_path: Path) -> None:
    """CityOps's own clients may do anything; anonymous clients only when allowed (the lines
    before the first ``user`` are theirs in Mosquitto's ACL file)."""
    passwd, acl = credential_files(
        [], {"cityops-ingest-1": "$7$1000$c2FsdA==$ZGlnZXN0"}, anonymous=False
    )
    assert passwd == "cityops-ingest-1:$7$1000$c2FsdA==$ZGlnZXN0\n"
    before_users = acl.split("\nuser ", 1)[0]
    assert "topic" not in before_users
    assert "user cityops-ingest-1\ntopic readwrite #\n" in acl
    _, open_acl = credential_files([], {}, anonymous=True)
    assert "topic readwrite #" in open_acl.split("\nuser ", 1)[0]
    files = BrokerFiles(tmp_path / "b")
    files.prepare()
    name = internal_username(files, "ingest")
    assert name == internal_username(files, "ingest") != internal_username(files, "video")
    assert files.internal.stat().st_mode & 0o777 == 0o600
    secret, digest = internal_secret(files, name)
    assert internal_secret(files, name) == (secret, digest)  # kept: no reload on adoption
    assert verify(secret, digest)
    assert files.secrets.stat().st_mode & 0o777 == 0o600


@needs_mosquitto
def test_a_credential_change_keeps_other_devices_connected(tmp_path: Path) -> None:
    """The reload after a credential change (SIGHUP) drops only clients whose credential is
    gone: a gateway publishing meanwhile stays connected and loses nothing."""
    center = start_center(tmp_path, broker="mosquitto", mqtt_port=free_port(), mqtt_anonymous=False)
    try:
        broker = center.broker
        assert isinstance(broker, SupervisedMosquitto)
        broker.refresh_s = 0.3
        gateway = issue(center.db, scope("gw", DeviceKind.GATEWAY, MUNI, "river-1"))
        dev = Device(LOOPBACK, center.settings.mqtt_port, *gateway)
        wait_for(lambda: logs_in(center.settings.mqtt_port, *gateway), 10, "the files synced")
        assert dev.connect()
        topic = f"cityops/{MUNI}/sensors/river-1/readings"
        for i in range(20):
            dev.publish(topic, reading(1.0 + i / 100, 120 - i))
            if i == 5:  # another device is made: new files, SIGHUP
                issue(center.db, scope("gw2", DeviceKind.GATEWAY, MUNI, "river-2"))
            time.sleep(0.1)
        wait_for(lambda: stored(center.db, MUNI, "river-1") == 20, 15, "all 20 readings")
        assert f"{MUNI}.gw2:" in broker.files.passwd.read_text()  # it was reloaded meanwhile
        assert dev.disconnects == 0
        dev.stop()
    finally:
        center.stop()
