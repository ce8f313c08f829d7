"""Things that move through a synthetic scene along known paths at known speeds.

An actor follows a ``Route`` (a polyline on the ground) with a ``Motion`` (keyframes of time and
distance travelled, linear between them: constant speed, or standing still when the distance
does not change). Between keyframes and route corners its position is linear in time, so where
it is, when it crosses a line and how long it stays in a zone are computed exactly.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cityops.domain.analytics import ObjectClass
from cityops.video.synthetic.view import Ground


class Route:
    """A polyline on the ground, travelled from its first point to its last."""

    __slots__ = ("cum", "length", "points")

    def __init__(self, *points: Ground) -> None:
        if len(points) < 2:
            raise ValueError("a route needs at least two points")
        self.points = points
        cum = [0.0]
        for (x1, z1), (x2, z2) in itertools.pairwise(points):
            cum.append(cum[-1] + math.hypot(x2 - x1, z2 - z1))
        self.cum = tuple(cum)
        self.length = cum[-1]

    def at(self, d: float) -> tuple[float, float, float]:
        """(x, z, heading) at distance ``d`` along the route; heading in radians, 0 = +x."""
        d = min(max(d, 0.0), self.length)
        i = min(max(bisect.bisect_right(self.cum, d) - 1, 0), len(self.points) - 2)
        (x1, z1), (x2, z2) = self.points[i], self.points[i + 1]
        seg = self.cum[i + 1] - self.cum[i]
        f = (d - self.cum[i]) / seg if seg > 0 else 0.0
        return (x1 + f * (x2 - x1), z1 + f * (z2 - z1), math.atan2(z2 - z1, x2 - x1))

    def corners_between(self, d0: float, d1: float) -> list[float]:
        """Distances of the route's inner corners strictly between d0 and d1."""
        return [c for c in self.cum[1:-1] if d0 < c < d1]


@dataclass(frozen=True, slots=True)
class Motion:
    """Keyframes (t, distance): times increasing, distances never decreasing."""

    keys: tuple[tuple[float, float], ...]

    @classmethod
    def steady(cls, start: float, speed: float, length: float) -> Motion:
        return cls(((start, 0.0), (start + length / speed, length)))

    @property
    def start(self) -> float:
        return self.keys[0][0]

    @property
    def end(self) -> float:
        return self.keys[-1][0]

    def distance(self, t: float) -> tuple[float, float] | None:
        """(distance, speed) at ``t``, or None outside the motion."""
        keys = self.keys
        if t < keys[0][0] or t > keys[-1][0]:
            return None
        i = min(max(bisect.bisect_right([k[0] for k in keys], t) - 1, 0), len(keys) - 2)
        (t1, d1), (t2, d2) = keys[i], keys[i + 1]
        speed = (d2 - d1) / (t2 - t1)
        return (d1 + speed * (t - t1), speed)

    def time_at(self, d: float, t_from: float, t_to: float) -> float:
        """The first time in [t_from, t_to] the distance reaches ``d`` (a moving stretch)."""
        for (t1, d1), (t2, d2) in itertools.pairwise(self.keys):
            if d1 <= d <= d2 and d2 > d1 and t2 >= t_from and t1 <= t_to:
                return t1 + (d - d1) / (d2 - d1) * (t2 - t1)
        return t_from


@dataclass(frozen=True, slots=True)
class ActorState:
    x: float
    z: float
    heading: float
    speed: float
    distance: float


@dataclass(frozen=True, slots=True)
class Actor:
    id: int
    cls: ObjectClass
    route: Route
    motion: Motion
    size: tuple[float, float, float]
    """Length, width and height in metres."""
    colour: tuple[int, int, int]
    """BGR of the body (a car's paint, a person's coat)."""

    def state(self, t: float) -> ActorState | None:
        got = self.motion.distance(t)
        if got is None:
            return None
        d, speed = got
        x, z, heading = self.route.at(d)
        return ActorState(x, z, heading, speed, d)

    def pieces(self, t0: float, t1: float) -> Iterator[tuple[float, float, Ground, Ground]]:
        """(ta, tb, where at ta, where at tb) over [t0, t1], linear in time within each."""
        lo, hi = max(t0, self.motion.start), min(t1, self.motion.end)
        if lo >= hi:
            return
        times = {lo, hi}
        for (ta, da), (tb, db) in itertools.pairwise(self.motion.keys):
            if lo < ta < hi:
                times.add(ta)
            for c in self.route.corners_between(da, db):
                tc = ta + (c - da) / (db - da) * (tb - ta)
                if lo < tc < hi:
                    times.add(tc)
        ordered = sorted(times)
        for ta, tb in itertools.pairwise(ordered):
            sa, sb = self.state(ta), self.state(tb)
            assert sa is not None
            assert sb is not None
            yield ta, tb, (sa.x, sa.z), (sb.x, sb.z)


def segment_hit(
    p1: tuple[float, float], p2: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float] | None:
    """(u, v): p1 + u (p2 - p1) = a + v (b - a) with both in [0, 1], or None."""
    rx, ry = p2[0] - p1[0], p2[1] - p1[1]
    sx, sy = b[0] - a[0], b[1] - a[1]
    den = rx * sy - ry * sx
    if den == 0.0:
        return None
    qx, qy = a[0] - p1[0], a[1] - p1[1]
    u = (qx * sy - qy * sx) / den
    v = (qx * ry - qy * rx) / den
    if 0.0 <= u <= 1.0 and 0.0 <= v <= 1.0:
        return u, v
    return None


def side(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether ``p`` is right of the line a -> b as seen on the screen (image y down)."""
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) > 0.0


def stable_unit(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``parts`` (the same in every process)."""
    h = 1469598103934665603
    for ch in "\x1f".join(str(p) for p in parts).encode():
        h = ((h ^ ch) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 29
    h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 32
    return (h >> 11) / float(1 << 53)


def pick(options: Sequence[tuple[int, int, int]], *parts: object) -> tuple[int, int, int]:
    return options[int(stable_unit(*parts) * len(options))]
