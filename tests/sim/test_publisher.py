"""The MQTT publisher against a real Mosquitto broker (the ``mosquitto`` fixture)."""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import LonLat
from cityops.domain.observations import Event, EventSource, Reading
from cityops.mqtt_url import MqttTarget, parse_mqtt_url
from cityops.sim.clock import ManualWallClock, SimClock
from cityops.sim.publisher import MqttPublisher, PublisherError, iso_ts
from cityops.sim.runner import Simulator
from cityops.sim.scenarios import accident

from .conftest import NOW

T0 = datetime(2026, 11, 22, 8, 15, tzinfo=UTC)


class Broker(Protocol):
    host: str
    port: int

    @property
    def url(self) -> str: ...


def test_parse_mqtt_url() -> None:
    assert parse_mqtt_url("mqtt://localhost") == MqttTarget("localhost", 1883)
    assert parse_mqtt_url("mqtt://u%40x:p%3Aw@broker:1884") == MqttTarget(
        "broker", 1884, "u@x", "p:w"
    )
    assert parse_mqtt_url("mqtts://broker") == MqttTarget("broker", 8883, tls=True)
    for bad in ("http://broker", "mqtt://", "mqtt://broker:99999"):
        with pytest.raises(ValueError, match="URL"):
            parse_mqtt_url(bad)
    assert iso_ts(T0) == "2026-11-22T08:15:00Z"
    assert iso_ts(T0 + timedelta(microseconds=250_000)) == "2026-11-22T08:15:00.250Z"


def test_connecting_to_nothing_fails_clearly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PublisherError, match="cannot connect"):
        MqttPublisher(f"mqtt://127.0.0.1:{port}").connect(timeout=2.0)


class Subscriber:
    """Collects every message under ``cityops/<municipality>/#``."""

    def __init__(self, broker: Broker, municipality: str) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self._ready = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
        client.on_connect = lambda c, *_: c.subscribe(f"cityops/{municipality}/#", qos=1)
        client.on_subscribe = lambda *_: self._ready.set()
        client.on_message = self._on_message
        client.connect(broker.host, broker.port)
        client.loop_start()
        assert self._ready.wait(10.0), "subscription not acknowledged"
        self.client = client

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((msg.topic, json.loads(msg.payload)))
            self._cond.notify_all()

    def wait_for(self, done: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done():
                assert time.monotonic() < deadline, f"only {len(self.messages)} messages"
                self._cond.wait(0.2)

    def readings(self) -> list[dict[str, Any]]:
        return [
            r for topic, p in self.messages if topic.endswith("/readings") for r in p["readings"]
        ]

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        return [(t, e) for t, p in self.messages if t.endswith("/events") for e in p["events"]]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(mosquitto: Broker) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto, "pubtest")
    yield sub
    sub.close()


@pytest.mark.mosquitto
def test_readings_and_events_arrive_in_the_documented_payloads(
    mosquitto: Broker, subscriber: Subscriber
) -> None:
    readings = [
        Reading("pubtest", f"s-{i % 7}", T0 + timedelta(seconds=i), float(i)) for i in range(2500)
    ]
    event = Event(
        "pubtest",
        "ev-1",
        EventSource.CAMERA,
        "cam-07",
        "person",
        T0,
        position=LonLat(25.39, 42.62),
        zone="school-yard",
        confidence=0.87,
        attributes={"track": "42"},
    )
    with MqttPublisher(mosquitto.url, batch_size=1000) as pub:
        pub.publish_readings("pubtest", readings)
        pub.publish_events("pubtest", [event])
        pub.flush()
        assert pub.pending == 0
        assert pub.stats.messages == pub.stats.acked == 4
    subscriber.wait_for(lambda: len(subscriber.messages) == 4)
    got = subscriber.readings()
    assert len(got) == 2500
    assert got[0] == {"sensor": "s-0", "value": 0.0, "ts": "2026-11-22T08:15:00Z"}
    ((topic, payload),) = subscriber.events()
    assert topic == "cityops/pubtest/cameras/cam-07/events"
    assert payload == {
        "id": "ev-1",
        "kind": "person",
        "ts": "2026-11-22T08:15:00Z",
        "zone": "school-yard",
        "confidence": 0.87,
        "lon": 25.39,
        "lat": 42.62,
        "attributes": {"track": "42"},
    }


@pytest.mark.mosquitto
def test_the_simulator_publishes_everything_it_produces(
    mosquitto: Broker, config: MunicipalityConfig
) -> None:
    sub = Subscriber(mosquitto, config.municipality.id)
    try:
        wall = ManualWallClock(NOW)
        clock = SimClock(backfill=timedelta(hours=1), speed=math.inf, wall=wall)
        with MqttPublisher(mosquitto.url) as pub:
            scenarios = [accident(config, NOW - timedelta(minutes=20))]
            sim = Simulator(config, pub, clock, scenarios)
            sim.step()
            assert pub.pending == 0
        sub.wait_for(lambda: len(sub.readings()) == sim.readings_published)
        sub.wait_for(lambda: len(sub.events()) == sim.events_published == 9)
        assert {e["kind"] for _, e in sub.events()} == {
            "collision",
            "stopped_vehicle",
            "person",
            "crowd",
        }
    finally:
        sub.close()


class FlakyProxy:
    """A TCP proxy to the broker whose connections can be cut, and new ones refused."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepting = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()


@pytest.mark.mosquitto
def test_the_publisher_reconnects_and_delivers_what_was_published_meanwhile(
    mosquitto: Broker, subscriber: Subscriber
) -> None:
    proxy = FlakyProxy((mosquitto.host, mosquitto.port))
    try:
        pub = MqttPublisher(f"mqtt://127.0.0.1:{proxy.port}", batch_size=10).connect()

        def batch(start: int) -> list[Reading]:
            return [
                Reading("pubtest", "gauge", T0 + timedelta(minutes=i), float(i))
                for i in range(start, start + 50)
            ]

        pub.publish_readings("pubtest", batch(0))
        pub.flush()
        proxy.accepting = False
        proxy.cut()
        deadline = time.monotonic() + 10
        while pub.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pub.connected
        pub.publish_readings("pubtest", batch(50))  # queued while the broker is unreachable
        assert pub.pending == 5
        proxy.accepting = True
        pub.flush(timeout=30.0)
        assert pub.connected
        assert pub.stats.connects >= 2
        pub.close()
        subscriber.wait_for(
            lambda: {r["value"] for r in subscriber.readings()} >= set(map(float, range(100)))
        )
    finally:
        proxy.close()
