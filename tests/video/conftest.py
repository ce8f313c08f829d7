from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second 320x240 clip the test makes itself: a white frame with a moving grey box."""
    path = tmp_path_factory.mktemp("video") / "made.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    for i in range(20):
        frame = np.full((240, 320, 3), 255, dtype=np.uint8)
        cv2.rectangle(frame, (100 + i * 5, 150), (140 + i * 5, 200), (128, 128, 128), -1)
        writer.write(frame)
    writer.release()
    return path
