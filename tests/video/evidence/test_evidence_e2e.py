"""Evidence end to end, as deployed: a video worker (its own process's objects, sharing only the
broker and the evidence directory with the control center) analyses a rendered street for a
camera of the test town and publishes over a real Mosquitto; the control center ingests the
events, records their evidence, and serves the snapshot and the finished clip through the API."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cityops.domain.analytics import CameraAnalytics
from cityops.services import evidence
from cityops.video.evidence import EvidenceConfig
from cityops.video.worker import CameraJob, VideoWorker
from tests.harness import MosquittoServer
from tests.town import MUNI, api_client, start_center
from tests.video.worker.worker_support import wait_for

STREET = "synthetic://street?seed=4"


@pytest.mark.mosquitto
def test_worker_evidence_reaches_the_control_center(
    tmp_path: Path, mosquitto: MosquittoServer
) -> None:
    center = start_center(tmp_path / "server", mqtt_url=mosquitto.url, mqtt_client_id="ev-e2e")
    shared = center.settings.evidence_root  # the directory both hosts mount
    town_cam = center.runtimes[MUNI].config.camera("cam-a")
    assert town_cam is not None
    cam = dataclasses.replace(town_cam, analytics=CameraAnalytics(fps=5))
    worker = VideoWorker(
        [CameraJob(cam, STREET)],
        mosquitto.url,
        worker_id="remote-1",
        settle_s=0.2,
        evidence=EvidenceConfig(shared, pre_s=1.0, post_s=1.0),
    )
    worker.start()
    try:

        def recorded() -> list[evidence.EvidenceRecord]:
            with center.db.connect() as conn:
                return [r for r in evidence.find(conn, MUNI, "cam-a") if r.clip is not None]

        assert wait_for(lambda: len(recorded()) >= 1, 40), "no evidence recorded"
        first = recorded()[0]
        assert first.clip is not None
        assert first.snapshot is not None
        assert wait_for((shared / first.clip).is_file, 10), "clip never finished"
        with api_client(center) as c:
            shot = c.get(f"/api/v1/m/{MUNI}/evidence/{first.event_id}/snapshot.jpg")
            assert shot.status_code == 200
            assert shot.content == (shared / first.snapshot).read_bytes()
            clip = c.get(f"/api/v1/m/{MUNI}/evidence/{first.event_id}/clip.mp4")
            assert clip.status_code == 200
            assert clip.content == (shared / first.clip).read_bytes()
    finally:
        worker.stop()
        center.stop()
