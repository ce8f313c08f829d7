"""Camera health without anyone watching: every camera with a stream is probed periodically.

online: a frame arrived and differs from the previous probe's; stale: the same frame again (a
frozen encoder or a stuck stream); offline: no frame. Tampering needs the video analytics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine

from cityops.domain.entities import Camera, CameraHealth, CameraOfflineError
from cityops.services.cameras import record_health
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime

log = logging.getLogger(__name__)


FrameProbe = Callable[[Camera, int], str | None]
"""Fetch a camera's current frame (the camera and its index in the configuration); returns the
frame's fingerprint, None when the camera has no stream, and raises CameraOfflineError when the
stream gives no frame. The composition root passes the video layer's
(``SnapshotService.fingerprint``); this module never imports video/."""


class CameraHealthMonitor:
    def __init__(
        self,
        runtimes: Mapping[str, MunicipalityRuntime],
        frames: FrameProbe,
        db: Engine,
        live: LiveBus,
        *,
        interval_s: float = 60.0,
        workers: int = 4,
    ) -> None:
        self.runtimes = runtimes
        self.frames = frames
        self.db = db
        self.live = live
        self.interval_s = interval_s
        self.workers = workers
        self._last: dict[tuple[str, str], str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def probe(self, camera: Camera, index: int) -> CameraHealth | None:
        """Probe one camera, record its health; returns it (None: no stream, nothing to say)."""
        key = (camera.municipality, camera.id)
        try:
            fingerprint = self.frames(camera, index)
        except CameraOfflineError:
            health = CameraHealth.OFFLINE
        else:
            if fingerprint is None:
                return None
            same = self._last.get(key) == fingerprint
            health = CameraHealth.STALE if same else CameraHealth.ONLINE
            self._last[key] = fingerprint
        # tampering is the video worker's to judge: a probe that sees frames does not clear it
        keep = {CameraHealth.TAMPERED} if health is CameraHealth.ONLINE else set()
        only_from = set(CameraHealth) - keep
        record_health(
            self.db,
            self.live,
            camera.municipality,
            camera.id,
            health,
            datetime.now(UTC),
            only_from=only_from,
        )
        return health

    def probe_all(self) -> dict[str, CameraHealth | None]:
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
