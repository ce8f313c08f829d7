"""The probe's permanent outage, through a real Mosquitto: a message with 1e400 was never
acknowledged, ended the ingest thread, and came back after every restart. Now it is rejected,
acknowledged once, and the readings after it are stored; a restart brings nothing back."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from cityops.app import ControlCenter
from cityops.store import tables as t
from tests.e2e.test_mqtt_mosquitto import publisher, wait_for
from tests.harness import MosquittoServer
from tests.town import start_center

pytestmark = pytest.mark.mosquitto

TOPIC = "cityops/testtown/sensors/river-1/readings"


def _count(center: ControlCenter, table: Table) -> int:
    with center.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_poison_reading_is_acknowledged_once_and_ingest_goes_on(
    tmp_path: Path, mosquitto: MosquittoServer
) -> None:
    client_id = f"cityops-poison-{uuid.uuid4().hex[:8]}"
    center = start_center(tmp_path, mqtt_url=mosquitto.url, mqtt_client_id=client_id)
    client = publisher(mosquitto)
    try:
        for payload in (b'{"value": 1e400}', b'{"value": 1' + b"0" * 400 + b"}"):
            client.publish(TOPIC, payload, qos=1).wait_for_publish(10)
        good = b'{"value": 1.5, "ts": "%s"}' % datetime.now(UTC).isoformat().encode()
        client.publish(TOPIC, good, qos=1).wait_for_publish(10)
        wait_for(lambda: _count(center, t.readings) == 1, 10, "the reading after the poison")
        assert _count(center, t.dead_letters) == 2
        assert center.pipeline is not None
        assert center.pipeline.alive
    finally:
        center.stop()
    again = start_center(tmp_path, mqtt_url=mosquitto.url, mqtt_client_id=client_id)
    try:
        time.sleep(1.0)  # what the broker would redeliver arrives at once on reconnect
        assert _count(again, t.dead_letters) == 2
        assert _count(again, t.readings) == 1
    finally:
        again.stop()
        client.loop_stop()
