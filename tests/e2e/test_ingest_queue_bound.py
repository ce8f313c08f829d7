"""The ingest queue is bounded whatever the broker sends: a persistent session resumed with
thousands of readings queued for it (Mosquitto was measured sending tens of thousands past
Receive Maximum at such a resumption, docs/BENCHMARKS.md) never holds more than
``QUEUE_LIMIT`` messages between the network thread and the database, and every reading is
stored once."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cityops.bus import mqtt as bus_mqtt
from tests.e2e.stored_readings import stored_times
from tests.harness import MosquittoServer
from tests.town import MUNI, start_center

pytestmark = pytest.mark.mosquitto

SENSOR = "river-2"
QUEUED = 3000
LIMIT = 100


def test_a_resumed_backlog_is_taken_no_faster_than_it_is_stored(
    tmp_path: Path, mosquitto: MosquittoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_id = f"bound-{uuid.uuid4().hex[:8]}"
    center = start_center(tmp_path, mqtt_url=mosquitto.url, mqtt_client_id=client_id)
    center.stop()  # the session stays with the broker, which queues for it from here on
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    pub.max_inflight_messages_set(500)
    pub.connect(mosquitto.host, mosquitto.port)
    pub.loop_start()
    base = datetime.now(UTC) - timedelta(days=3)
    infos = [
        pub.publish(
            f"cityops/{MUNI}/sensors/{SENSOR}/readings",
            json.dumps({"value": 1.0, "ts": (base + timedelta(seconds=i)).isoformat()}),
            qos=1,
        )
        for i in range(QUEUED)
    ]
    for info in infos:
        info.wait_for_publish(30)
    pub.loop_stop()
    pub.disconnect()

    monkeypatch.setattr(bus_mqtt, "QUEUE_LIMIT", LIMIT)
    center = start_center(tmp_path, mqtt_url=mosquitto.url, mqtt_client_id=client_id)
    pipeline = center.pipeline
    assert pipeline is not None
    db_url = center.settings.db_url
    peak, done = 0, threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, pipeline.backlog)
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 120
        while len(stored_times(db_url, MUNI, SENSOR)) < QUEUED and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        done.set()
        watcher.join()
        center.stop()
    stored = stored_times(db_url, MUNI, SENSOR)  # unique per sensor and time: each once
    assert len(stored) == QUEUED
    assert 0 < peak <= LIMIT, peak
