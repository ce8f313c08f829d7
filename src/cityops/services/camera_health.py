"""Camera health without anyone watching: every camera with a stream is probed periodically.

online: a frame arrived and differs from the previous probe's; stale: the same frame again (a
frozen encoder or a stuck stream); offline: no frame. Tampering needs the video analytics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine

from cityops.domain.entities import Camera
from cityops.services.cameras import record_health
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime
from cityops.video.snapshots import SnapshotService
from cityops.video.sources import NoStreamError, SourceError

log = logging.getLogger(__name__)


class CameraHealthMonitor:
    def __init__(
        self,
        runtimes: Mapping[str, MunicipalityRuntime],
        snapshots: SnapshotService,
        db: Engine,
        live: LiveBus,
        *,
        interval_s: float = 60.0,
        workers: int = 4,
    ) -> None:
        self.runtimes = runtimes
        self.snapshots = snapshots
        self.db = db
        self.live = live
        self.interval_s = interval_s
        self.workers = workers
        self._last: dict[tuple[str, str], str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def probe(self, camera: Camera, index: int) -> str | None:
        """Probe one camera, record its health; returns it (None: no stream, nothing to say)."""
        key = (camera.municipality, camera.id)
        try:
            shot = self.snapshots.snapshot(camera, index)
        except NoStreamError:
            return None
        except SourceError:
            health = "offline"
        else:
            health = "stale" if self._last.get(key) == shot.fingerprint else "online"
            self._last[key] = shot.fingerprint
        record_health(self.db, self.live, camera.municipality, camera.id, health, datetime.now(UTC))
        return health

    def probe_all(self) -> dict[str, str | None]:
        cameras = [
            (cam, index)
            for rt in list(self.runtimes.values())
            for index, cam in enumerate(rt.config.cameras)
        ]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="cityops-camprobe") as pool:
            results = list(pool.map(lambda pair: self.probe(*pair), cameras))
        return {
            f"{cam.municipality}/{cam.id}": h for (cam, _), h in zip(cameras, results, strict=True)
        }

    def start(self) -> None:
        def loop() -> None:
            while True:
                try:
                    self.probe_all()
                except Exception:  # a database hiccup must not end the monitor
                    log.exception("camera health probe failed")
                if self._stop.wait(self.interval_s):
                    return

        self._thread = threading.Thread(target=loop, name="cityops-camera-health", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
