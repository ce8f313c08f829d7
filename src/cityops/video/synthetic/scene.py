"""A synthetic camera: ``open_synthetic(url).frame_at(t)`` and the exact truth behind it.

``t`` is UNIX seconds (UTC) for a live camera, or any number in tests: the picture, the
objects, their boxes and the scripted happenings are the same for the same URL and ``t`` in
every process and on every host.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from shapely.geometry import LineString, Point
from shapely.geometry import Polygon as ShapelyPolygon
from shapely.geometry import box as shapely_box

from cityops.domain.analytics import ImagePoint, LineDirection, ObjectClass
from cityops.domain.scenes import SCRIPT_DURATION_S, SceneSpec
from cityops.video.analytics.types import Box
from cityops.video.synthetic.actors import Actor, segment_hit, side, stable_unit
from cityops.video.synthetic.background import NOISE_VARIANTS, noisy_backgrounds
from cityops.video.synthetic.draw import PixelBox, car_beam, draw_car, draw_person
from cityops.video.synthetic.layouts import LAYOUTS
from cityops.video.synthetic.view import NEAR_M, Image, View

FRAME_RATE = 25.0
"""The noise pattern changes this often; frames may be asked for at any time."""


@dataclass(frozen=True, slots=True)
class TruthObject:
    """One object in view at one time: what a perfect detector and tracker would report."""

    id: int
    """Stable for the object's whole passage (a tracker's identity)."""
    cls: ObjectClass
    box: Box
    """The drawn object's extent, in image fractions (clipped to the image; occlusion by
    nearer objects is not subtracted)."""
    foot: ImagePoint
    """Where it touches the ground (the projected ground position), in image fractions."""
    ground: tuple[float, float]
    """Its position on the ground, metres (x right, z ahead of the camera)."""
    speed_mps: float


@dataclass(frozen=True, slots=True)
class Crossing:
    object_id: int
    cls: ObjectClass
    t: float
    direction: LineDirection


class SyntheticScene:
    """A rendered camera. ``schedule(at)`` adds a script run to those the URL names."""

    def __init__(self, spec: SceneSpec, width: int = 640, height: int = 360) -> None:
        self.spec = spec
        self.view = View().scaled(width, height)
        self.layout = LAYOUTS[spec.scene]
        self._scheduled: list[float] = []

    @property
    def url(self) -> str:
        return self.spec.url()

    def schedule(self, at: float) -> None:
        """Run the scene's script (the accident, the intruder) from ``at``."""
        if SCRIPT_DURATION_S[self.spec.scene] <= 0.0:
            raise ValueError(f"the {self.spec.scene} scene has no script")
        self._scheduled.append(float(at))

    def script_starts(self, t0: float, t1: float) -> list[float]:
        """Starts of script runs in [t0, t1)."""
        extra = [s for s in self._scheduled if t0 <= s < t1]
        return sorted(set(self.spec.script_starts(t0, t1) + extra))

    def is_night(self, t: float) -> bool:
        return self.spec.is_night(t)

    # actors --------------------------------------------------------------------------------

    def actors_between(self, t0: float, t1: float) -> list[Actor]:
        """Every actor in the scene at some time in [t0, t1]."""
        duration = SCRIPT_DURATION_S[self.spec.scene]
        margin = 10.0
        starts = self.script_starts(t0 - duration - margin, t1 + margin)
        blocked = [(s - margin, s + duration + margin) for s in starts]
        seed = self.spec.seed
        out: list[Actor] = []
        for index, stream in enumerate(self.layout.streams):
            out += stream.actors(seed, index, t0, t1, blocked)
        if self.layout.script is not None:
            for s in starts:
                out += [
                    a
                    for a in self.layout.script(s, seed)
                    if a.motion.start <= t1 and a.motion.end >= t0
                ]
        return out

    # pictures ------------------------------------------------------------------------------

    def render(self, t: float) -> tuple[Image, list[TruthObject]]:
        """The frame at ``t`` (BGR, height x width x 3) and the objects drawn in it."""
        night = self.is_night(t)
        key = f"{self.spec.scene.value}-{self.view.width}x{self.view.height}"
        variants = noisy_backgrounds(self.view, self.layout.scenery, night, key)
        pick = int(stable_unit(self.spec.seed, math.floor(t * FRAME_RATE)) * NOISE_VARIANTS)
        img = variants[pick].copy()
        placed = []
        for actor in self.actors_between(t, t):
            state = actor.state(t)
            if state is not None and state.z > NEAR_M:
                placed.append((state.z, actor, state))
        placed.sort(key=lambda p: -p[0])
        if night:
            for _, actor, state in placed:
                if actor.cls is ObjectClass.VEHICLE:
                    car_beam(img, self.view, state, actor.size[0], actor.size[1])
        truth = []
        for _, actor, state in placed:
            drawn: PixelBox | None
            if actor.cls is ObjectClass.VEHICLE:
                drawn = draw_car(img, self.view, state, actor.size, actor.colour, night)
            else:
                drawn = draw_person(img, self.view, state, actor.size[2], actor.colour, night)
            if drawn is None:
                continue
            w, h = self.view.width, self.view.height
            box = Box(drawn[0] / w, drawn[1] / h, (drawn[2] + 1) / w, (drawn[3] + 1) / h)
            foot = self.view.fraction(state.x, state.z)
            truth.append(
                TruthObject(actor.id, actor.cls, box, foot, (state.x, state.z), abs(state.speed))
            )
        return img, truth

    def frame_at(self, t: float) -> Image:
        return self.render(t)[0]

    def truth_at(self, t: float) -> list[TruthObject]:
        return self.render(t)[1]

    # ground truth over time ----------------------------------------------------------------

    def crossings(
        self,
        a: ImagePoint,
        b: ImagePoint,
        t0: float,
        t1: float,
        classes: Collection[ObjectClass] | None = None,
    ) -> list[Crossing]:
        """Every crossing of the segment a-b (image fractions) by an object's foot point in
        [t0, t1), in time order. Forward: from the left of a -> b to its right, as seen on the
        screen (image y down), as in ``cityops.domain.analytics.LineDirection``."""
        out = []
        for actor in self.actors_between(t0, t1):
            if classes is not None and actor.cls not in classes:
                continue
            for ta, tb, pa, pb in actor.pieces(t0, t1):
                ia, ib = self.view.fraction(*pa), self.view.fraction(*pb)
                right_a, right_b = side(ia, a, b), side(ib, a, b)
                hit = segment_hit(ia, ib, a, b) if right_a != right_b else None
                if hit is None:
                    continue
                u = hit[0]
                gx, gz = self.view.ground(ia[0] + u * (ib[0] - ia[0]), ia[1] + u * (ib[1] - ia[1]))
                span = math.hypot(pb[0] - pa[0], pb[1] - pa[1])
                g = math.hypot(gx - pa[0], gz - pa[1]) / span if span > 0 else 0.0
                t = ta + min(1.0, g) * (tb - ta)
                if t0 <= t < t1:
                    direction = LineDirection.FORWARD if right_b else LineDirection.BACKWARD
                    out.append(Crossing(actor.id, actor.cls, t, direction))
        out.sort(key=lambda c: (c.t, c.object_id))
        return out

    def crossing_counts(
        self,
        a: ImagePoint,
        b: ImagePoint,
        t0: float,
        t1: float,
        classes: Collection[ObjectClass] | None = None,
    ) -> dict[LineDirection, int]:
        counts = dict.fromkeys(LineDirection, 0)
        for c in self.crossings(a, b, t0, t1, classes):
            counts[c.direction] += 1
        return counts

    def dwell(
        self,
        polygon: Sequence[ImagePoint],
        t0: float,
        t1: float,
        classes: Collection[ObjectClass] | None = None,
    ) -> dict[int, float]:
        """Seconds each object's foot point spends inside ``polygon`` (image fractions) in
        [t0, t1]; objects never inside are left out."""
        ground = self._ground_polygon(polygon)
        out: dict[int, float] = {}
        if ground is None:
            return out
        for actor in self.actors_between(t0, t1):
            if classes is not None and actor.cls not in classes:
                continue
            total = 0.0
            for ta, tb, pa, pb in actor.pieces(t0, t1):
                if pa == pb:
                    total += (tb - ta) if ground.covers(Point(pa)) else 0.0
                    continue
                seg = LineString([pa, pb])
                total += seg.intersection(ground).length / seg.length * (tb - ta)
            if total > 0.0:
                out[actor.id] = total
        return out

    def _ground_polygon(self, polygon: Sequence[ImagePoint]) -> ShapelyPolygon | None:
        """The part of an image polygon below the horizon, as a polygon on the ground."""
        below = shapely_box(-1e3, self.view.horizon_fraction + 1e-3, 1e3, 1e3)
        clipped = ShapelyPolygon(polygon).intersection(below)
        if clipped.is_empty or not isinstance(clipped, ShapelyPolygon):
            return None
        return ShapelyPolygon([self.view.ground(x, y) for x, y in clipped.exterior.coords])


def open_synthetic(url: str, width: int = 640, height: int = 360) -> SyntheticScene:
    """The scene a ``synthetic://<scene>?seed=N&night=0|1|auto...`` URL names (ValueError when
    the URL is malformed; see ``cityops.domain.scenes``)."""
    return SyntheticScene(SceneSpec.parse(url), width, height)
