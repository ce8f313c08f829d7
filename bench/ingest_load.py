"""Load for bench/ingest.py: a paho publisher at QoS 1, the readings it sends, and the count of
what the server stored.

Every timed stream is built by :func:`readings` and sent by :func:`publish_all`, whether
CityOps or the do-nothing subscriber receives it: the same payloads, the same publisher, the
same pacing. Each stream's readings carry timestamps in a window of their own (``days_back``),
so what one measurement stored is counted apart from the others'.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, and_, func, select

from bench.ingest_server import MUNI, SENSORS
from cityops.mqtt_url import parse_mqtt_url
from cityops.store import tables as t
from cityops.store.db import make_engine

INFLIGHT = 1_000
"""QoS 1 messages the publisher may have sent and not had acknowledged (paho's
``max_inflight_messages``): :meth:`Publisher.publish` waits for PUBACKs before sending more, so
nothing queues in paho and its memory stays bounded whatever the stream's length."""

PUMP_EVERY = 100
"""Every this many publishes the publisher reads the PUBACKs waiting on its socket."""


class Publisher:
    """A paho client (MQTT 3.1.1, up to :data:`INFLIGHT` messages in flight) that counts PUBACKs,
    driven by the thread that publishes: no network thread.

    With paho's own network thread (``loop_start``) each publish wakes that thread through a
    socket pair and every PUBACK passes a lock and a condition between the two threads: measured
    alone against Mosquitto (100,000 messages, QoS 1, 1,000 in flight), that publisher sent
    6,200-6,700 messages/s at 160-170 µs of CPU per message, below what the do-nothing subscriber
    and CityOps can take, so it, not they, set the "ceiling". Driven from one thread, paho writes
    each PUBLISH at once from :meth:`publish` and reads the waiting PUBACKs every
    :data:`PUMP_EVERY` messages: 25,000-27,000 messages/s at 37-40 µs (docs/BENCHMARKS.md).

    One thread at a time may use a publisher. Between publishes, wait with :meth:`pump` rather
    than ``time.sleep``: it reads the PUBACKs (and keeps the connection alive) while it waits.
    """

    def __init__(self, mqtt_url: str, timeout: float = 30.0) -> None:
        target = parse_mqtt_url(mqtt_url)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}"
        )
        self.client.max_inflight_messages_set(INFLIGHT)
        self.client.username_pw_set(target.username, target.password)
        self.client.on_publish = self._on_publish
        self.sent = 0
        self.acked = 0
        self.client.connect(target.host, target.port, keepalive=60)
        deadline = time.monotonic() + timeout
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench publisher: no CONNACK from {target.host}:{target.port}")
            self._loop(0.05)

    def _on_publish(self, *_args: Any) -> None:
        self.acked += 1

    def _loop(self, timeout: float) -> None:
        rc = self.client.loop(timeout)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"bench publisher: connection lost ({mqtt.error_string(rc)})")

    def publish(self, topic: str, payload: str) -> None:
        """Send one QoS 1 message now (after waiting for room in the window)."""
        while self.sent - self.acked >= INFLIGHT:
            self._loop(0.01)
        self.client.publish(topic, payload, qos=1)
        self.sent += 1
        if self.sent % PUMP_EVERY == 0:
            self._loop(0.0)

    def pump(self, seconds: float) -> None:
        """Wait ``seconds`` while reading PUBACKs and keeping the connection alive."""
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            self._loop(left)

    def wait_acked(self, timeout: float = 300.0) -> bool:
        """Whether every message sent was acknowledged within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.acked < self.sent and time.monotonic() < deadline:
            self._loop(0.05)
        return self.acked >= self.sent

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop(0.1)


@dataclass(frozen=True)
class Window:
    """The timestamps of one stream's readings: [start, end)."""

    start: datetime
    end: datetime


def window(total: int, days_back: float, sensors: int = SENSORS) -> Window:
    """Where :func:`readings` puts ``total`` readings: one second apart per sensor."""
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_back)
    return Window(base, base + timedelta(seconds=total // sensors + 1))


def readings(
    total: int, batch: int, win: Window, sensors: int = SENSORS
) -> Iterator[list[dict[str, object]]]:
    """``total`` ordinary readings (1.0-1.6, below every threshold) in messages of ``batch``,
    round-robin over the sensors."""
    base = int(win.start.timestamp())
    n = 0
    while n < total:
        yield [
            {
                "sensor": f"s{(n + k) % sensors}",
                "value": 1.0 + ((n + k) % 7) * 0.1,
                "ts": base + (n + k) // sensors,
            }
            for k in range(min(batch, total - n))
        ]
        n += batch


def publish_all(pub: Publisher, topic: str, messages: Iterator[list[dict[str, object]]]) -> int:
    """Publish every message as ``{"readings": [...]}`` on ``topic``; the number of readings."""
    n = 0
    for rs in messages:
        pub.publish(topic, json.dumps({"readings": rs}))
        n += len(rs)
    return n


def count_window(db: Engine, win: Window, municipality: str | None = MUNI) -> int:
    """Readings stored with a timestamp in ``win`` (of ``municipality``, or of all)."""
    cond = and_(t.readings.c.ts >= win.start, t.readings.c.ts < win.end)
    if municipality is not None:
        cond = and_(cond, t.readings.c.municipality == municipality)
    with db.connect() as conn:
        q = select(func.count()).select_from(t.readings).where(cond)
        return int(conn.execute(q).scalar_one())


class Accepted:
    """Readings the server has committed since it started, from its /metrics counter: cheap to
    ask every 50 ms (a count(*) over millions of rows is not, and would load the machine)."""

    def __init__(self, http_port: int, token: str) -> None:
        self.url = f"http://127.0.0.1:{http_port}/api/v1/metrics"
        self.headers = {"Authorization": f"Bearer {token}"}

    def snapshot(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(self.url, headers=self.headers, timeout=10).json()
        return data

    def __call__(self, patience_s: float = 60.0) -> int:
        """The counter; asked again for up to ``patience_s`` while the server does not answer
        (busy), then the error."""
        deadline = time.monotonic() + patience_s
        while True:
            try:
                return int(self.snapshot()["items_accepted"])
            except (httpx.HTTPError, KeyError, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def or_zero(self) -> int:
        """The counter, or 0 while the server is not up yet (it counts from its start)."""
        try:
            return int(self.snapshot()["items_accepted"])
        except (httpx.HTTPError, KeyError, ValueError):
            return 0


def wait_for(
    progress: Callable[[], int], target: int, *, poll: float = 0.05, stall_s: float = 60.0
) -> tuple[int, bool]:
    """Poll ``progress`` until it reaches ``target`` or stops moving for ``stall_s``: (the last
    value, whether it was reached)."""
    last, moved = progress(), time.monotonic()
    while last < target:
        time.sleep(poll)
        now = progress()
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > stall_s:
            return last, False
    return last, True


def throughput(
    db_url: str,
    mqtt_url: str,
    total: int,
    batch: int,
    days_back: float,
    accepted: Accepted | None = None,
) -> dict[str, Any]:
    """Publish ``total`` readings in messages of ``batch``; time from the first publish until
    all are stored. Progress from the server's counter when ``accepted`` is given (else a
    count in the database every 50 ms); what was stored is counted in the database.
    ``complete`` is False when progress stopped for a minute short of ``total`` (the time then
    includes that minute)."""
    db = make_engine(db_url)
    win = window(total, days_back)
    if accepted is None:
        before = 0

        def progress() -> int:
            return count_window(db, win)
    else:
        before = accepted()
        progress = accepted.__call__
    pub = Publisher(mqtt_url)
    start = time.perf_counter()
    publish_all(pub, f"cityops/{MUNI}/readings", readings(total, batch, win))
    pub.wait_acked()
    published_at = time.perf_counter()
    _, complete = wait_for(lambda: progress() - before, total)
    elapsed = time.perf_counter() - start
    pub.close()
    stored = count_window(db, win)
    db.dispose()
    return {
        "readings": total,
        "per_message": batch,
        "complete": complete,
        "stored": stored,
        "lost": total - stored,
        "publish_s": round(published_at - start, 3),
        "seconds": round(elapsed, 3),
        "readings_per_s": round(min(stored, total) / elapsed),
    }
