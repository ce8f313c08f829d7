"""Snapshots: real decoding of real files, privacy masks applied before anything is shown."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cityops.domain.entities import Camera, LonLat
from cityops.video.masking import apply_privacy_masks
from cityops.video.snapshots import SnapshotService
from cityops.video.sources import NoStreamError, SourceError

TOP_LEFT = ((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5))


def cam(url: str | None, masks: tuple[tuple[tuple[float, float], ...], ...] = ()) -> Camera:
    return Camera("cam-1", "m", "Cam 1", LonLat(25.39, 42.62), 90.0, 90.0, 100.0, url, masks)


def decode(jpeg: bytes) -> np.ndarray:  # type: ignore[type-arg]
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def test_mask_blacks_out_exactly_its_polygon() -> None:
    frame = np.full((100, 200, 3), 255, dtype=np.uint8)
    out = apply_privacy_masks(frame, [TOP_LEFT])
    assert out[10, 10].tolist() == [0, 0, 0]
    assert out[45, 95].tolist() == [0, 0, 0]
    assert out[60, 10].tolist() == [255, 255, 255]
    assert out[10, 110].tolist() == [255, 255, 255]
    assert frame[10, 10].tolist() == [255, 255, 255]  # the original is untouched


def test_snapshot_of_a_file_is_masked(clip: Path) -> None:
    service = SnapshotService()
    shot = service.snapshot(cam(str(clip), (TOP_LEFT,)))
    img = decode(shot.jpeg)
    assert img.shape == (240, 320, 3)
    assert img[20:100, 20:140].max() < 30  # masked: black (JPEG noise aside)
    assert img[20:100, 200:300].min() > 225  # not masked: the white background
    service.close()


def test_snapshot_of_real_surveillance_video(shared_data: Path) -> None:
    path = shared_data / "video" / "pets2009_s2l1_vtest_480x360.avi"
    if not path.exists():
        pytest.skip(f"{path} not in the shared data")
    service = SnapshotService()
    img = decode(service.snapshot(cam(f"file://{path}")).jpeg)
    assert img.shape == (360, 480, 3)
    assert 40 < float(img.mean()) < 220  # a real scene, neither blank nor black
    service.close()


def test_offline_cameras_fail_fast_and_are_not_hammered(tmp_path: Path) -> None:
    service = SnapshotService(retry_after_s=60)
    missing = cam(str(tmp_path / "gone.avi"))
    with pytest.raises(SourceError, match="no video file"):
        service.snapshot(missing)
    (tmp_path / "gone.avi").write_bytes(b"")  # even if it appeared, the retry waits
    with pytest.raises(SourceError, match="no video file"):
        service.snapshot(missing)
    with pytest.raises(NoStreamError):
        service.snapshot(cam(None))
    with pytest.raises(SourceError, match="unsupported stream scheme"):
        service.snapshot(Camera("c2", "m", "C2", LonLat(25.0, 42.0), 0, 90, 50, "gopher://x"))


def test_rtsp_to_nowhere_times_out_as_offline() -> None:
    service = SnapshotService()
    with pytest.raises(SourceError):
        service.snapshot(cam("rtsp://127.0.0.1:9/stream"))
