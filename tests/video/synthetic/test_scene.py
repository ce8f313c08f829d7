"""The synthetic scenes: deterministic pictures whose ground truth matches the pixels, exact
crossing counts and dwell times, day and night, and what a frame costs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from cityops.domain.analytics import LineDirection, ObjectClass
from cityops.video.synthetic import SyntheticScene, open_synthetic
from cityops.video.synthetic.actors import Actor, stable_unit
from cityops.video.synthetic.background import NOISE_VARIANTS, noisy_backgrounds
from cityops.video.synthetic.scene import FRAME_RATE
from cityops.video.synthetic.view import Image

T0 = 1_764_000_000.0
"""A UNIX time, as a live camera would be asked for."""


def _alone(scene: SyntheticScene, actor: Actor) -> SyntheticScene:
    """The scene with only ``actor`` in it."""
    scene.actors_between = lambda t0, t1: [actor]  # type: ignore[method-assign]
    return scene


def _empty_background(scene: SyntheticScene, t: float) -> Image:
    key = f"{scene.spec.scene.value}-{scene.view.width}x{scene.view.height}"
    variants = noisy_backgrounds(scene.view, scene.layout.scenery, scene.is_night(t), key)
    return variants[int(stable_unit(scene.spec.seed, int(t * FRAME_RATE)) * NOISE_VARIANTS)]


def test_same_url_and_time_give_the_same_frame_and_truth_in_separate_scenes() -> None:
    url = "synthetic://crossing?seed=7&night=0"
    a, b = open_synthetic(url), open_synthetic(url)
    for t in (T0, T0 + 12.3, T0 + 600.04):
        assert np.array_equal(a.frame_at(t), b.frame_at(t))
        assert a.truth_at(t) == b.truth_at(t)
    other = open_synthetic("synthetic://crossing?seed=8&night=0")
    assert not np.array_equal(a.frame_at(T0 + 30), other.frame_at(T0 + 30))


def test_frames_have_the_asked_size_and_are_bgr() -> None:
    frame = open_synthetic("synthetic://street?seed=1", width=320, height=180).frame_at(T0)
    assert frame.shape == (180, 320, 3)
    assert frame.dtype == np.uint8


@pytest.mark.parametrize("url", ["synthetic://crossing?seed=3", "synthetic://street?seed=4"])
def test_each_truth_box_is_the_extent_of_the_pixels_its_object_changed(url: str) -> None:
    scene = open_synthetic(url)
    checked = {ObjectClass.VEHICLE: 0, ObjectClass.PERSON: 0}
    for step in range(0, 240, 7):
        t = T0 + step
        for actor in scene.actors_between(t, t):
            alone = _alone(open_synthetic(url), actor)
            frame, truth = alone.render(t)
            if not truth:
                continue
            (obj,) = truth
            box = obj.box
            w, h = alone.view.width, alone.view.height
            if (box.x2 - box.x1) * w < 6 or (box.y2 - box.y1) * h < 6:
                continue  # far away: a few pixels, where rounding dominates
            changed = np.any(frame != _empty_background(alone, t), axis=2)
            ys, xs = np.nonzero(changed)
            assert len(xs) > 0
            x1, y1, x2, y2 = xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h
            assert box.x1 <= x1 + 1.5 / w
            assert box.y1 <= y1 + 1.5 / h
            assert box.x2 >= x2 - 1.5 / w
            assert box.y2 >= y2 - 1.5 / h
            area = (box.x2 - box.x1) * (box.y2 - box.y1)
            assert (x2 - x1) * (y2 - y1) / area > 0.8, (obj, (x1, y1, x2, y2))
            checked[obj.cls] += 1
    assert checked[ObjectClass.VEHICLE] >= 5
    assert checked[ObjectClass.PERSON] >= 3


def test_scripted_accident_car_crosses_a_counting_line_once_at_the_exact_time() -> None:
    start = T0 + 100.0
    scene = open_synthetic(f"synthetic://crossing?seed=2&at={start:.0f}")
    # the lanes away from the camera (x 0..3.5 m) at 20 m ahead, drawn left to right
    a, b = scene.view.fraction(0.0, 20.0), scene.view.fraction(3.5, 20.0)
    crossings = scene.crossings(a, b, start, start + 20.0, {ObjectClass.VEHICLE})
    assert len(crossings) == 1
    (only,) = crossings
    # moving away = up the image = from the right of a -> b to its left
    assert only.direction is LineDirection.BACKWARD
    assert only.t == pytest.approx(start + 6.6 + 16.0 / (27.0 / 2.4), abs=1e-6)
    assert scene.crossing_counts(a, b, start, start + 20.0) == {
        LineDirection.FORWARD: 0,
        LineDirection.BACKWARD: 1,
    }
    # the lanes towards the camera: what crosses there comes down the image
    c, d = scene.view.fraction(-3.5, 20.0), scene.view.fraction(0.0, 20.0)
    towards = scene.crossings(c, d, start - 600.0, start - 10.0, {ObjectClass.VEHICLE})
    assert towards
    assert all(x.direction is LineDirection.FORWARD for x in towards)


def _sampled_crossings(
    scene: SyntheticScene, a: tuple[float, float], b: tuple[float, float], t0: float, t1: float
) -> dict[LineDirection, int]:
    """Counted the slow way: foot points every 40 ms, a side change within the segment."""

    def right(p: tuple[float, float]) -> bool:
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) > 0

    counts = dict.fromkeys(LineDirection, 0)
    last: dict[int, tuple[float, float]] = {}
    for t in np.arange(t0, t1, 0.04):
        for obj in scene.truth_at(float(t)):
            prev = last.get(obj.id)
            last[obj.id] = obj.foot
            if prev is None or right(prev) == right(obj.foot):
                continue
            mid = ((prev[0] + obj.foot[0]) / 2, (prev[1] + obj.foot[1]) / 2)
            dx, dy = b[0] - a[0], b[1] - a[1]
            along = ((mid[0] - a[0]) * dx + (mid[1] - a[1]) * dy) / (dx * dx + dy * dy)
            if 0.0 <= along <= 1.0:
                key = LineDirection.FORWARD if right(obj.foot) else LineDirection.BACKWARD
                counts[key] += 1
    return counts


def test_crossing_counts_match_the_foot_points_of_the_rendered_objects() -> None:
    scene = open_synthetic("synthetic://street?seed=5")
    a, b = scene.view.fraction(0.0, 21.0), scene.view.fraction(0.0, 31.0)  # across the street
    t0, t1 = T0 + 0.5, T0 + 120.5
    exact = scene.crossing_counts(a, b, t0, t1)
    assert exact == _sampled_crossings(scene, a, b, t0, t1)
    assert exact[LineDirection.FORWARD] >= 3
    assert exact[LineDirection.BACKWARD] >= 3


def test_the_intruder_dwells_in_the_yard_as_long_as_the_frames_show() -> None:
    start = T0 + 50.0
    scene = open_synthetic(f"synthetic://schoolyard?seed=1&night=1&at={start:.0f}")
    yard = [
        scene.view.fraction(x, z)
        for x, z in ((-30.0, 5.0), (30.0, 5.0), (30.0, 38.0), (-30.0, 38.0))
    ]
    dwell = scene.dwell(yard, start, start + 300.0, {ObjectClass.PERSON})
    assert len(dwell) == 1
    (seconds,) = dwell.values()
    inside = Polygon(yard)
    step = 0.1
    sampled = step * sum(
        1
        for t in np.arange(start, start + 300.0, step)
        for obj in scene.truth_at(float(t))
        if obj.cls is ObjectClass.PERSON and inside.contains(Point(obj.foot))
    )
    assert seconds == pytest.approx(sampled, abs=0.3)
    assert seconds > 170.0  # lingering, not passing through


def test_night_is_dark_with_lights_and_the_intruder_still_shows() -> None:
    t = T0 + 50.0 + 120.0
    day = open_synthetic("synthetic://crossing?seed=1&night=0").frame_at(t)
    night_scene = open_synthetic("synthetic://crossing?seed=1&night=1")
    night = night_scene.frame_at(t)
    assert night.mean() < 0.5 * day.mean()
    cars = [o for o in night_scene.truth_at(t) if o.cls is ObjectClass.VEHICLE]
    assert cars
    assert (night.max(axis=2) > 220).sum() > 0  # headlights, tail lights, lamps

    yard = open_synthetic(f"synthetic://schoolyard?seed=1&night=1&at={T0 + 50.0:.0f}")
    (person,) = [o for o in yard.truth_at(t) if o.cls is ObjectClass.PERSON]
    frame = yard.frame_at(t)
    w, h = yard.view.width, yard.view.height
    x1, y1, x2, y2 = (
        int(person.box.x1 * w),
        int(person.box.y1 * h),
        int(person.box.x2 * w),
        int(person.box.y2 * h),
    )
    diff = np.abs(frame.astype(int) - _empty_background(yard, t).astype(int))[y1:y2, x1:x2]
    assert diff.max() > 25


def test_auto_night_follows_the_local_time() -> None:
    scene = open_synthetic("synthetic://street?night=auto&tz=Europe/Sofia")
    noon_sofia = 1_764_064_800.0  # 2025-11-25 10:00 UTC = 12:00 in Sofia
    assert not scene.is_night(noon_sofia)
    assert scene.is_night(noon_sofia + 12 * 3600)


def test_render_time_per_frame() -> None:
    for url in (
        "synthetic://crossing?seed=1&night=0",
        "synthetic://crossing?seed=1&night=1",
        "synthetic://schoolyard?seed=1&night=1",
        "synthetic://street?seed=1",
    ):
        scene = open_synthetic(url)
        scene.frame_at(T0)  # the static picture is drawn once, then shared
        n = 100
        began = time.perf_counter()
        for i in range(n):
            scene.frame_at(T0 + i * 0.2)
        ms = (time.perf_counter() - began) / n * 1000
        print(f"{url}: {ms:.2f} ms/frame at 640x360")


def test_another_process_renders_the_same_frame() -> None:
    """The same URL and time give the same pixels on any host: nothing depends on the process
    (no salted hash, no global random state)."""
    url, t = "synthetic://crossing?seed=11&night=1&at=1764000100", T0 + 130.0
    code = (
        "import hashlib, sys; from cityops.video.synthetic import open_synthetic; "
        f"print(hashlib.sha256(open_synthetic({url!r}).frame_at({t!r}).tobytes()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    here = hashlib.sha256(open_synthetic(url).frame_at(t).tobytes()).hexdigest()
    assert out.stdout.strip() == here
