"""The scenes' scripts: what happens when the simulator (or a test) runs one at ``start``.

Crossing: two cars meet in the junction and stop there; their drivers get out and walk about.
School yard: someone comes in at the gate, lingers in the yard, and leaves.
"""

from __future__ import annotations

from cityops.domain.analytics import ObjectClass
from cityops.video.synthetic.actors import Actor, Motion, Route
from cityops.video.synthetic.traffic import dressed, timed

CAR, PERSON = ObjectClass.VEHICLE, ObjectClass.PERSON
SCRIPT_ID_BASE = 10**15
MAIN_AWAY = Route((1.75, 4.0), (1.75, 300.0))
"""The crossing's inner lane away from the camera (the accident's first car comes along it)."""
CROSS_RIGHT = Route((-60.0, 38.5), (60.0, 38.5))
"""The crossing's cross-road lane moving right (the second car)."""


def accident(start: float, seed: int) -> list[Actor]:
    """Two cars meet in the junction and stop there (collision at start + 10 s) for almost five
    minutes; their drivers get out and walk about; then the cross-road car leaves, the other."""
    hold = 285.0
    key = (seed, "accident", start)
    car_a = Motion(
        (
            (start + 6.6, 0.0),
            (start + 9.0, 27.0),
            (start + 10.0, 30.0),
            (start + 10.0 + hold + 6.0, 30.0),
            (start + 10.0 + hold + 6.0 + 26.6, 296.0),
        )
    )
    car_b = Motion(
        (
            (start + 4.3, 0.0),
            (start + 9.5, 55.7),
            (start + 10.0, 58.7),
            (start + 10.0 + hold, 58.7),
            (start + 10.0 + hold + 6.1, 120.0),
        )
    )
    size_a, colour_a = dressed(CAR, *key, "a")
    size_b, colour_b = dressed(CAR, *key, "b")
    walk_a = Route((0.3, 33.0), (-2.5, 33.2), (-2.8, 30.8), (0.2, 30.6), (-1.2, 32.4))
    walk_b = Route((-1.2, 37.0), (-4.0, 36.6), (-4.6, 34.4), (-2.0, 34.9), (-3.2, 36.2))
    legs = [0.45, 0.35, 0.4, 0.3]
    base = SCRIPT_ID_BASE + int(start) * 8
    return [
        Actor(base + 1, CAR, MAIN_AWAY, car_a, size_a, colour_a),
        Actor(base + 2, CAR, CROSS_RIGHT, car_b, size_b, colour_b),
        _person(
            base + 3,
            walk_a,
            timed(start + 25.0, walk_a, legs, {2: 40.0, 3: 60.0}),
            key,
            "pa",
            start + hold - 5.0,
        ),
        _person(
            base + 4,
            walk_b,
            timed(start + 32.0, walk_b, legs, {1: 50.0, 3: 70.0}),
            key,
            "pb",
            start + hold - 5.0,
        ),
    ]


def _person(
    actor_id: int, route: Route, motion: Motion, key: tuple[object, ...], tag: str, until: float
) -> Actor:
    """A person who, at the end of their walk, stands until ``until``."""
    last_t, last_d = motion.keys[-1]
    keys = motion.keys + (((until, last_d),) if until > last_t else ())
    size, colour = dressed(PERSON, *key, tag)
    return Actor(actor_id, PERSON, route, Motion(keys), size, colour)


def intrusion(start: float, seed: int) -> list[Actor]:
    route = Route(
        (30.0, 39.8),
        (4.5, 39.8),
        (4.5, 36.0),
        (-2.0, 26.0),
        (-6.0, 22.0),
        (-3.0, 19.0),
        (1.0, 22.0),
        (-2.0, 24.5),
        (4.5, 36.0),
        (4.5, 39.8),
        (-30.0, 39.8),
    )
    speeds = [1.4, 1.2, 1.1, 0.6, 0.5, 0.5, 0.5, 1.0, 1.2, 1.4]
    motion = timed(start, route, speeds, {4: 60.0, 6: 70.0, 7: 40.0})
    size, colour = dressed(PERSON, seed, "intruder", start)
    return [Actor(SCRIPT_ID_BASE + int(start) * 8 + 1, PERSON, route, motion, size, colour)]
