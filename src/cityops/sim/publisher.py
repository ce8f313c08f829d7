"""Publishing readings and events over MQTT the way real devices and gateways do (QoS 1).

``MqttPublisher`` is a small paho-mqtt 2.x client: it connects from a URL
``mqtt://[user:pass@]host[:port]`` (``mqtts://`` for TLS), keeps at most ``max_inflight`` QoS 1
messages unacknowledged on the wire and at most ``max_pending`` in its own queue (publishing blocks
beyond that), and reconnects by itself when the connection drops; paho resends the messages whose
PUBACK had not arrived. ``flush()`` returns once the broker has acknowledged everything.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cityops.domain.observations import Event, EventSource, Reading
from cityops.mqtt_url import parse_mqtt_url

DEFAULT_BATCH = 1000
"""Readings per gateway message: about 70 kB, well under the ingest's 256 KiB payload limit and
its 5000-reading batch limit."""


class PublisherError(RuntimeError):
    """The broker could not be reached, or did not acknowledge in time."""


class Publisher(Protocol):
    """Where the simulator and the replay send what they produce."""

    def publish_readings(self, municipality: str, readings: Sequence[Reading]) -> None: ...

    def publish_events(self, municipality: str, events: Sequence[Event]) -> None: ...

    def flush(self, timeout: float | None = None) -> None:
        """Return once everything published so far has been acknowledged."""

    def close(self) -> None: ...


def iso_ts(ts: datetime) -> str:
    """``2026-11-22T08:15:00Z`` (milliseconds only when there are some)."""
    utc = ts.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "milliseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def readings_topic(municipality: str) -> str:
    return f"cityops/{municipality}/readings"


def events_topic(municipality: str, event: Event) -> str:
    if event.source is EventSource.CAMERA:
        return f"cityops/{municipality}/cameras/{event.source_id}/events"
    return f"cityops/{municipality}/events/{event.source_id}"


def reading_payload(readings: Sequence[Reading]) -> bytes:
    """The gateway batch ``{"readings": [{"sensor", "value", "ts"}, ...]}``."""
    items = [{"sensor": r.sensor_id, "value": r.value, "ts": iso_ts(r.ts)} for r in readings]
    return json.dumps({"readings": items}, separators=(",", ":")).encode()


def event_dict(event: Event) -> dict[str, Any]:
    item: dict[str, Any] = {"id": event.event_id, "kind": event.kind, "ts": iso_ts(event.ts)}
    if event.zone is not None:
        item["zone"] = event.zone
    if event.confidence is not None:
        item["confidence"] = event.confidence
    if event.position is not None:
        item["lon"] = event.position.lon
        item["lat"] = event.position.lat
    if event.attributes:
        item["attributes"] = dict(event.attributes)
    return item


def event_payload(events: Sequence[Event]) -> bytes:
    items = [event_dict(e) for e in events]
    return json.dumps({"events": items}, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(slots=True)
class PublisherStats:
    messages: int = 0
    acked: int = 0
    readings: int = 0
    events: int = 0
    connects: int = 0
    disconnects: int = 0


class MqttPublisher:
    """A QoS 1 publisher that waits for PUBACKs and survives broker restarts."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        max_inflight: int = 1000,
        max_pending: int = 5000,
        ack_timeout_s: float = 120.0,
        keepalive_s: int = 30,
    ) -> None:
        if batch_size < 1 or max_pending < 1:
            raise ValueError("batch_size and max_pending must be positive")
        self.target = parse_mqtt_url(url)
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.ack_timeout_s = ack_timeout_s
        self.keepalive_s = keepalive_s
        self.stats = PublisherStats()
        self._cond = threading.Condition()
        self._pending: set[int] = set()
        self._acked_early: set[int] = set()
        self._connected = False
        self._started = False
        self._refused: str | None = None
        cid = client_id or f"cityops-sim-{uuid.uuid4().hex[:10]}"
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid)
        client.max_inflight_messages_set(max_inflight)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        if self.target.username is not None:
            client.username_pw_set(self.target.username, self.target.password)
        if self.target.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client

    # lifecycle -----------------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> MqttPublisher:
        """Connect and start the network thread; PublisherError if no broker answers."""
        if self._started:
            return self
        host, port = self.target.host, self.target.port
        try:
            self._client.connect(host, port, keepalive=self.keepalive_s)
        except OSError as err:
            raise PublisherError(f"cannot connect to MQTT broker {host}:{port}: {err}") from err
        self._client.loop_start()
        self._started = True
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._connected and self._refused is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if not self._connected:
                why = self._refused or "no answer"
                self.close()
                raise PublisherError(f"MQTT broker {host}:{port} refused the connection: {why}")
        return self

    def close(self) -> None:
        if self._started:
            self._client.disconnect()
            self._client.loop_stop()
            self._started = False

    def __enter__(self) -> MqttPublisher:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.flush()
        finally:
            self.close()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    # publishing ----------------------------------------------------------------------------

    def publish_readings(self, municipality: str, readings: Sequence[Reading]) -> None:
        for i in range(0, len(readings), self.batch_size):
            batch = readings[i : i + self.batch_size]
            self.publish_raw(readings_topic(municipality), reading_payload(batch))
            self.stats.readings += len(batch)

    def publish_events(self, municipality: str, events: Sequence[Event]) -> None:
        by_topic: dict[str, list[Event]] = {}
        for event in events:
            by_topic.setdefault(events_topic(municipality, event), []).append(event)
        for topic, group in by_topic.items():
            for i in range(0, len(group), self.batch_size):
                self.publish_raw(topic, event_payload(group[i : i + self.batch_size]))
            self.stats.events += len(group)

    def publish_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish one QoS 1 message, blocking while ``max_pending`` are unacknowledged."""
        if not self._started:
            self.connect()
        self._wait(lambda: len(self._pending) < self.max_pending, "publish window")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            raise PublisherError("paho's outgoing queue is full")
        # rc MQTT_ERR_NO_CONN is fine: the message is queued and sent after reconnecting.
        with self._cond:
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
            else:
                self._pending.add(info.mid)
        self.stats.messages += 1

    def flush(self, timeout: float | None = None) -> None:
        self._wait(lambda: not self._pending, "acknowledgements", timeout)

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        limit = self.ack_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + limit
        with self._cond:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PublisherError(
                        f"MQTT broker {self.target.host}:{self.target.port}: timed out waiting for"
                        f" {what} ({len(self._pending)} messages unacknowledged)"
                    )
                self._cond.wait(min(left, 1.0))

    # paho callbacks (network thread) -------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._cond:
            if reason.is_failure:
                self._refused = str(reason)
            else:
                self._connected = True
                self.stats.connects += 1
            self._cond.notify_all()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._cond:
            self._connected = False
            self.stats.disconnects += 1
            self._cond.notify_all()

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        with self._cond:
            if mid in self._pending:
                self._pending.discard(mid)
            else:
                self._acked_early.add(mid)
            self.stats.acked += 1
            self._cond.notify_all()


class RecordingPublisher:
    """Keeps what it is given (for tests, and for dry runs)."""

    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.events: list[Event] = []
        self.flushes = 0

    def publish_readings(self, municipality: str, readings: Sequence[Reading]) -> None:
        self.readings.extend(readings)

    def publish_events(self, municipality: str, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def flush(self, timeout: float | None = None) -> None:
        self.flushes += 1

    def close(self) -> None:
        return None
