"""The test town with location requests configured (``sharing.requests``), and what the
location-request tests share."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, func, select

from cityops.store import tables as t
from tests.town import MUNI, TOWN_YAML

REQUESTS = """\
  requests:
    within_km: 10
    agencies:
      - {agency: police, types: [robbery], for: 30min, radius_m: 250}
      - {agency: traffic-police, types: [traffic-accident], sector: transport}
"""
"""Appended inside the test town's ``sharing:`` block (the file's last section)."""
BOUNDARY = """\
public_warnings:
  boundary: [[25.38, 42.61], [25.40, 42.61], [25.40, 42.63], [25.38, 42.63]]
"""
"""A small square around the crossing: used when a test wants the outline, not the radius."""

CROSSING = {"lon": 25.3925, "lat": 42.6194}
"""Seen by cam-a and cam-b (tests/fixtures/testtown.yaml)."""
FAR = {"lon": 25.6, "lat": 42.6194}
"""About 17 km east of the centre: outside the 10 km of ``within_km``."""
URL = f"/api/v1/m/{MUNI}/agency/requests"


def requests_yaml(directory: Path, *, boundary: bool = False) -> Path:
    """The test town (same id) with location requests configured, as a newer configuration:
    :data:`REQUESTS` goes at the end of its ``sharing:`` block, wherever that is."""
    lines = TOWN_YAML.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("sharing:\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "#", "\n")),
        len(lines),
    )
    text = "".join(lines[:end]) + REQUESTS + "".join(lines[end:])
    path = directory / "testtown-requests.yaml"
    path.write_text(text + (BOUNDARY if boundary else ""), encoding="utf-8")
    return path


def body(case: str = "112-2026-0001", **fields: Any) -> dict[str, Any]:
    return {"case": case, "type": "robbery", **CROSSING, **fields}


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class AgencySystem:
    """An agency's MQTT client (MQTT 5 unless ``v5`` is False), recording what it receives."""

    host: str
    port: int
    username: str
    password: str
    v5: bool = True
    received: list[tuple[str, dict[str, Any], bytes | None]] = field(default_factory=list)
    granted: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        cid = f"agency-{uuid.uuid4().hex[:8]}"  # Mosquitto replaces it with the username
        if self.v5:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, cid, protocol=mqtt.MQTTv5)
        else:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, cid)
        c.username_pw_set(self.username, self.password)
        c.on_message = self._message
        c.on_subscribe = lambda _c, _u, _m, rcs, _p: self.granted.append([r.value for r in rcs])
        self.client = c
        self._lock = threading.Lock()

    def _message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        with self._lock:
            self.received.append((msg.topic, json.loads(msg.payload), correlation))

    def start(self) -> AgencySystem:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        return self

    def subscribe(self, topic: str) -> list[int]:
        before = len(self.granted)
        self.client.subscribe(topic, qos=1)
        wait_for(lambda: len(self.granted) > before, 10, f"SUBACK for {topic}")
        return self.granted[before]

    def request(
        self, topic: str, payload: dict[str, Any], *, reply: str | None = None, corr: bytes = b""
    ) -> None:
        props = None
        if reply is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.ResponseTopic = reply
            props.CorrelationData = corr
        info = self.client.publish(topic, json.dumps(payload), qos=1, properties=props)
        info.wait_for_publish(10)

    def answer(self, topic: str, timeout: float = 10.0) -> tuple[dict[str, Any], bytes | None]:
        wait_for(
            lambda: any(r[0] == topic for r in self.received), timeout, f"an answer on {topic}"
        )
        with self._lock:
            _, doc, correlation = next(r for r in self.received if r[0] == topic)
        return doc, correlation

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def incidents_of_case(db: Engine, case: str) -> int:
    """How many incidents a case number has (of any agency)."""
    with db.connect() as conn:
        query = select(func.count()).where(t.incidents.c.dedup_key.like(f"%|{case}"))
        return int(conn.execute(query).scalar_one())
