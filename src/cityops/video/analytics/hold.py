"""Held objects: a tracked object that stops (a car in an accident, a person who lingers) stays
an object instead of fading into the background.

A track is *held* once it has moved by its own size over more than one frame (so the ghost
of something that stood there when the camera started, or anything that never moved, is not,
nor a track that jumped onto such a ghost in one frame), for ``hold_s`` after it last moved
by its own size; after that it becomes background (a parked car). While held:

- the motion stage does not learn the background under its box (grown by ``pad`` of its size
  on every side), so the pixels of a stopped object keep differing from the background (the
  empty road or yard behind it);
- a held track that has stood for ``still_s`` and got no detection in a frame (two stopped
  cars merged into one blob, a person whose still body is no longer a clean blob) is *kept*
  when the pixels that still differ from the background in its grown box add up to
  ``keep_changed`` of its box: the object is still there, standing. When it leaves, its box
  matches the background again (which was not learnt under it) and the track ends as usual
  after the tracker's ``max_age_s``.

The state lives per track id, for every track the tracker still holds (including those
waiting for a detection), so one frame without a detection does not reset it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from cityops.video.analytics.types import Box, TrackedObject


@dataclass(frozen=True, slots=True)
class HoldConfig:
    hold_s: float = 300.0
    """How long after it last moved by its own size a tracked object is held."""
    pad: float = 0.0
    """A held box is grown by this fraction of its width and height on every side (measured on
    the rendered crossing's accident, 40 camera runs: 0.25 and 0.5 reported 34, 0 reported 36)."""
    still_s: float = 10.0
    """A held track is kept without a detection only once it has stood (not moved by its own
    size) this long: a moving car that misses a detection is left to the tracker's prediction.
    On the real motorway clip far cars move less than their own height in a second: kept after
    1 s standing, 18 of the 23 cars away from the camera were counted (21 with 10 s); with 3 s
    the PETS walkway lost a crossing (8 against 9 to the left)."""
    keep_changed: float = 0.3
    """A held track without a detection is kept while the pixels of its grown box that differ
    from the background add up to this fraction of its box."""


@dataclass(slots=True)
class _Moves:
    anchor: tuple[float, float]
    """The box centre when the object last moved by its own size (or was first seen)."""
    moved_at: float | None = None
    """When it last moved by its own size; None: never since it was first seen."""


class Holder:
    def __init__(self, config: HoldConfig | None = None) -> None:
        self.config = config or HoldConfig()
        self._moves: dict[int, _Moves] = {}
        self._lost: list[tuple[Box, float | None]] = []
        self._boxes: dict[int, Box] = {}

    def held(
        self, alive: Sequence[TrackedObject], seen: Collection[int], t: float
    ) -> list[TrackedObject]:
        """The tracks in ``alive`` (every track the tracker holds; ``seen``: the ids of those
        detected in the latest frame) that are held at ``t``; forgets the tracks no longer
        alive. A new track that overlaps a held object that lost its detection in the previous
        frame is held like it: the blob of two cars that met and stopped, or a part of a held
        blob that split, gets a new track that never moved. (A held object that is still
        detected passes nothing on: what it leaves behind is no object.)"""
        moves: dict[int, _Moves] = {}
        out = []
        for o in alive:
            m = self._moves.get(o.track_id) or _Moves(o.box.center, self._inherited(o.box))
            previous = self._boxes.get(o.track_id)
            if previous is not None and _beyond(previous.center, o.box):
                m.anchor = o.box.center  # a jump (a swap, a merge with a ghost): not a move
            elif _beyond(m.anchor, o.box):
                m.anchor, m.moved_at = o.box.center, t
            moves[o.track_id] = m
            if m.moved_at is not None and t - m.moved_at < self.config.hold_s:
                out.append(o)
        lost = {tid: m for tid, m in self._moves.items() if tid not in seen}
        self._moves = moves
        self._lost = [
            (_grow(box, self.config.pad), m.moved_at)
            for tid, m in lost.items()
            if m.moved_at is not None and (box := self._boxes.get(tid)) is not None
        ]
        self._boxes = {o.track_id: o.box for o in alive}
        return out

    def _inherited(self, box: Box) -> float | None:
        """When the latest held object that lost its detection where ``box`` is moved."""
        times = [
            moved_at
            for grown, moved_at in self._lost
            if moved_at is not None and _overlap(grown, box)
        ]
        return max(times, default=None)

    def grown(self, held: Sequence[TrackedObject]) -> list[Box]:
        """The held objects' boxes grown by ``pad``: where the background is not learnt."""
        return [_grow(o.box, self.config.pad) for o in held]

    def still_there(
        self,
        held: Sequence[TrackedObject],
        seen: Sequence[int],
        changed_area: Callable[[Box], float],
        t: float,
    ) -> list[int]:
        """The held tracks without a detection this frame (not in ``seen``) that have stood
        for ``still_s`` and are still there (``changed_area``: how much of a box differs from
        the background)."""
        cfg, ids, out = self.config, set(seen), []
        for o in held:
            m = self._moves.get(o.track_id)
            if o.track_id in ids or m is None or m.moved_at is None or t - m.moved_at < cfg.still_s:
                continue
            area = (o.box.x2 - o.box.x1) * (o.box.y2 - o.box.y1)
            if changed_area(_grow(o.box, cfg.pad)) >= cfg.keep_changed * area:
                out.append(o.track_id)
        return out


def _grow(b: Box, pad: float) -> Box:
    dx, dy = pad * (b.x2 - b.x1), pad * (b.y2 - b.y1)
    return Box(max(0.0, b.x1 - dx), max(0.0, b.y1 - dy), min(1.0, b.x2 + dx), min(1.0, b.y2 + dy))


def _overlap(a: Box, b: Box) -> bool:
    return a.x1 < b.x2 and b.x1 < a.x2 and a.y1 < b.y2 and b.y1 < a.y2


def _beyond(point: tuple[float, float], box: Box) -> bool:
    """Whether ``box``'s centre is farther than its own width or height from ``point``."""
    (x0, y0), (x, y) = point, box.center
    return abs(x - x0) > box.x2 - box.x1 or abs(y - y0) > box.y2 - box.y1
