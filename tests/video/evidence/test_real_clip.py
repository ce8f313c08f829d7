"""Evidence of a real camera (PETS 2009, pedestrians): the privacy mask is verifiably obscured in
the saved snapshot and in every frame of the saved clip (fine detail inside the mask against the
original frame), while the rest of the picture keeps its detail; a clip decodes back to the
frames before and after the event. Skipped with a reason without ../shared/data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from cityops.domain.analytics import AnalyticsEventKind, ObjectClass
from cityops.video.analytics.types import AnalyticsEvent, Box
from cityops.video.evidence import EvidenceConfig, EvidenceRecorder
from cityops.video.masking import MaskStyle
from tests.video.evidence.support import Image, decode, detail_correlation, region
from tests.video.worker.worker_support import camera

PETS = "pets2009_s2l1_vtest_480x360.avi"
MASK = ((0.1, 0.1), (0.6, 0.1), (0.6, 0.7), (0.1, 0.7))
REST = ((0.65, 0.05), (0.98, 0.05), (0.98, 0.95), (0.65, 0.95))
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def frames(shared_data: Path) -> list[Image]:
    """Every 2nd frame of the first 60 (7 frames/s clip: about 3.5 frames/s, 8.5 s)."""
    cap = cv2.VideoCapture(str(shared_data / "video" / PETS))
    out = []
    for k in range(60):
        ok, img = cap.read()
        assert ok, f"frame {k} of {PETS}"
        if k % 2 == 0:
            out.append(np.asarray(img))
    cap.release()
    return out


@pytest.mark.parametrize("style", [MaskStyle.PIXELATE, MaskStyle.BLUR])
def test_masks_are_obscured_in_the_snapshot_and_every_clip_frame(
    tmp_path: Path, frames: list[Image], style: MaskStyle
) -> None:
    cam = dataclasses.replace(camera("cam-pets"), privacy_masks=(MASK,))
    fps = 3.5
    recorder = EvidenceRecorder(
        cam, fps, EvidenceConfig(tmp_path, pre_s=3.0, post_s=3.0, style=style)
    )
    times = [T0 + timedelta(seconds=k / fps) for k in range(len(frames))]
    refs: dict[str, str] = {}
    at = 14  # the event at 4 s
    for k, (img, ts) in enumerate(zip(frames, times, strict=True)):
        picture = recorder.frame(img, ts)
        if k == at:
            event = AnalyticsEvent(
                AnalyticsEventKind.PERSON,
                ts,
                track_id=1,
                cls=ObjectClass.PERSON,
                boxes=(Box(0.7, 0.3, 0.8, 0.7),),
            )
            refs = dict(recorder.evidence(event, "pets-1", picture))
    shot = np.asarray(cv2.imread(str(tmp_path / refs["snapshot"])))
    original = frames[at]
    assert detail_correlation(region(original, MASK), region(shot, MASK)) < 0.15
    clip, clip_times, _ = decode(tmp_path / refs["clip"])
    first = at - round(3.0 * fps)
    assert len(clip) == len(range(first, at + round(3.0 * fps) + 1))
    assert clip_times[-1] == pytest.approx((len(clip) - 1) / fps, abs=0.01)
    for k, frame in enumerate(clip):
        source = frames[first + k]
        inside = detail_correlation(region(source, MASK), region(frame, MASK))
        outside = detail_correlation(region(source, REST), region(frame, REST))
        assert inside < 0.15, (k, inside)
        assert outside > 0.5, (k, outside)  # the clip is this frame, and only the mask is gone
        # and not a neighbouring one: the people moved between them
        if 0 < first + k < len(frames) - 1:
            other = frames[first + k + 1]
            assert float(np.abs(frame.astype(int) - source.astype(int)).mean()) < float(
                np.abs(frame.astype(int) - other.astype(int)).mean()
            )
