"""What the worker tests share: cameras, waiting for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable

from cityops.domain.entities import Camera, LonLat


def camera(camera_id: str, municipality: str = "testtown", url: str | None = None) -> Camera:
    return Camera(camera_id, municipality, camera_id, LonLat(25.39, 42.62), 90.0, 90.0, 100.0, url)


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(step)
    return True
