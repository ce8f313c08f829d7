"""The camera health monitor: online, stale (a frozen image) and offline, pushed live."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from cityops.app import load_runtimes
from cityops.services.camera_health import CameraHealthMonitor
from cityops.services.live import CameraPayload, LiveBus, LiveMessage
from cityops.video.snapshots import SnapshotService
from tests.town import town_db


def frozen_clip(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    frame = np.full((120, 160, 3), 90, dtype=np.uint8)
    for _ in range(20):
        writer.write(frame)
    writer.release()
    return path


def test_online_stale_and_offline_cameras(tmp_path: Path, clip: Path) -> None:
    db = town_db(f"sqlite:///{tmp_path / 'cityops.db'}")
    live = LiveBus()
    seen: list[LiveMessage] = []
    live.subscribe(seen.extend)
    runtimes = load_runtimes(db)

    moving = CameraHealthMonitor(
        runtimes, SnapshotService(max_age_s=0, clips=[clip]).fingerprint, db, live
    )
    assert moving.probe_all() == {
        "testtown/cam-a": "online",
        "testtown/cam-b": "online",
        "testtown/cam-school": "online",
    }
    time.sleep(0.3)  # the clip plays as if live: three frames later the picture has moved
    assert set(moving.probe_all().values()) == {"online"}

    frozen = frozen_clip(tmp_path / "frozen.avi")
    stuck = CameraHealthMonitor(
        runtimes, SnapshotService(max_age_s=0, clips=[frozen]).fingerprint, db, live
    )
    stuck.probe_all()
    time.sleep(0.3)
    assert set(stuck.probe_all().values()) == {"stale"}

    real = CameraHealthMonitor(runtimes, SnapshotService(max_age_s=0).fingerprint, db, live)
    # cam-a streams from a host that does not exist; the others have no stream configured
    assert real.probe_all() == {
        "testtown/cam-a": "offline",
        "testtown/cam-b": None,
        "testtown/cam-school": None,
    }
    changes = [
        (m.payload.id, m.payload.health) for m in seen if isinstance(m.payload, CameraPayload)
    ]
    assert sorted(changes) == sorted(
        [  # the probes run in parallel: order within a round varies
            ("cam-a", "online"),
            ("cam-b", "online"),
            ("cam-school", "online"),
            ("cam-a", "stale"),
            ("cam-b", "stale"),
            ("cam-school", "stale"),
            ("cam-a", "offline"),
        ]
    )
    db.dispose()
