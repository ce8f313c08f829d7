"""The worker's health events set the camera's health the map and the camera wall show: a
``camera_covered`` event over a real Mosquitto makes the camera ``tampered`` (stored, and told on
the live feed), the periodic frame probe does not clear it, and ``camera_restored`` does."""

from __future__ import annotations

import json
from pathlib import Path

from paho.mqtt import publish
from sqlalchemy import select

from cityops.services.camera_health import CameraHealthMonitor
from cityops.services.live import CameraPayload, LiveMessage
from cityops.store import tables as t
from cityops.video.snapshots import SnapshotService
from tests.harness import MosquittoServer
from tests.town import MUNI, start_center
from tests.video.worker.worker_support import wait_for


def test_health_events_set_the_cameras_health(
    tmp_path: Path, mosquitto: MosquittoServer, clip: Path
) -> None:
    center = start_center(tmp_path, mqtt_url=mosquitto.url, mqtt_client_id="health-state")
    told: list[LiveMessage] = []
    center.live.subscribe(told.extend)
    host, port = mosquitto.url.removeprefix("mqtt://").split(":")

    def send(kind: str, ts: str) -> None:
        doc = {"id": f"cam-b-{kind}-{ts}", "kind": kind, "ts": ts, "attributes": {"worker": "w"}}
        topic = f"cityops/{MUNI}/cameras/cam-b/events"
        publish.single(topic, json.dumps(doc), qos=1, hostname=host, port=int(port))

    def health() -> str:
        with center.db.connect() as conn:
            row = conn.execute(
                select(t.cameras.c.health).where(
                    t.cameras.c.municipality == MUNI, t.cameras.c.id == "cam-b"
                )
            ).one()
            return str(row.health)

    try:
        send("camera_covered", "2026-12-01T22:00:00Z")
        assert wait_for(lambda: health() == "tampered", 10), health()
        assert CameraPayload(id="cam-b", health="tampered") in [m.payload for m in told]  # type: ignore[arg-type]

        # the probe sees frames (a clip stands in for the covered camera) but leaves tampered
        monitor = CameraHealthMonitor(
            center.runtimes,
            SnapshotService(max_age_s=0, clips=[clip]).fingerprint,
            center.db,
            center.live,
        )
        monitor.probe_all()
        assert health() == "tampered"

        send("camera_restored", "2026-12-01T22:05:00Z")
        assert wait_for(lambda: health() == "online", 10), health()
    finally:
        center.stop()
