"""Streams of cars and pedestrians: on a route, in slots of a repeating cycle, passing a
checkpoint (a crossing's conflict point) only in their green window, so streams that cross never
meet. Every actor is fixed by (seed, stream, cycle, slot): any time can be drawn on its own."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cityops.domain.analytics import ObjectClass
from cityops.video.synthetic.actors import Actor, Motion, Route, pick, stable_unit

CAR_SIZES: tuple[tuple[float, float, float], ...] = (
    (4.3, 1.8, 1.45),
    (4.7, 1.85, 1.5),
    (3.8, 1.7, 1.5),
    (5.2, 2.0, 1.95),
)
CAR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (40, 40, 200),
    (200, 200, 205),
    (30, 30, 30),
    (160, 90, 30),
    (40, 150, 230),
    (235, 235, 235),
    (60, 110, 60),
)
COATS: tuple[tuple[int, int, int], ...] = (
    (40, 60, 150),
    (150, 70, 40),
    (50, 140, 200),
    (90, 90, 90),
    (160, 160, 60),
    (120, 40, 120),
)


def dressed(
    cls: ObjectClass, *key: object
) -> tuple[tuple[float, float, float], tuple[int, int, int]]:
    """Size and colour of an actor, fixed by ``key``."""
    if cls is ObjectClass.VEHICLE:
        size = CAR_SIZES[int(stable_unit("size", *key) * len(CAR_SIZES))]
        return size, pick(CAR_COLOURS, "colour", *key)
    height = 1.55 + 0.35 * stable_unit("height", *key)
    return (0.5, 0.5, height), pick(COATS, "coat", *key)


@dataclass(frozen=True, slots=True)
class Stream:
    name: str
    cls: ObjectClass
    route: Route
    checkpoint_m: float
    """Distance along the route of the point the green window applies to."""
    period_s: float
    window: tuple[float, float]
    """Seconds into each cycle during which actors pass the checkpoint."""
    slots: int
    fill: float
    """Chance that a slot holds an actor."""
    speed: tuple[float, float]
    """The stream's one speed (m/s) is drawn from this range by the seed (no overtaking)."""
    yields_to_script: bool = True
    """Actors due at the checkpoint while a script runs stay away (the junction is blocked)."""

    def stream_speed(self, seed: int) -> float:
        lo, hi = self.speed
        return lo + (hi - lo) * stable_unit(seed, self.name, "speed")

    def actors(
        self,
        seed: int,
        index: int,
        t0: float,
        t1: float,
        blocked: Sequence[tuple[float, float]] = (),
    ) -> list[Actor]:
        """The stream's actors on the route at some time in [t0, t1]."""
        v = self.stream_speed(seed)
        before, after = self.checkpoint_m / v, (self.route.length - self.checkpoint_m) / v
        k0 = math.floor((t0 - after) / self.period_s) - 1
        k1 = math.floor((t1 + before) / self.period_s) + 1
        w0, w1 = self.window
        gap = (w1 - w0) / self.slots
        out = []
        for k in range(k0, k1 + 1):
            for j in range(self.slots):
                key = (seed, self.name, k, j)
                if stable_unit("fill", *key) >= self.fill:
                    continue
                at = k * self.period_s + w0 + gap * (j + 0.2 + 0.6 * stable_unit("at", *key))
                start = at - before
                if start > t1 or at + after < t0:
                    continue
                if self.yields_to_script and any(b0 <= at <= b1 for b0, b1 in blocked):
                    continue
                size, colour = dressed(self.cls, *key)
                actor_id = (k * 16 + j) * 64 + index
                motion = Motion.steady(start, v, self.route.length)
                out.append(Actor(actor_id, self.cls, self.route, motion, size, colour))
        return out


def timed(
    start: float,
    route: Route,
    speeds: Sequence[float],
    pauses: dict[int, float] | None = None,
) -> Motion:
    """A motion along ``route`` with one speed per leg and a pause (s) at some corners."""
    if len(speeds) != len(route.points) - 1:
        raise ValueError("one speed per leg of the route")
    keys = [(start, 0.0)]
    t = start
    for i, speed in enumerate(speeds):
        t += (route.cum[i + 1] - route.cum[i]) / speed
        keys.append((t, route.cum[i + 1]))
        pause = (pauses or {}).get(i + 1, 0.0)
        if pause > 0.0:
            t += pause
            keys.append((t, route.cum[i + 1]))
    return Motion(tuple(keys))
