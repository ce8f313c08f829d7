"""Evaluators of the event rules: single camera events, and events that cluster in space and time.

Correlation state is stored under ``f"{rule_id}|events"`` (the window of recent events, the time
horizon and the next cluster number) and ``f"{rule_id}|cluster-<n>"`` (one per active cluster).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from cityops.domain.engine_support import (
    BadStateError,
    JsonValue,
    as_dict,
    as_list,
    as_num,
    as_opt_num,
    as_str,
    fmt_duration,
    fmt_num,
)
from cityops.domain.entities import Camera, LonLat
from cityops.domain.geo import LocalProjection, projection_for
from cityops.domain.observations import Event, EventSource
from cityops.domain.rules import CameraEventRule, CorrelationRule, Trigger, TriggerKind


def in_time_window(t: time, start: time, end: time) -> bool:
    """``start <= t < end``, wrapping past midnight if ``start > end``; start == end: all day."""
    if start < end:
        return start <= t < end
    if start > end:
        return t >= start or t < end
    return True


class CameraRuleEval:
    """A camera event rule; it keeps no state."""

    __slots__ = ("_between", "_cameras", "_only_cameras", "_only_zones", "_tz", "rule")

    def __init__(self, rule: CameraEventRule, cameras: Mapping[str, Camera], tz: tzinfo) -> None:
        self.rule = rule
        self._cameras = cameras
        self._tz = tz
        self._only_cameras = frozenset(rule.cameras)
        self._only_zones = frozenset(rule.zones)
        self._between = (
            None
            if rule.between is None
            else (rule.between[0].replace(tzinfo=None), rule.between[1].replace(tzinfo=None))
        )

    def on_event(self, event: Event, ts: float) -> Trigger | None:
        rule = self.rule
        if event.source is not EventSource.CAMERA:
            return None
        if self._only_cameras and event.source_id not in self._only_cameras:
            return None
        if self._only_zones and event.zone not in self._only_zones:
            return None
        confidence = 1.0 if event.confidence is None else event.confidence
        if confidence < rule.min_confidence:
            return None
        local = datetime.fromtimestamp(ts, self._tz)
        if self._between is not None and not in_time_window(local.time(), *self._between):
            return None
        camera = self._cameras.get(event.source_id)
        zone = event.zone or "*"
        subject = f"{event.source_id}:{zone}"
        where = camera.name if camera is not None else event.source_id
        in_zone = f" in zone {event.zone}" if event.zone else ""
        text = (
            f"{event.kind} seen by {where}{in_zone} at {local:%H:%M} local time "
            f"(confidence {confidence:.2f})"
        )
        return Trigger(
            rule_id=rule.id,
            municipality=rule.municipality,
            kind=TriggerKind.RAISED,
            at=event.ts,
            dedup_key=f"{rule.id}|{subject}",
            subject=subject,
            outcome=rule.outcome,
            text=text,
            location=event.position or (camera.position if camera is not None else None),
            event_ids=(event.event_id,),
        )


class Geo:
    """The metric frame shared by the correlation rules: a local projection around an origin.

    The origin is the municipality's centre (or its first camera or sensor); with none of those
    the first event's position is adopted, and stored with the state so a restart keeps it.
    """

    __slots__ = ("_configured", "_projection", "derived", "origin")

    def __init__(self, configured: LonLat | None) -> None:
        self._configured = configured
        self.reset()

    def reset(self) -> None:
        self.origin = self._configured
        self.derived = False
        self._projection: LocalProjection | None = (
            None if self.origin is None else projection_for(self.origin)
        )

    def adopt(self, origin: LonLat) -> None:
        if self._projection is None:
            self.origin = origin
            self.derived = True
            self._projection = projection_for(origin)

    def projection(self, fallback: LonLat) -> LocalProjection:
        if self._projection is None:
            self.adopt(fallback)
        assert self._projection is not None
        return self._projection


@dataclass(slots=True)
class _Seen:
    event_id: str
    ts: float
    kind: str
    lon: float
    lat: float
    x: float = 0.0
    y: float = 0.0


@dataclass(slots=True)
class _Cluster:
    lon: float
    lat: float
    last_at: float
    x: float = 0.0
    y: float = 0.0


_CLUSTER = "cluster-"
_EVENTS = "events"


class CorrelationEval:
    __slots__ = ("_geo", "clusters", "events", "events_key", "horizon", "next_n", "prefix", "rule")

    def __init__(self, rule: CorrelationRule, geo: Geo) -> None:
        self.rule = rule
        self._geo = geo
        self.prefix = f"{rule.id}|"
        self.events_key = self.prefix + _EVENTS
        self.reset()

    def reset(self) -> None:
        self.events: list[_Seen] = []
        self.clusters: dict[int, _Cluster] = {}
        self.next_n = 1
        self.horizon: float | None = None
        """The newest event time less the window: older events are forgotten, and ignored
        when they arrive. It only moves forward, with event time (never with tick())."""

    def advance(self, horizon: float, dirty: set[str]) -> None:
        """Forget events and clusters older than ``horizon``."""
        if self.horizon is not None and horizon <= self.horizon:
            return
        self.horizon = horizon
        dirty.add(self.events_key)
        self._prune(dirty)

    def _prune(self, dirty: set[str]) -> None:
        horizon = self.horizon
        if horizon is None:
            return
        if any(seen.ts < horizon for seen in self.events):
            self.events = [seen for seen in self.events if seen.ts >= horizon]
            dirty.add(self.events_key)
        self._expire_clusters(horizon, dirty)

    def _expire_clusters(self, horizon: float, dirty: set[str]) -> None:
        for n in [n for n, cluster in self.clusters.items() if cluster.last_at < horizon]:
            del self.clusters[n]
            dirty.add(f"{self.prefix}{_CLUSTER}{n}")

    def accepts(self, event: Event) -> bool:
        """Whether the rule's camera and zone filters (if any) let ``event`` in."""
        rule = self.rule
        if not rule.cameras and not rule.zones:
            return True
        if event.source is not EventSource.CAMERA:
            return False
        if rule.cameras and event.source_id not in rule.cameras:
            return False
        return not rule.zones or event.zone in rule.zones

    def on_event(self, event: Event, ts: float, pos: LonLat, dirty: set[str]) -> Trigger | None:
        rule = self.rule
        if self.horizon is not None and ts < self.horizon:
            return None
        if not self.accepts(event):
            return None
        if any(seen.event_id == event.event_id for seen in self.events):
            return None  # delivered again
        projection = self._geo.projection(pos)
        x, y = projection.to_xy(pos)
        self.advance(ts - rule.window_s, dirty)
        self.events.append(_Seen(event.event_id, ts, event.kind, pos.lon, pos.lat, x, y))
        dirty.add(self.events_key)
        near = [
            seen
            for seen in self.events
            if abs(seen.ts - ts) <= rule.window_s
            and math.hypot(seen.x - x, seen.y - y) <= rule.radius_m
        ]
        if len(near) < rule.min_count:
            return None
        cx = sum(seen.x for seen in near) / len(near)
        cy = sum(seen.y for seen in near) / len(near)
        center = projection.to_lonlat(cx, cy)
        n = self._cluster_for(cx, cy)
        old = self.clusters.get(n)
        last_at = ts if old is None else max(ts, old.last_at)
        self.clusters[n] = _Cluster(center.lon, center.lat, last_at, cx, cy)
        dirty.add(f"{self.prefix}{_CLUSTER}{n}")
        near.sort(key=lambda seen: (seen.ts, seen.event_id))
        kinds = ", ".join(sorted({seen.kind for seen in near}))
        span = near[-1].ts - near[0].ts
        text = (
            f"{len(near)} events ({kinds}) within {fmt_num(rule.radius_m)} m "
            f"in {fmt_duration(span)}"
        )
        if event.source is EventSource.CAMERA:
            in_zone = f" in zone {event.zone}" if event.zone else ""
            text += f"; latest: {event.kind} seen by {event.source_id}{in_zone}"
        subject = f"{_CLUSTER}{n}"
        return Trigger(
            rule_id=rule.id,
            municipality=rule.municipality,
            kind=TriggerKind.RAISED,
            at=event.ts,
            dedup_key=self.prefix + subject,
            subject=subject,
            outcome=rule.outcome,
            text=text,
            location=center,
            event_ids=tuple(seen.event_id for seen in near),
        )

    def _cluster_for(self, cx: float, cy: float) -> int:
        """The nearest active cluster within the radius of (cx, cy), or a new one's number."""
        best: tuple[float, int] | None = None
        for n, cluster in self.clusters.items():
            distance = math.hypot(cluster.x - cx, cluster.y - cy)
            if distance <= self.rule.radius_m and (best is None or (distance, n) < best):
                best = (distance, n)
        if best is not None:
            return best[1]
        self.next_n += 1
        return self.next_n - 1

    # --- state -----------------------------------------------------------------------------

    def value_of(self, subject: str) -> JsonValue:
        if subject == _EVENTS:
            return self._events_json()
        if subject.startswith(_CLUSTER) and subject[len(_CLUSTER) :].isdecimal():
            cluster = self.clusters.get(int(subject[len(_CLUSTER) :]))
            if cluster is not None:
                return {"lon": cluster.lon, "lat": cluster.lat, "last_at": cluster.last_at}
        return None

    def export(self) -> Iterator[tuple[str, JsonValue]]:
        events = self._events_json()
        if events is not None:
            yield self.events_key, events
        for n in sorted(self.clusters):
            subject = f"{_CLUSTER}{n}"
            yield self.prefix + subject, self.value_of(subject)

    def _events_json(self) -> JsonValue:
        if self.horizon is None and not self.events and self.next_n == 1:
            return None
        events: list[JsonValue] = [
            [seen.event_id, seen.ts, seen.kind, seen.lon, seen.lat] for seen in self.events
        ]
        data: dict[str, JsonValue] = {
            "horizon": self.horizon,
            "next": self.next_n,
            "events": events,
        }
        if self._geo.derived and self._geo.origin is not None:
            data["origin"] = [self._geo.origin.lon, self._geo.origin.lat]
        return data

    def restore(self, subject: str, value: JsonValue) -> LonLat | None:
        """Take one stored entry (raises BadStateError); returns a stored origin, if any.

        Call finish_restore() once every entry has been given.
        """
        data = as_dict(value)
        if subject.startswith(_CLUSTER):
            digits = subject[len(_CLUSTER) :]
            if not digits.isdecimal() or str(int(digits)) != digits or int(digits) < 1:
                raise BadStateError(f"bad cluster subject {subject!r}")
            point = LonLat(as_num(data.get("lon")), as_num(data.get("lat")))
            self.clusters[int(digits)] = _Cluster(point.lon, point.lat, as_num(data.get("last_at")))
            return None
        if subject != _EVENTS:
            raise BadStateError(f"unknown subject {subject!r}")
        horizon = as_opt_num(data.get("horizon"))
        next_n = as_num(data.get("next", 1))
        events: list[_Seen] = []
        for item in as_list(data.get("events", [])):
            row = as_list(item)
            if len(row) != 5:
                raise BadStateError(f"bad event entry {row!r}")
            point = LonLat(as_num(row[3]), as_num(row[4]))
            events.append(
                _Seen(as_str(row[0]), as_num(row[1]), as_str(row[2]), point.lon, point.lat)
            )
        origin = None
        if "origin" in data:
            pair = as_list(data["origin"])
            if len(pair) != 2:
                raise BadStateError(f"bad origin {pair!r}")
            origin = LonLat(as_num(pair[0]), as_num(pair[1]))
        self.horizon = horizon
        self.next_n = max(1, int(next_n))
        self.events = events
        return origin

    def finish_restore(self, dirty: set[str]) -> None:
        """Project the restored positions; drop what the horizon already excludes."""
        positions = [LonLat(seen.lon, seen.lat) for seen in self.events]
        positions += [LonLat(cluster.lon, cluster.lat) for cluster in self.clusters.values()]
        if not positions:
            return
        projection = self._geo.projection(positions[0])
        for seen in self.events:
            seen.x, seen.y = projection.to_xy(LonLat(seen.lon, seen.lat))
        for cluster in self.clusters.values():
            cluster.x, cluster.y = projection.to_xy(LonLat(cluster.lon, cluster.lat))
        if self.clusters:
            self.next_n = max(self.next_n, max(self.clusters) + 1)
        self._prune(dirty)  # drops only what a damaged store kept past the horizon

    def tick(self, now_ts: float, dirty: set[str]) -> None:
        """Nothing: events and clusters expire with event time only (``advance``).

        Expiring clusters by the wall clock split one accident into two incidents whenever its
        events arrived late (a backlog after a restart, a replay, a camera whose clock lags):
        every tick forgot the cluster the next event of the same accident belonged to.
        """
