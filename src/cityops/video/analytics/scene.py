"""Scene logic on tracks: zones (presence, intrusion, loitering, crowding, stopped vehicle,
wrong way) and counting lines, each condition reported once per episode.

An object is in a zone when its foot point (bottom centre of its box) is inside the polygon and
the zone's schedule is active in the municipality's local time. Its episode in the zone ends when
it has been outside (or unseen) for ``leave_s``; the conditions of that episode (entry, loitering,
stopped, wrong way) are each reported at most once. An intrusion zone reports per *visit*
instead of per track: ``intrusion`` when someone is inside after nobody was for ``visit_gap_s``,
``loitering`` once the visit has lasted ``loiter_s``, so a lost and found track (or a second
intruder) is no new intrusion. Crowding is an episode of the zone: it starts
when more than ``crowd_max`` people are inside and ends after ``crowd_clear_s`` at or below it.
Every event's ``attributes`` carry what makes it unique: ``track_id``, ``zone`` and ``since``
(when the episode started), so the worker derives a stable event id from them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from cityops.domain.analytics import (
    AnalyticsEventKind,
    AnalyticsZone,
    CameraAnalytics,
    ImagePoint,
    ObjectClass,
    ZoneKind,
)
from cityops.video.analytics.geometry import ZoneShape, angle_between, distance, heading_deg
from cityops.video.analytics.lines import Crossing, LineCounter
from cityops.video.analytics.types import AnalyticsEvent, LineCount, TrackedObject

CLASS_EVENTS = {
    ObjectClass.PERSON: AnalyticsEventKind.PERSON,
    ObjectClass.VEHICLE: AnalyticsEventKind.VEHICLE,
    ObjectClass.BICYCLE: AnalyticsEventKind.BICYCLE,
}


@dataclass(frozen=True, slots=True)
class SceneConfig:
    leave_s: float = 3.0
    """Outside a zone (or unseen) this long ends an object's episode there (a blob lost for a
    second or two, a step across the edge, is still the same visit)."""
    visit_gap_s: float = 300.0
    """An intrusion zone's visit ends when nobody has been seen inside for this long: one
    ``intrusion`` (and at most one ``loitering``) per visit, however often the intruder's track
    is lost and found again (at night in a dark yard an intruder who stands still may be
    invisible for minutes: up to 136 s on the rendered yards)."""
    crowd_clear_s: float = 5.0
    """Crowding ends after this long at or below the zone's crowd_max."""
    still_distance: float = 0.02
    """A vehicle that moved less than this (image heights) in stopped_s is stopped."""
    heading_window_s: float = 1.0
    """Wrong way is judged on the movement over this long ..."""
    heading_min_move: float = 0.03
    """... when it is at least this far (image heights): a standing object has no direction."""


@dataclass(slots=True)
class _Episode:
    since: datetime
    last_inside: float
    reported: set[AnalyticsEventKind] = field(default_factory=set)


@dataclass(slots=True)
class _ZoneState:
    zone: AnalyticsZone
    shape: ZoneShape
    episodes: dict[int, _Episode] = field(default_factory=dict)
    visit: _Episode | None = None
    crowd_since: datetime | None = None
    crowd_low_since: float | None = None


class SceneLogic:
    def __init__(
        self, analytics: CameraAnalytics, *, timezone: str, config: SceneConfig | None = None
    ) -> None:
        self.config = config or SceneConfig()
        self.tz = ZoneInfo(timezone)
        self.analytics = analytics
        self._zones = [_ZoneState(z, ZoneShape(z.polygon)) for z in analytics.zones]
        self._lines = [LineCounter(line) for line in analytics.lines]
        self._history: dict[int, deque[tuple[float, ImagePoint]]] = {}
        self._seen_tracks: dict[int, float] = {}
        self._keep_s = (
            max(
                [self.config.heading_window_s]
                + [z.stopped_s for z in analytics.zones if z.stopped_s is not None]
            )
            + 1.0
        )

    def update(
        self, objects: Sequence[TrackedObject], ts: datetime, aspect: float = 1.0
    ) -> tuple[list[AnalyticsEvent], list[LineCount]]:
        t = ts.timestamp()
        self._remember(objects, t)
        events: list[AnalyticsEvent] = []
        if not self._zones:
            events += self._new_objects(objects, ts)
        local = ts.astimezone(self.tz).time()
        for state in self._zones:
            active = state.zone.schedule.active(local)
            events += self._zone(state, objects if active else (), ts, aspect)
        counts: list[LineCount] = []
        for counter in self._lines:
            crossings, closed = counter.update(objects, ts, aspect)
            counts += closed
            if not counter.line.sensors:  # a line without counters reports each crossing
                events += [_crossing_event(c) for c in crossings]
        return events, counts

    def _remember(self, objects: Sequence[TrackedObject], t: float) -> None:
        for obj in objects:
            hist = self._history.setdefault(obj.track_id, deque())
            if not hist or hist[-1][0] < t:
                hist.append((t, obj.box.foot))
            while hist and t - hist[0][0] > self._keep_s:
                hist.popleft()
        gone = [tid for tid, h in self._history.items() if t - h[-1][0] > self._keep_s]
        for tid in gone:
            del self._history[tid]

    def _new_objects(self, objects: Sequence[TrackedObject], ts: datetime) -> list[AnalyticsEvent]:
        """Without zones, each new object of a known class is one event."""
        t = ts.timestamp()
        out = []
        for obj in objects:
            if obj.track_id not in self._seen_tracks and obj.cls in CLASS_EVENTS:
                out.append(_event(CLASS_EVENTS[obj.cls], ts, obj, None, ts))
            self._seen_tracks[obj.track_id] = t
        self._seen_tracks = {k: v for k, v in self._seen_tracks.items() if t - v <= 60.0}
        return out

    def _zone(
        self, state: _ZoneState, objects: Sequence[TrackedObject], ts: datetime, aspect: float
    ) -> list[AnalyticsEvent]:
        zone, t, out = state.zone, ts.timestamp(), []
        inside = [o for o in objects if o.cls in zone.classes and state.shape.contains(o.box.foot)]
        if zone.kind is ZoneKind.INTRUSION:
            out += self._visit(state, inside, ts)
        for obj in inside:
            ep = state.episodes.get(obj.track_id)
            if ep is None:
                ep = state.episodes[obj.track_id] = _Episode(ts, t)
                kind = CLASS_EVENTS.get(obj.cls) if zone.kind is ZoneKind.PRESENCE else None
                if kind is not None:
                    out.append(_event(kind, ts, obj, zone.id, ep.since))
            ep.last_inside = t
            for kind in self._conditions(zone, obj, ep, t, aspect):
                if kind not in ep.reported:
                    ep.reported.add(kind)
                    out.append(_event(kind, ts, obj, zone.id, ep.since))
        for tid in [
            k for k, ep in state.episodes.items() if t - ep.last_inside > self.config.leave_s
        ]:
            del state.episodes[tid]
        crowd = self._crowding(state, inside, ts)
        return out + ([crowd] if crowd else [])

    def _visit(
        self, state: _ZoneState, inside: Sequence[TrackedObject], ts: datetime
    ) -> list[AnalyticsEvent]:
        """An intrusion zone's visit: ``intrusion`` when someone is inside and nobody was for
        ``visit_gap_s``, ``loitering`` once the visit has lasted ``loiter_s`` (a person inside)."""
        zone, t, out = state.zone, ts.timestamp(), []
        visit = state.visit
        if visit is not None and t - visit.last_inside > self.config.visit_gap_s:
            visit = state.visit = None
        if not inside:
            return []
        if visit is None:
            visit = state.visit = _Episode(ts, t)
            out.append(_event(AnalyticsEventKind.INTRUSION, ts, inside[0], zone.id, ts))
        visit.last_inside = t
        people = [o for o in inside if o.cls is ObjectClass.PERSON]
        if (
            zone.loiter_s is not None
            and people
            and t - visit.since.timestamp() > zone.loiter_s
            and AnalyticsEventKind.LOITERING not in visit.reported
        ):
            visit.reported.add(AnalyticsEventKind.LOITERING)
            out.append(_event(AnalyticsEventKind.LOITERING, ts, people[0], zone.id, visit.since))
        return out

    def _conditions(
        self, zone: AnalyticsZone, obj: TrackedObject, ep: _Episode, t: float, aspect: float
    ) -> list[AnalyticsEventKind]:
        cfg, found = self.config, []
        hist = self._history.get(obj.track_id, deque())
        if (
            zone.kind is ZoneKind.PRESENCE  # an intrusion zone's loitering is its visit's
            and zone.loiter_s is not None
            and obj.cls is ObjectClass.PERSON
            and t - ep.since.timestamp() > zone.loiter_s
        ):
            found.append(AnalyticsEventKind.LOITERING)
        if zone.stopped_s is not None and obj.cls is ObjectClass.VEHICLE and hist:
            window = [p for ts_, p in hist if t - ts_ <= zone.stopped_s]
            if (
                t - ep.since.timestamp() >= zone.stopped_s
                and t - hist[0][0] >= zone.stopped_s
                and all(distance(p, obj.box.foot, aspect) <= cfg.still_distance for p in window)
            ):
                found.append(AnalyticsEventKind.STOPPED_VEHICLE)
        if zone.direction_deg is not None and hist:
            old = [p for ts_, p in hist if t - ts_ >= cfg.heading_window_s]
            start = old[-1] if old else None
            if start is not None and distance(start, obj.box.foot, aspect) >= cfg.heading_min_move:
                heading = heading_deg(start, obj.box.foot, aspect)
                if angle_between(heading, zone.direction_deg) > 90.0:
                    found.append(AnalyticsEventKind.WRONG_WAY)
        return found

    def _crowding(
        self, state: _ZoneState, inside: Sequence[TrackedObject], ts: datetime
    ) -> AnalyticsEvent | None:
        limit = state.zone.crowd_max
        if limit is None:
            return None
        people = [o for o in inside if o.cls is ObjectClass.PERSON]
        t = ts.timestamp()
        if len(people) > limit:
            state.crowd_low_since = None
            if state.crowd_since is None:
                state.crowd_since = ts
                return AnalyticsEvent(
                    AnalyticsEventKind.CROWDING,
                    ts,
                    zone=state.zone.id,
                    cls=ObjectClass.PERSON,
                    boxes=tuple(o.box for o in people),
                    attributes={
                        "zone": state.zone.id,
                        "since": ts.isoformat(),
                        "people": str(len(people)),
                    },
                )
        elif state.crowd_since is not None:
            if state.crowd_low_since is None:
                state.crowd_low_since = t
            elif t - state.crowd_low_since >= self.config.crowd_clear_s:
                state.crowd_since = state.crowd_low_since = None
        return None


def _event(
    kind: AnalyticsEventKind,
    ts: datetime,
    obj: TrackedObject,
    zone: str | None,
    since: datetime,
) -> AnalyticsEvent:
    attrs = {"track_id": str(obj.track_id), "since": since.isoformat()}
    if zone is not None:
        attrs["zone"] = zone
    return AnalyticsEvent(
        kind,
        ts,
        zone=zone,
        track_id=obj.track_id,
        cls=obj.cls,
        confidence=obj.score,
        boxes=(obj.box,),
        attributes=attrs,
    )


def _crossing_event(c: Crossing) -> AnalyticsEvent:
    return AnalyticsEvent(
        AnalyticsEventKind.LINE_CROSSING,
        c.ts,
        track_id=c.track.track_id,
        cls=c.track.cls,
        confidence=c.track.score,
        boxes=(c.track.box,),
        attributes={
            "track_id": str(c.track.track_id),
            "line": c.line_id,
            "direction": c.direction.value,
        },
    )
