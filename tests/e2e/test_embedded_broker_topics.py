"""A topic that is not UTF-8, published to the embedded broker by a raw MQTT client.

amqtt 0.12 acknowledges such a PUBLISH and renames the topic to the text of its Python bytes
literal (``b'cityops/...'``); CityOps subscribes to those names on the embedded broker so the
message is counted and dead-lettered instead of vanishing."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cityops.app import ControlCenter
from cityops.store import tables as t
from tests.harness import free_port
from tests.town import start_center


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[ControlCenter]:
    cc = start_center(tmp_path, mqtt_port=free_port())
    yield cc
    cc.stop()


def _packet(kind: int, body: bytes) -> bytes:
    size, length = len(body), b""
    while True:  # MQTT's variable-length "remaining length"
        byte, size = size % 128, size // 128
        length += bytes([byte | (0x80 if size else 0)])
        if not size:
            return bytes([kind]) + length + body


def _text(raw: bytes) -> bytes:
    return struct.pack("!H", len(raw)) + raw


def publish_raw(port: int, topic: bytes, payload: bytes) -> bytes:
    """CONNECT, PUBLISH at QoS 1 with ``topic`` as given (no UTF-8 check), wait for PUBACK."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        connect = _text(b"MQTT") + bytes([4, 0x02]) + struct.pack("!H", 30) + _text(b"raw-pub")
        sock.sendall(_packet(0x10, connect))
        assert sock.recv(4)[0] == 0x20  # CONNACK
        sock.sendall(_packet(0x32, _text(topic) + struct.pack("!H", 7) + payload))
        return sock.recv(4)


@pytest.mark.timeout(60)
def test_a_topic_that_is_not_utf8_is_dead_lettered_not_dropped(embedded: ControlCenter) -> None:
    ack = publish_raw(
        embedded.settings.mqtt_port, b"cityops/testtown/sensors/\xff/readings", b'{"value": 1}'
    )
    assert ack[:1] == b"\x40"  # PUBACK: the broker took it
    deadline = time.monotonic() + 10
    letters: list[str] = []
    while not letters and time.monotonic() < deadline:
        with embedded.db.connect() as conn:
            c = t.dead_letters.c
            letters = list(conn.execute(select(c.reason_code)).scalars())
        time.sleep(0.05)
    assert letters == ["topic_not_utf8"]
    assert embedded.pipeline is not None
    rejected = embedded.pipeline.metrics.snapshot()["rejected_by_reason"]
    assert rejected == {"topic_not_utf8": 1}
