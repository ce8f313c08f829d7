"""Privacy masking on real frames (PETS 2009): every style obscures exactly its area, verifiably
(pixel statistics inside the mask against the original), in frames and in saved snapshots; the
viewer function leaves a frame unmasked only when asked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from cityops.domain.analytics import CameraAnalytics
from cityops.domain.entities import Camera
from cityops.video.analytics.types import Box
from cityops.video.masking import (
    MaskStyle,
    apply_privacy_masks,
    box_mask,
    frame_for_viewer,
    polygon_mask,
)
from cityops.video.snapshots import SnapshotService
from cityops.video.worker.camera import CameraJob, CameraRunner, default_analyzer
from tests.video.worker.worker_support import camera, wait_for

MASK = ((0.1, 0.1), (0.6, 0.1), (0.6, 0.7), (0.1, 0.7))
PETS = "pets2009_s2l1_vtest_480x360.avi"


@pytest.fixture(scope="module")
def frame(shared_data: Path) -> np.ndarray:  # type: ignore[type-arg]
    cap = cv2.VideoCapture(str(shared_data / "video" / PETS))
    ok, img = cap.read()
    cap.release()
    assert ok
    return img


def sharpness(img: np.ndarray) -> float:  # type: ignore[type-arg]
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def detail_correlation(a: np.ndarray, b: np.ndarray) -> float:  # type: ignore[type-arg]
    """How much of ``a``'s fine detail (what identifies a face or a plate) ``b`` still has: the
    correlation of their high-pass images (1: the same detail, 0: none of it)."""

    def high_pass(img: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return gray - cv2.GaussianBlur(gray, (0, 0), 2)

    return float(np.corrcoef(high_pass(a).ravel(), high_pass(b).ravel())[0, 1])


def inside(img: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """The part of a 480x360 picture well inside MASK (JPEG and edges aside)."""
    h, w = img.shape[:2]
    return img[int(0.15 * h) : int(0.65 * h), int(0.15 * w) : int(0.55 * w)]


def outside(img: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    h = img.shape[0]
    return img[int(0.75 * h) :]


def assert_obscured(style: MaskStyle, original: np.ndarray, out: np.ndarray) -> None:  # type: ignore[type-arg]
    a, b = inside(original), inside(out)
    if style is MaskStyle.BLACK:
        assert b.max() < 30
    else:  # the detail is gone, the colours stay
        assert detail_correlation(a, b) < 0.15
        assert abs(float(b.mean()) - float(a.mean())) < 10
    if style is MaskStyle.BLUR:
        assert sharpness(b) < 0.05 * sharpness(a)


@pytest.mark.parametrize("style", list(MaskStyle))
def test_each_style_obscures_exactly_its_polygon(style: MaskStyle, frame: np.ndarray) -> None:  # type: ignore[type-arg]
    out = apply_privacy_masks(frame, [MASK], style)
    assert_obscured(style, frame, out)
    keep = polygon_mask(frame.shape, [MASK]) == 0
    assert np.array_equal(out[keep], frame[keep])  # outside the mask: the very same pixels
    assert not np.array_equal(out, frame)


@pytest.mark.parametrize("style", [MaskStyle.PIXELATE, MaskStyle.BLUR])
def test_saved_snapshots_are_masked(style: MaskStyle, frame: np.ndarray, shared_data: Path) -> None:  # type: ignore[type-arg]
    service = SnapshotService(clips=[shared_data / "video" / PETS], style=style)
    cam = dataclasses.replace(camera("cam-1"), privacy_masks=(MASK,))
    shot = cv2.imdecode(np.frombuffer(service.snapshot(cam).jpeg, np.uint8), cv2.IMREAD_COLOR)
    service.close()
    assert shot.shape == frame.shape
    assert_obscured(style, frame, shot)
    # outside the mask the picture is as sharp as the camera's (JPEG aside)
    assert sharpness(outside(shot)) > 0.5 * sharpness(outside(frame))


def with_analytics(cam: Camera, **flags: bool) -> Camera:
    return dataclasses.replace(cam, analytics=CameraAnalytics(**flags))  # type: ignore[arg-type]


def test_the_viewer_sees_people_obscured_and_unmasked_only_when_allowed(
    frame: np.ndarray,  # type: ignore[type-arg]
) -> None:
    person = Box(0.6, 0.3, 0.7, 0.8)
    cam = dataclasses.replace(camera("cam-1"), privacy_masks=(MASK,))
    assert frame_for_viewer(frame, cam, unmasked=True) is frame

    plain = frame_for_viewer(frame, cam, people=[person])
    assert np.array_equal(plain, apply_privacy_masks(frame, [MASK]))  # blur_people is off

    blurred = frame_for_viewer(frame, with_analytics(cam, blur_people=True), people=[person])
    region = box_mask(frame.shape, [person]) > 0
    assert not np.array_equal(blurred[region], frame[region])
    rest = (region == 0) & (polygon_mask(frame.shape, [MASK]) == 0)
    assert np.array_equal(blurred[rest], frame[rest])


def draw_face(img: np.ndarray, cx: int, cy: int, s: int) -> None:  # type: ignore[type-arg]
    """A drawn face (skin oval, eyes, brows, nose, mouth, hair) that OpenCV's frontal-face
    cascade finds: there is no photograph of a face in the shared data to use instead."""
    cv2.ellipse(img, (cx, cy), (int(s * 0.8), s), 0, 0, 360, (150, 180, 220), -1)
    for dx in (-1, 1):
        eye = (cx + dx * int(s * 0.35), cy - int(s * 0.25))
        cv2.ellipse(img, eye, (int(s * 0.18), int(s * 0.09)), 0, 0, 360, (40, 40, 40), -1)
        brow = (
            (cx + dx * int(s * 0.15), cy - int(s * 0.45)),
            (cx + dx * int(s * 0.55), cy - int(s * 0.45)),
        )
        cv2.line(img, *brow, (50, 50, 60), max(2, s // 12))
    cv2.line(
        img, (cx, cy - int(s * 0.2)), (cx, cy + int(s * 0.2)), (120, 150, 190), max(2, s // 15)
    )
    cv2.ellipse(
        img, (cx, cy + int(s * 0.5)), (int(s * 0.3), int(s * 0.1)), 0, 0, 360, (60, 60, 140), -1
    )
    cv2.ellipse(
        img, (cx, cy - int(s * 0.9)), (int(s * 0.85), int(s * 0.35)), 0, 180, 360, (30, 30, 40), -1
    )


def test_faces_are_found_with_the_shipped_cascade_and_obscured(frame: np.ndarray) -> None:  # type: ignore[type-arg]
    cam = with_analytics(camera("cam-1"), blur_faces=True)
    assert np.array_equal(frame_for_viewer(frame, cam), frame)  # PETS people: no face that big
    with_face = frame.copy()
    draw_face(with_face, 360, 150, 40)
    out = frame_for_viewer(with_face, cam)
    face = with_face[120:180, 335:385]
    assert detail_correlation(face, out[120:180, 335:385]) < 0.2
    away = np.ones(frame.shape[:2], bool)
    away[60:240, 270:450] = False  # the face with a margin
    assert np.array_equal(out[away], with_face[away])
    unmasked = frame_for_viewer(with_face, cam, unmasked=True)
    assert np.array_equal(unmasked, with_face)


def test_people_the_worker_tracks_are_obscured_in_snapshots(shared_data: Path) -> None:
    """The worker runs the real pipeline on the PETS clip; a snapshot of that camera comes from
    the frame it analysed, with the people it tracked pixelated (blur_people)."""
    cam = with_analytics(camera("cam-1", url=str(shared_data / "video" / PETS)), blur_people=True)
    runner = CameraRunner(
        CameraJob(cam, str(cam.stream_url)), lambda _m: None, default_analyzer(cam, "UTC")
    )
    runner.start()
    try:
        assert wait_for(lambda: runner.latest is not None and len(runner.latest.people) >= 2, 30)
    finally:
        runner.stop()
    latest = runner.latest
    assert latest is not None
    service = SnapshotService(analysed=lambda _c: latest)
    shot = cv2.imdecode(np.frombuffer(service.snapshot(cam).jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert service._sources == {}  # no second connection to the camera
    for box in latest.people:
        h, w = shot.shape[:2]
        x1, y1, x2, y2 = int(box.x1 * w), int(box.y1 * h), int(box.x2 * w), int(box.y2 * h)
        assert detail_correlation(latest.frame[y1:y2, x1:x2], shot[y1:y2, x1:x2]) < 0.3
    rest = box_mask(shot.shape, list(latest.people), pad=0.3) == 0
    assert np.abs(shot[rest].astype(int) - latest.frame[rest].astype(int)).mean() < 3  # JPEG
