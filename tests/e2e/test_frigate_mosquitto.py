"""Frigate plugged in over a real Mosquitto: the running server takes up a newly imported
``frigate:`` section, subscribes to ``frigate/events``, stores a Frigate person as a camera event
(once, however often it arrives) and dead-letters a camera it does not know."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cityops.app import import_config
from cityops.store import tables as t
from tests.e2e.test_mqtt_mosquitto import publisher, wait_for
from tests.harness import MosquittoServer
from tests.ingest.test_frigate import frigate_object, message
from tests.town import TOWN_YAML, api_client, start_center

pytestmark = pytest.mark.mosquitto


def test_frigate_events_over_mosquitto(tmp_path: Path, mosquitto: MosquittoServer) -> None:
    center = start_center(
        tmp_path / "db",
        mqtt_url=mosquitto.url,
        mqtt_client_id=f"cityops-test-{uuid.uuid4().hex[:8]}",
        config_poll_s=0.1,
    )
    client = publisher(mosquitto)
    try:
        assert center.mqtt is not None
        assert center.mqtt.frigate_topics == frozenset()
        path = tmp_path / "testtown.yaml"
        section = "frigate: {cameras: {school_gate: cam-school}, min_score: 0.5}\n"
        path.write_text(TOWN_YAML.read_text(encoding="utf-8") + section, encoding="utf-8")
        import_config(center.db, path, actor="test")
        wait_for(lambda: center.mqtt.frigate_topics, 10, "the reload to subscribe to Frigate")
        assert center.mqtt.frigate_topics == frozenset({"frigate/events"})

        start = (datetime.now(UTC) - timedelta(seconds=3)).timestamp()
        new = message("new", frigate_object(id=f"{start:.6f}-e2e", start_time=start))

        def stored() -> list[tuple[str, str, str]]:
            with center.db.connect() as conn:
                rows = conn.execute(
                    select(t.events.c.event_id, t.events.c.source_id, t.events.c.kind)
                )
                return [tuple(r) for r in rows]

        deadline = time.monotonic() + 15  # the SUBACK is not awaited: send until it is stored
        while not stored() and time.monotonic() < deadline:
            client.publish("frigate/events", json.dumps(new), qos=1).wait_for_publish(5)
            time.sleep(0.3)
        assert stored() == [(f"frigate:{start:.6f}-e2e", "cam-school", "person")]

        garage = message("new", frigate_object(camera="garage", start_time=start))
        client.publish("frigate/events", json.dumps(garage), qos=1).wait_for_publish(5)
        with api_client(center) as api:
            url = "/api/v1/m/testtown/dead-letters"
            wait_for(lambda: api.get(url).json(), 10, "the unknown camera's dead letter")
            (letter,) = api.get(url).json()
            assert (letter["topic"], letter["reason_code"]) == ("frigate/events", "unknown_camera")
            metrics = api.get("/api/v1/metrics").json()
            assert metrics["rejected_by_reason"] == {"unknown_camera": 1}
        assert len(stored()) == 1
    finally:
        client.disconnect()
        center.stop()
