"""bus/paho_speed.py: paho's packet decoder building SharedTableProperties decodes exactly what
it decodes with paho's own Properties, on the pinned paho, for every property a PUBLISH may
carry and for malformed properties."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cityops.bus import paho_speed
from cityops.bus.mqtt import make_client
from cityops.bus.paho_speed import CHECKED_PAHO, SharedTableProperties

V5 = MQTTProtocolVersion.MQTTv5


@contextmanager
def decoder_with(cls: type[Properties]) -> Iterator[None]:
    saved = getattr(_packet, "Properties")  # noqa: B009 (private to paho)
    setattr(_packet, "Properties", cls)  # noqa: B010
    try:
        yield
    finally:
        setattr(_packet, "Properties", saved)  # noqa: B010


def decode(cls: type[Properties], header: int, body: bytes) -> Any:
    """decode_publish's result (properties as their attributes) or the exception it raised."""
    with decoder_with(cls):
        try:
            got = _packet.decode_publish(header, body, V5)
        except MalformedPacket as err:
            return ("malformed", str(err))
    assert got.properties is not None
    assert type(got.properties) is cls
    return got._replace(properties=None), vars(got.properties), got.properties.json()  # type: ignore[no-untyped-call]


def publish_body(topic: bytes, mid: int, props: bytes, payload: bytes) -> bytes:
    return struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + props + payload


texts = st.text(max_size=20)
publish_properties = st.fixed_dictionaries(
    {},
    optional={
        "PayloadFormatIndicator": st.integers(0, 1),
        "MessageExpiryInterval": st.integers(0, 2**32 - 1),
        "ContentType": texts,
        "ResponseTopic": texts,
        "CorrelationData": st.binary(max_size=20),
        "SubscriptionIdentifier": st.lists(st.integers(1, 268_435_455), min_size=1, max_size=3),
        "TopicAlias": st.integers(1, 65_535),
        "UserProperty": st.lists(st.tuples(texts, texts), min_size=1, max_size=3),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    props=publish_properties,
    topic=st.binary(min_size=1, max_size=40),
    mid=st.integers(1, 65_535),
    payload=st.binary(max_size=64),
    header=st.sampled_from([0x32, 0x3A, 0x33, 0x34]),
)
def test_every_publish_decodes_as_with_pahos_own_properties(
    props: dict[str, Any], topic: bytes, mid: int, payload: bytes, header: int
) -> None:
    packed = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    for name, value in props.items():
        setattr(packed, name, value)
    body = publish_body(topic, mid, packed.pack(), payload)  # type: ignore[no-untyped-call]
    assert decode(SharedTableProperties, header, body) == decode(Properties, header, body)


@settings(max_examples=300, deadline=None)
@given(props=st.binary(max_size=40), payload=st.binary(max_size=16))
def test_malformed_properties_fail_or_decode_alike(props: bytes, payload: bytes) -> None:
    body = publish_body(b"cityops/x/readings", 7, props, payload)
    assert decode(SharedTableProperties, 0x32, body) == decode(Properties, 0x32, body)


def test_a_reused_object_is_cleared_as_paho_clears_it() -> None:
    packed = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    packed.UserProperty = ("a", "1")
    packed.ContentType = "text/plain"
    raw = packed.pack()  # type: ignore[no-untyped-call]
    ours = SharedTableProperties(PacketTypes.PUBLISH)
    ours.unpack(raw)  # type: ignore[no-untyped-call]
    ours.unpack(b"\x00")  # type: ignore[no-untyped-call]
    theirs = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    theirs.unpack(raw)  # type: ignore[no-untyped-call]
    theirs.unpack(b"\x00")  # type: ignore[no-untyped-call]
    assert vars(ours) == vars(theirs)
    assert not hasattr(ours, "UserProperty")


def test_the_pinned_paho_is_the_checked_one_and_the_ingest_client_installs_it() -> None:
    """Fails on a paho upgrade: look at paho.mqtt._packet and Properties again, then move
    CHECKED_PAHO."""
    assert paho.mqtt.__version__ == CHECKED_PAHO
    make_client("paho-speed-test", persistent=False)
    assert getattr(_packet, "Properties") is SharedTableProperties  # noqa: B009


def test_another_paho_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_packet, "Properties", Properties)
    monkeypatch.setitem(paho_speed._state, "installed", False)
    monkeypatch.setitem(paho_speed._state, "refused", "")
    monkeypatch.setattr(paho.mqtt, "__version__", "9.9.9")
    assert paho_speed.install() is False
    assert getattr(_packet, "Properties") is Properties  # noqa: B009
    assert "paho-mqtt 9.9.9 installed, 2.2.0 checked" in caplog.text
