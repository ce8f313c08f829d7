"""A batch's PUBACKs written together (bus/mqtt_acks.py) acknowledge exactly the messages named,
on a real Mosquitto: the broker redelivers the others to the persistent session, none twice."""

from __future__ import annotations

import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.client import PUBACK

from cityops.bus.mqtt import connect, make_client
from cityops.bus.mqtt_acks import BatchedAcks, pubacks
from cityops.mqtt_url import parse_mqtt_url
from tests.harness import MosquittoServer


@given(st.lists(st.integers(min_value=1, max_value=65535), max_size=50))
def test_pubacks_are_one_packet_per_message_id(mids: list[int]) -> None:
    data = pubacks(mids)
    packets = [data[i : i + 4] for i in range(0, len(data), 4)]
    assert [(p[0], p[1], int.from_bytes(p[2:], "big")) for p in packets] == [
        (PUBACK, 2, mid) for mid in mids
    ]


class _Session:
    """A persistent manual-ack session as the ingest opens it, recording what arrives."""

    def __init__(self, server: MosquittoServer, client_id: str, topic: str) -> None:
        self.client = make_client(client_id, persistent=True, manual_ack=True)
        self.got: dict[int, int] = {}
        """payload (the message's number) -> mid"""
        self.lock = threading.Lock()
        self.subscribed = threading.Event()

        def on_connect(c: mqtt.Client, *_: object) -> None:
            c.subscribe(topic, qos=1)

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            with self.lock:
                self.got[int(msg.payload)] = msg.mid

        self.client.on_connect = on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = on_message
        connect(self.client, parse_mqtt_url(server.url), persistent=True)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.got) < count and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.mosquitto
def test_only_the_flushed_messages_are_acknowledged(mosquitto: MosquittoServer) -> None:
    topic = f"test/acks/{uuid.uuid4().hex[:8]}"
    client_id = f"test-acks-{uuid.uuid4().hex[:8]}"
    first = _Session(mosquitto, client_id, topic)
    publisher = make_client(f"test-pub-{uuid.uuid4().hex[:8]}", persistent=False)
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    infos = [publisher.publish(topic, str(i), qos=1) for i in range(40)]
    for info in infos:
        info.wait_for_publish(10)
    first.wait_for(40)
    assert sorted(first.got) == list(range(40))

    acks = BatchedAcks(first.client)
    for number in range(25):
        acks.add(first.got[number])
    acks.flush()
    acks.flush()  # nothing left: writes nothing
    time.sleep(0.5)  # the PUBACKs leave on paho's network thread
    first.close()

    again = _Session(mosquitto, client_id, topic)
    again.wait_for(15)
    time.sleep(0.5)  # anything acknowledged would come back by now
    again.close()
    publisher.disconnect()
    publisher.loop_stop()
    assert sorted(again.got) == list(range(25, 40))
