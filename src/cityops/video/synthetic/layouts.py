"""The three scenes: what is built where, which streams pass, and what each script does.

Ground metres: x to the right of the camera, z ahead. Right-hand traffic (Bulgaria).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cityops.domain.analytics import ObjectClass
from cityops.domain.scenes import SceneKind
from cityops.video.synthetic.actors import Actor, Route
from cityops.video.synthetic.background import (
    ASPHALT,
    GRASS,
    MARKING,
    PAVEMENT,
    YARD,
    Building,
    Quad,
    Scenery,
)
from cityops.video.synthetic.scripts import CROSS_RIGHT, MAIN_AWAY, accident, intrusion
from cityops.video.synthetic.traffic import Stream

CAR, PERSON = ObjectClass.VEHICLE, ObjectClass.PERSON

ScriptActors = Callable[[float, int], list[Actor]]


@dataclass(frozen=True, slots=True)
class Layout:
    scenery: Scenery
    streams: tuple[Stream, ...]
    script: ScriptActors | None = None


def _dashes(x: float, z0: float, z1: float, width: float = 0.15) -> list[Quad]:
    out, z = [], z0
    while z < z1:
        out.append(Quad(x - width / 2, x + width / 2, z, min(z + 3.0, z1), MARKING))
        z += 9.0
    return out


def _zebra(x0: float, x1: float, z0: float, z1: float) -> list[Quad]:
    out, x = [], x0
    while x < x1:
        out.append(Quad(x, x + 0.5, z0, z1, MARKING))
        x += 1.0
    return out


# crossing ------------------------------------------------------------------------------------
# Main road x -7..7 (two lanes each way), cross road z 36..46; zebra across the main road at
# z 30..33. Cycle of 60 s: the main road passes the junction in 0..26 s, the cross road and the
# pedestrians on the zebra in 30..56 s.


def _free(
    name: str, cls: ObjectClass, route: Route, period: float, fill: float, speed: float
) -> Stream:
    """A stream with no junction to pass: one actor slot per period, speed within 20 %."""
    slow = cls is PERSON
    return Stream(name, cls, route, 0.0, period, (0.0, period), 1, fill, (speed, speed * 1.2), slow)


def _crossing_streams() -> tuple[Stream, ...]:
    main, cross, walk = (0.0, 26.0), (30.0, 56.0), (31.0, 40.0)
    away_2 = Route((5.25, 4.0), (5.25, 300.0))
    toward, toward_2 = Route((-1.75, 300.0), (-1.75, 4.0)), Route((-5.25, 300.0), (-5.25, 4.0))
    cross_left = Route((60.0, 43.5), (-60.0, 43.5))
    zebra_east, zebra_west = Route((-9.5, 31.5), (9.5, 31.5)), Route((9.5, 31.8), (-9.5, 31.8))
    rows: list[tuple[str, ObjectClass, Route, float, tuple[float, float], int, float, float]] = [
        # name, class, route, checkpoint (m), green window (s), slots, fill, speed (m/s)
        ("main-away", CAR, MAIN_AWAY, 37.0, main, 3, 0.8, 9.0),
        ("main-away-2", CAR, away_2, 37.0, main, 2, 0.6, 10.0),
        ("main-toward", CAR, toward, 259.0, main, 3, 0.8, 9.0),
        ("main-toward-2", CAR, toward_2, 259.0, main, 2, 0.6, 10.0),
        ("cross-right", CAR, CROSS_RIGHT, 60.0, cross, 3, 0.8, 8.0),
        ("cross-left", CAR, cross_left, 60.0, cross, 3, 0.8, 8.0),
        ("zebra-east", PERSON, zebra_east, 2.5, walk, 2, 0.7, 1.2),
        ("zebra-west", PERSON, zebra_west, 2.5, walk, 2, 0.7, 1.2),
    ]
    streams = [
        Stream(name, cls, route, at, 60.0, green, slots, fill, (v, v * 1.3), cls is CAR)
        for name, cls, route, at, green, slots, fill, v in rows
    ]
    left = Route((-8.5, 5.0), (-8.5, 34.5), (-30.0, 34.5))
    right = Route((30.0, 34.8), (8.6, 34.8), (8.6, 5.0))
    return (
        *streams,
        _free("walk-left", PERSON, left, 22.0, 0.6, 1.1),
        _free("walk-right", PERSON, right, 25.0, 0.6, 1.1),
    )


def _crossing() -> Layout:
    ground = [
        Quad(-40.0, -10.0, 3.0, 33.0, GRASS),
        Quad(-10.0, -7.0, 3.0, 36.0, PAVEMENT),
        Quad(7.0, 10.0, 3.0, 36.0, PAVEMENT),
        Quad(-400.0, 400.0, 33.0, 36.0, PAVEMENT),
        Quad(-400.0, 400.0, 46.0, 49.0, PAVEMENT),
        Quad(-10.0, -7.0, 49.0, 400.0, PAVEMENT),
        Quad(7.0, 10.0, 49.0, 400.0, PAVEMENT),
        Quad(-7.0, 7.0, 3.0, 400.0, ASPHALT),
        Quad(-400.0, 400.0, 36.0, 46.0, ASPHALT),
    ]
    marks = [*_dashes(0.0, 3.0, 30.0), *_dashes(0.0, 49.0, 300.0), *_dashes(-3.5, 3.0, 30.0)]
    marks += [*_dashes(3.5, 3.0, 30.0), *_dashes(-3.5, 49.0, 300.0), *_dashes(3.5, 49.0, 300.0)]
    marks += [*_zebra(-7.0, 7.0, 30.0, 33.0), Quad(-7.0, 0.0, 28.8, 29.2, MARKING)]
    buildings = (
        Building(-60.0, -12.0, 14.0, 31.0, 12.0, (150, 170, 190)),
        Building(12.0, 60.0, 14.0, 31.0, 9.0, (170, 160, 150)),
        Building(-60.0, -12.0, 51.0, 80.0, 15.0, (140, 150, 175)),
        Building(12.0, 60.0, 51.0, 80.0, 10.0, (180, 180, 170)),
    )
    trees = tuple((x, z) for x in (-11.0, 11.0) for z in (58.0, 66.0, 74.0))
    lamps = ((-7.6, 20.0), (7.6, 20.0), (-7.6, 34.0), (7.6, 48.0), (-14.0, 48.0), (14.0, 34.5))
    scenery = Scenery(tuple(ground), buildings, trees, lamps, extra=tuple(marks))
    return Layout(scenery, _crossing_streams(), accident)


# schoolyard ----------------------------------------------------------------------------------
# The camera on the school looks across the yard (z < 38) to the fence, a quiet street
# (z 41..48) and houses beyond. Script: someone comes in at the gate (x 3..6) and lingers.


def _schoolyard() -> Layout:
    ground = (
        Quad(-60.0, 60.0, 3.0, 38.0, YARD),
        Quad(-25.0, -12.0, 8.0, 34.0, GRASS),
        Quad(-60.0, 60.0, 38.0, 41.0, PAVEMENT),
        Quad(-400.0, 400.0, 41.0, 48.0, ASPHALT),
        Quad(-400.0, 400.0, 48.0, 51.0, PAVEMENT),
        Quad(-400.0, 400.0, 51.0, 400.0, GRASS),
    )
    marks = (Quad(-8.0, 8.0, 18.0, 18.15, MARKING), Quad(-8.0, 8.0, 32.0, 32.15, MARKING))
    buildings = (
        Building(-45.0, -16.0, 53.0, 66.0, 8.0, (150, 165, 185)),
        Building(-10.0, 8.0, 54.0, 64.0, 7.0, (175, 175, 160)),
        Building(14.0, 45.0, 53.0, 66.0, 9.0, (165, 150, 140)),
    )
    trees = ((-18.0, 20.0), (-20.0, 30.0), (18.0, 26.0), (-30.0, 50.0), (26.0, 50.0))
    lamps = ((-6.0, 22.0), (10.0, 30.0), (-15.0, 40.5), (15.0, 40.5))
    fences = ((-60.0, 3.0, 38.0), (6.0, 60.0, 38.0))
    streams = (
        _free("street-right", CAR, Route((-60.0, 43.0), (60.0, 43.0)), 40.0, 0.5, 9.0),
        _free("street-left", CAR, Route((60.0, 46.0), (-60.0, 46.0)), 45.0, 0.5, 9.0),
        _free("pavement-right", PERSON, Route((-40.0, 40.2), (40.0, 40.2)), 70.0, 0.5, 1.1),
        _free("pavement-left", PERSON, Route((40.0, 49.5), (-40.0, 49.5)), 80.0, 0.5, 1.1),
    )
    return Layout(Scenery(ground, buildings, trees, lamps, fences, marks), streams, intrusion)


# street --------------------------------------------------------------------------------------


def _street() -> Layout:
    ground = (
        Quad(-400.0, 400.0, 3.0, 18.0, GRASS),
        Quad(-400.0, 400.0, 18.0, 22.0, PAVEMENT),
        Quad(-400.0, 400.0, 22.0, 30.0, ASPHALT),
        Quad(-400.0, 400.0, 30.0, 34.0, PAVEMENT),
    )
    marks = tuple(Quad(x, x + 3.0, 25.93, 26.07, MARKING) for x in range(-60, 60, 8))
    buildings = (
        Building(-70.0, -22.0, 36.0, 50.0, 11.0, (150, 165, 185)),
        Building(-18.0, 6.0, 36.0, 48.0, 14.0, (175, 170, 160)),
        Building(10.0, 70.0, 36.0, 52.0, 9.0, (160, 150, 150)),
    )
    trees = tuple((float(x), 19.0) for x in range(-24, 25, 12))
    lamps = tuple((float(x), 21.6) for x in range(-18, 19, 18))
    streams = (
        _free("lane-right", CAR, Route((-60.0, 24.0), (60.0, 24.0)), 15.0, 0.8, 9.0),
        _free("lane-left", CAR, Route((60.0, 28.0), (-60.0, 28.0)), 15.0, 0.8, 9.0),
        _free("near-walk", PERSON, Route((-30.0, 20.0), (30.0, 20.0)), 40.0, 0.7, 1.1),
        _free("far-walk", PERSON, Route((30.0, 32.0), (-30.0, 32.0)), 45.0, 0.7, 1.1),
    )
    return Layout(Scenery(ground, buildings, trees, lamps, extra=marks), streams)


LAYOUTS: dict[SceneKind, Layout] = {
    SceneKind.CROSSING: _crossing(),
    SceneKind.SCHOOLYARD: _schoolyard(),
    SceneKind.STREET: _street(),
}
