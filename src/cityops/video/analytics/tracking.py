"""Tracking: the same object keeps its id from frame to frame.

A small SORT-like tracker: each track predicts its box from its velocity, detections are
assigned to tracks by the Hungarian method (scipy's ``linear_sum_assignment``) on a cost of
1 - IoU plus the centre distance in box sizes, so a car that moved more than its own length
between two analysed frames (5 frames/s on a motorway) is still followed. A track is reported
after ``min_hits`` detections and dropped after ``max_age_s`` without one; its class is the
majority of its detections' classes. Why not Roboflow's ``trackers``: see docs/VIDEO.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from cityops.domain.analytics import ObjectClass
from cityops.video.analytics.types import Box, Detection, TrackedObject

_NO_MATCH = 1e6
SIZE_SMOOTHING = 0.3
"""Weight of a new detection's size in the track's box size."""
STANDING = 0.1
"""A detection whose centre is within this (in box sizes) of the track's is standing: it does
not vote for the track's class."""


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    max_distance: float = 2.0
    """Farthest a detection may be from a track's predicted centre, in box sizes."""
    max_age_s: float = 1.5
    """A track without a detection for this long is ended."""
    min_hits: int = 2
    """Detections before a track is reported (one-frame flickers never become objects)."""
    class_penalty: float = 0.5
    """Extra cost of giving a track a detection of another class."""


@dataclass(slots=True)
class _Track:
    id: int
    box: Box
    score: float
    last_t: float
    vx: float = 0.0
    vy: float = 0.0
    hits: int = 1
    votes: Counter[ObjectClass] = field(default_factory=Counter)

    @property
    def cls(self) -> ObjectClass:
        return self.votes.most_common(1)[0][0]

    def predicted(self, t: float) -> Box:
        dt = t - self.last_t
        dx, dy = self.vx * dt, self.vy * dt
        b = self.box
        return Box(b.x1 + dx, b.y1 + dy, b.x2 + dx, b.y2 + dy)

    def update(self, det: Detection, t: float) -> None:
        # a standing object's shape tells nothing new about its class (two stopped cars merged
        # into one tall blob are no person): only a detection that moved votes
        moved = centre_distance(self.box, det.box) > STANDING
        dt = t - self.last_t
        if dt > 0:
            (ox, oy), (nx, ny) = self.box.center, det.box.center
            vx, vy = (nx - ox) / dt, (ny - oy) / dt
            smooth = 0.5 if self.hits > 1 else 1.0
            self.vx += smooth * (vx - self.vx)
            self.vy += smooth * (vy - self.vy)
        # the centre follows the detection; the size is smoothed, so a blob that gains or loses
        # its shadow for a frame does not make the foot point jump
        (cx, cy), b = det.box.center, self.box
        k = SIZE_SMOOTHING
        hw = ((b.x2 - b.x1) + k * ((det.box.x2 - det.box.x1) - (b.x2 - b.x1))) / 2
        hh = ((b.y2 - b.y1) + k * ((det.box.y2 - det.box.y1) - (b.y2 - b.y1))) / 2
        self.box = Box(cx - hw, cy - hh, cx + hw, cy + hh)
        self.score, self.last_t = det.score, t
        self.hits += 1
        if moved:
            self.votes[det.cls] += 1


def iou(a: Box, b: Box) -> float:
    iw = min(a.x2, b.x2) - max(a.x1, b.x1)
    ih = min(a.y2, b.y2) - max(a.y1, b.y1)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter
    return inter / union if union > 0 else 0.0


def centre_distance(a: Box, b: Box) -> float:
    """Distance of the centres, in units of the boxes' mean width and height."""
    (ax, ay), (bx, by) = a.center, b.center
    w = max(1e-6, ((a.x2 - a.x1) + (b.x2 - b.x1)) / 2)
    h = max(1e-6, ((a.y2 - a.y1) + (b.y2 - b.y1)) / 2)
    return float(np.hypot((ax - bx) / w, (ay - by) / h))


def _backwards(track: _Track, box: Box) -> bool:
    """Whether ``box`` lies back along a moving vehicle's way, by more than half its size: a
    vehicle does not reverse between two analysed frames, so that is the one behind it. (Not
    for people: in a group their blobs merge and split, and the boxes jump back and forth.)"""
    if track.cls is not ObjectClass.VEHICLE or track.hits < 3:
        return False
    (x0, y0), (x, y) = track.box.center, box.center
    along = (x - x0) * track.vx + (y - y0) * track.vy
    return along < 0.0 and centre_distance(track.box, box) > 0.5


class Tracker:
    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._t = 0.0

    def _cost(self, detections: Sequence[Detection], t: float) -> npt.NDArray[np.float64]:
        cfg = self.config
        cost = np.full((len(self._tracks), len(detections)), _NO_MATCH)
        for i, track in enumerate(self._tracks):
            pred = track.predicted(t)
            for j, det in enumerate(detections):
                dist = centre_distance(pred, det.box)
                if dist <= cfg.max_distance and not _backwards(track, det.box):
                    penalty = cfg.class_penalty if det.cls is not track.cls else 0.0
                    cost[i, j] = 1.0 - iou(pred, det.box) + dist / 2 + penalty
        return cost

    def update(self, detections: Sequence[Detection], t: float) -> list[TrackedObject]:
        """Assigns this frame's detections (``t``: seconds, any origin) and returns the
        confirmed tracks."""
        matched: set[int] = set()
        self._t = t
        if self._tracks and detections:
            cost = self._cost(detections, t)
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                if cost[i, j] < _NO_MATCH:
                    self._tracks[i].update(detections[j], t)
                    matched.add(j)
        for j, det in enumerate(detections):
            if j not in matched:
                track = _Track(self._next_id, det.box, det.score, t)
                track.votes[det.cls] += 1
                self._tracks.append(track)
                self._next_id += 1
        self._tracks = [tr for tr in self._tracks if t - tr.last_t <= self.config.max_age_s]
        return self.objects()

    def alive(self) -> list[TrackedObject]:
        """Every confirmed track, also those waiting for a detection (at their last box)."""
        return [
            TrackedObject(tr.id, tr.cls, tr.box, tr.score)
            for tr in self._tracks
            if tr.hits >= self.config.min_hits
        ]

    def keep(self, track_id: int, t: float) -> None:
        """The object of ``track_id`` was seen standing where it was at ``t`` by other means
        than a detection (it still differs from the background): it stays, without velocity."""
        for tr in self._tracks:
            if tr.id == track_id and tr.last_t < t:
                tr.last_t, tr.vx, tr.vy = t, 0.0, 0.0

    def objects(self) -> list[TrackedObject]:
        """The confirmed tracks seen in the latest update (those waiting for a detection again
        are kept, but not shown where they no longer are)."""
        return [
            TrackedObject(tr.id, tr.cls, tr.box, tr.score)
            for tr in self._tracks
            if tr.hits >= self.config.min_hits and tr.last_t == self._t
        ]
