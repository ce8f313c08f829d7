"""What the worker tests share: cameras, bad video files, waiting for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

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


def corrupt_file(path: Path) -> Path:
    """An AVI header followed by garbage."""
    path.write_bytes(b"RIFF\x10\x00\x00\x00AVI LIST" + bytes(range(256)) * 40)
    return path


def tiny_clip(path: Path) -> Path:
    """A valid clip of 8x8-pixel frames: an absurd resolution for a camera."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (8, 8))
    for _ in range(10):
        writer.write(np.full((8, 8, 3), 128, dtype=np.uint8))
    writer.release()
    return path
