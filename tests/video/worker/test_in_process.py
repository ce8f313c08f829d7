"""``cityops serve`` / ``cityops demo`` run a video worker in-process: on the demo town with its
rendered scenes (what `cityops demo` shows without recorded clips), the worker's events travel
over a real Mosquitto into the control center's ingest and are stored like any camera event."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from cityops.app import ControlCenter, import_config
from cityops.data import DEMO_CONFIG
from cityops.settings import Settings
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from cityops.video.snapshots import FRESH_S
from tests.harness import LOOPBACK, MosquittoServer, free_port
from tests.town import start_center
from tests.video.worker.worker_support import wait_for


@pytest.fixture
def clips(tmp_path: Path, shared_data: Path) -> Path:
    directory = tmp_path / "clips"
    directory.mkdir()
    shutil.copy(shared_data / "video" / "highway_cctv_video02.avi", directory)
    return directory


def test_the_in_process_worker_feeds_the_control_center(
    tmp_path: Path, mosquitto: MosquittoServer
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        mqtt_url=mosquitto.url,
        mqtt_client_id="cityops-ingest-inprocess",
        camera_probe_s=0,
        demo_synthetic=True,
        video_worker_id="inprocess",
    )
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    import_config(db, DEMO_CONFIG, actor="test")
    db.dispose()
    center = ControlCenter(settings)
    center.start()
    try:
        assert center.video is not None
        jobs = center.video.jobs
        assert len(jobs) == 25
        assert all(job.url.startswith("synthetic://") for job in jobs)

        def stored() -> list[dict[str, object]]:
            with center.db.connect() as conn:
                rows = conn.execute(select(t.events).where(t.events.c.municipality == "kazanlak"))
                return [dict(r._mapping) for r in rows]

        assert wait_for(lambda: len(center.video.status()) == 25, 15)  # type: ignore[union-attr]
        # motion at least (what else the scenes show depends on the hour: yards are watched
        # at night, the crossing's accident is scripted every 20 minutes)
        assert wait_for(lambda: len(stored()) > 0, 60)
        rows = stored()
        assert {r["source"] for r in rows} == {"camera"}
        assert all(r["attributes"]["worker"] == "inprocess" for r in rows)  # type: ignore[index]
        analysed = {c.id for c in center.runtimes["kazanlak"].config.cameras if c.analytics}
        assert {r["source_id"] for r in rows} <= analysed
        assert not any(str(r["kind"]).startswith("camera_") for r in rows)  # healthy scenes
        # the console's snapshots of the worker's cameras come from the frames it analysed
        cam = center.runtimes["kazanlak"].config.cameras[0]
        video = center.video

        def fresh() -> bool:  # on two loaded cores a runner may fall seconds behind
            frame = video.analysed(cam)
            return frame is not None and time.monotonic() - frame.at < FRESH_S / 2

        assert wait_for(fresh, 30)
        assert center.snapshots.snapshot(cam).jpeg.startswith(b"\xff\xd8")
        assert center.snapshots._sources == {}  # no second connection to any camera
    finally:
        center.stop()


def test_the_in_process_worker_on_the_embedded_broker(tmp_path: Path, clips: Path) -> None:
    """Without CITYOPS_MQTT_URL the worker uses the embedded broker (amqtt, MQTT 3.1.1): its
    retained presence and Last Will work there too; a clean stop clears the presence."""
    port = free_port()
    center = start_center(
        tmp_path, mqtt_port=port, video_worker=True, video_worker_id="solo", demo_video_dir=clips
    )
    presence: dict[str, bytes] = {}
    observer = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="presence-observer")
    observer.on_message = lambda _c, _u, msg: presence.__setitem__(msg.topic, msg.payload)
    observer.connect(LOOPBACK, port)
    observer.subscribe("cityops/_workers/+", qos=1)
    observer.loop_start()
    try:
        want = ["testtown/cam-a", "testtown/cam-b", "testtown/cam-school"]
        assert wait_for(
            lambda: (
                json.loads(presence.get("cityops/_workers/solo") or b"{}").get("cameras") == want
            ),
            15,
        ), presence
        assert center.video is not None
        assert wait_for(lambda: all(s.startswith("ok") for s in center.video.status().values()), 10)
    finally:
        center.stop()
    assert wait_for(lambda: presence.get("cityops/_workers/solo") == b"", 10), presence
    observer.loop_stop()
    observer.disconnect()
