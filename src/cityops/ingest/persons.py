"""A vulnerable person's device: its topics and payloads (docs/MQTT.md "Persons' devices").

``cityops/<m>/persons/<device>/position`` carries one position, a list of them, or
``{"positions": [...]}`` (a device that was offline sends what it buffered);
``cityops/<m>/persons/<device>/sos`` carries one SOS, with the position when the device knows
it. Every bad input is a :class:`Rejection` with its reason, dead-lettered like any other
ingest; whether the device belongs to a registered person is decided in the batch's
transaction (:class:`PersonWork`), where the registry is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from cityops.domain.entities import LonLat
from cityops.domain.persons import PersonSignal, SignalKind
from cityops.ingest.payloads import (
    DEFAULT_WINDOW,
    Decoded,
    Reason,
    Rejected,
    Rejection,
    TimeWindow,
    as_number,
    parse_ts,
)
from cityops.ingest.worker import MessageOutcome
from cityops.services import person_signals
from cityops.services.incidents import IncidentChange
from cityops.services.live import LiveMessage
from cityops.services.runtime import MunicipalityRuntime

_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_TOPIC = re.compile(rf"^cityops/(?P<m>{_ID})/persons/(?P<device>{_ID})/(?P<kind>position|sos)$")
log = logging.getLogger(__name__)

MAX_POSITIONS = 500
"""Positions in one message (a day of buffered fixes every few minutes)."""


@dataclass(frozen=True, slots=True)
class PersonTopic:
    municipality: str
    device_id: str
    kind: SignalKind


def parse_person_topic(topic: str) -> PersonTopic | None:
    m = _TOPIC.match(topic)
    if m is None:
        return None
    return PersonTopic(m["m"], m["device"], SignalKind(m["kind"]))


@dataclass(slots=True)
class PersonDecoded(Decoded):
    """A person's message decoded: its signals (readings and events stay empty)."""

    signals: list[PersonSignal] = field(default_factory=list)


def _optional(item: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    raw = item.get(key)
    if raw is None:
        return None
    value = as_number(raw, key)
    if not low <= value <= high:
        raise Rejected(Reason.RANGE, f"{key} {value:g} outside {low:g}..{high:g}")
    return value


def _signal(
    item: Any, topic: PersonTopic, received_at: datetime, window: TimeWindow
) -> PersonSignal:
    if not isinstance(item, Mapping):
        raise Rejected(Reason.SHAPE, f"a {topic.kind} must be a JSON object")
    has_place = "lon" in item or "lat" in item
    if not has_place and topic.kind is SignalKind.POSITION:
        raise Rejected(Reason.SHAPE, "a position needs 'lon' and 'lat'")
    position = None
    if has_place:
        lon, lat = as_number(item.get("lon"), "lon"), as_number(item.get("lat"), "lat")
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise Rejected(Reason.RANGE, f"position lon={lon:g} lat={lat:g} is not on Earth")
        position = LonLat(lon, lat)
    return PersonSignal(
        municipality=topic.municipality,
        device_id=topic.device_id,
        kind=topic.kind,
        at=parse_ts(item.get("ts"), received_at, window),
        position=position,
        accuracy_m=_optional(item, "accuracy_m", 0.0, 100_000.0),
        battery=_optional(item, "battery", 0.0, 1.0),
    )


def decode_person(
    doc: Any, topic: PersonTopic, received_at: datetime, window: TimeWindow = DEFAULT_WINDOW
) -> PersonDecoded:
    """A person's message -> its signals and a rejection per bad item. Never raises."""
    out = PersonDecoded()
    if topic.kind is SignalKind.POSITION and isinstance(doc, Mapping) and "positions" in doc:
        doc = doc["positions"]
        if not isinstance(doc, list):
            out.rejections.append(Rejection(Reason.SHAPE, "'positions' must be a list"))
            return out
    items = list(enumerate(doc)) if isinstance(doc, list) else [(None, doc)]
    if topic.kind is SignalKind.SOS and isinstance(doc, list):
        out.rejections.append(Rejection(Reason.SHAPE, "an SOS is one JSON object"))
        return out
    if len(items) > MAX_POSITIONS:
        out.rejections.append(
            Rejection(
                Reason.BATCH, f"{len(items)} positions in one message (limit {MAX_POSITIONS})"
            )
        )
        return out
    for index, item in items:
        try:
            out.signals.append(_signal(item, topic, received_at, window))
        except Rejected as rej:
            out.rejections.append(Rejection(rej.reason, rej.detail, index))
    return out


@dataclass(slots=True)
class PersonWork:
    """A batch's person signals, per municipality, applied inside the batch's transaction.

    A signal from a device nobody is registered with is refused there (``unknown_device``):
    its message's outcome and dead letters are amended before the commit."""

    pending: dict[str, list[tuple[int, PersonSignal]]] = field(default_factory=dict)
    live: list[LiveMessage] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, message_index: int, municipality: str, decoded: Decoded) -> None:
        if isinstance(decoded, PersonDecoded):
            for signal in decoded.signals:
                self.pending.setdefault(municipality, []).append((message_index, signal))
            self.counts[message_index] = len(decoded.signals)

    def count(self, message_index: int) -> int:
        """How many signals of the batch came in message ``message_index``."""
        return self.counts.get(message_index, 0)

    def apply(
        self,
        conn: Connection,
        rt: MunicipalityRuntime,
        now: datetime,
        outcomes: list[MessageOutcome],
    ) -> tuple[list[IncidentChange], list[tuple[int, Rejection]]]:
        """Apply the municipality's signals; the incident changes, and the refused signals
        (message index, rejection), already folded into ``outcomes``."""
        signals = self.pending.pop(rt.id, [])
        if not signals:
            return [], []
        applied = person_signals.apply_signals(conn, rt, [s for _, s in signals], now)
        self.live.extend(applied.live)
        refused: dict[int, Rejection] = {}
        for (index, signal), ok in zip(signals, applied.known, strict=True):
            before = outcomes[index]
            if ok:
                continue
            if index not in refused:  # one dead letter per message, however many positions
                detail = f"no person is registered with device {signal.device_id!r}"
                refused[index] = Rejection(Reason.DEVICE, detail)
                before = MessageOutcome(before.accepted, (*before.rejections, refused[index]))
            outcomes[index] = MessageOutcome(before.accepted - 1, before.rejections)
        return applied.changes, list(refused.items())


def prune_tracks(db: Engine, runtimes: Mapping[str, MunicipalityRuntime], now: datetime) -> int:
    """Every municipality's track points past ``persons.positions_hours`` (docs/PRIVACY.md);
    the ingest thread runs it once a minute. How many went."""
    gone = 0
    try:
        with db.begin() as conn:
            for rt in runtimes.values():
                gone += person_signals.prune(conn, rt, now)
    except SQLAlchemyError:
        log.exception("pruning persons' tracks failed; will retry")
    return gone
