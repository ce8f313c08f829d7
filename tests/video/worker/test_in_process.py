"""``cityops serve`` / ``cityops demo`` run a video worker in-process: on the demo town with its
rendered scenes (what `cityops demo` shows without recorded clips), the worker's events travel
over a real Mosquitto into the control center's ingest and are stored like any camera event."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cityops.app import ControlCenter, import_config
from cityops.data import DEMO_CONFIG
from cityops.settings import Settings
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from tests.harness import MosquittoServer
from tests.video.worker.worker_support import wait_for


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
        assert wait_for(lambda: any(r["kind"] != "motion" for r in stored()), 60), stored()
        rows = stored()
        assert {r["source"] for r in rows} == {"camera"}
        assert all(r["attributes"]["worker"] == "inprocess" for r in rows)  # type: ignore[index]
        analysed = {c.id for c in center.runtimes["kazanlak"].config.cameras if c.analytics}
        assert {r["source_id"] for r in rows} <= analysed
        assert not any(str(r["kind"]).startswith("camera_") for r in rows)  # healthy scenes
        # the console's snapshots of the worker's cameras come from the frames it analysed
        cam = center.runtimes["kazanlak"].config.cameras[0]
        assert center.snapshots.snapshot(cam).jpeg.startswith(b"\xff\xd8")
        assert center.snapshots._sources == {}  # no second connection to any camera
    finally:
        center.stop()
