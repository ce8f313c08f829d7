"""One batch's transaction (ingest/pipeline.py): its readings, events and dead letters stored,
its rules evaluated and the incidents they open applied, all behind the fence of multi-process
ingest (docs/SCALING.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine

from cityops.domain.analytics import CAMERA_HEALTH
from cityops.domain.entities import CameraHealth
from cityops.domain.observations import Event, Reading
from cityops.ingest.decode import Limits, decode_message
from cityops.ingest.payloads import Rejection
from cityops.ingest.persons import PersonWork
from cityops.ingest.worker import InboundMessage, MessageOutcome
from cityops.services import evidence
from cityops.services.incidents import IncidentChange, apply_trigger
from cityops.services.live import LiveMessage
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import observations_repo as obs
from cityops.store.observations_repo import DeadLetter, SensorLatest


class FenceError(Exception):
    """This process no longer owns a municipality the batch touches (its partition's lease
    went to another ingest process): the batch is rolled back and left unacknowledged, so the
    broker gives it to the new owner."""


Fence = Callable[[Connection, frozenset[str]], None]
"""Called inside a batch's transaction, before anything is written, with the municipalities
the batch touches; raises ``FenceError`` when this process may not write for one of them
(multi-process ingest, docs/SCALING.md)."""


@dataclass(slots=True)
class Work:
    """One municipality's share of a batch."""

    readings: list[tuple[Reading, datetime]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class Committed:
    """What a committed batch tells the rest of the process."""

    outcomes: list[MessageOutcome]
    changes: list[IncidentChange] = field(default_factory=list)
    latest: dict[tuple[str, str], SensorLatest] = field(default_factory=dict)
    """Sensors whose current value this batch replaced (only newer readings do)."""
    reading_times: list[datetime] = field(default_factory=list)
    camera_health: list[tuple[str, str, CameraHealth, datetime]] = field(default_factory=list)
    """(municipality, camera, health, at) told by the batch's events from video workers."""
    live: list[LiveMessage] = field(default_factory=list)
    """Other live messages of the batch (persons' tracks), told after its incidents."""


ONE_ACCEPTED = MessageOutcome(1, ())


def _outcome(accepted: int, rejections: list[Rejection]) -> MessageOutcome:
    if accepted == 1 and not rejections:  # the commonest answer; immutable, so shared
        return ONE_ACCEPTED
    return MessageOutcome(accepted, tuple(rejections))


def commit(
    db: Engine,
    runtimes: Mapping[str, MunicipalityRuntime],
    limits: Limits,
    batch: list[InboundMessage],
    now: datetime,
    *,
    fence: Fence | None,
    known: dict[tuple[str, str], SensorLatest],
    payload_bytes: int,
) -> Committed:
    """Store and evaluate ``batch`` in one transaction; ``known`` (each sensor's newest
    committed reading) takes the batch's newer ones once it is committed."""
    work: dict[str, Work] = {}
    result = Committed(outcomes=[])
    letters: list[DeadLetter] = []
    persons = PersonWork()  # vulnerable people's devices (ingest/persons.py)
    for index, message in enumerate(batch):
        muni, decoded = decode_message(message, runtimes, limits)
        if muni is not None:
            w = work.setdefault(muni, Work())
            w.readings.extend((r, message.received_at) for r in decoded.readings)
            w.events.extend(decoded.events)
            persons.add(index, muni, decoded)
        accepted = len(decoded.readings) + len(decoded.events) + persons.count(index)
        result.outcomes.append(_outcome(accepted, decoded.rejections))
        letters.extend(letter(message, rej, muni) for rej in decoded.rejections)
    latest = result.latest
    with db.begin() as conn:
        if fence is not None and work:
            fence(conn, frozenset(work))
        for muni, w in work.items():
            rt = runtimes[muni]
            engine = rt.engine
            triggers = []
            w.readings.sort(key=lambda pair: pair[0].ts)
            obs.insert_readings(conn, [r for r, _ in w.readings])
            for reading, received_at in w.readings:
                triggers.extend(engine.on_reading(reading, received_at))
                result.reading_times.append(reading.ts)
                x = SensorLatest(muni, reading.sensor_id, reading.value, reading.ts, received_at)
                if _newer(known, latest, x):  # an older or backfilled reading is only stored
                    latest[(muni, reading.sensor_id)] = x
            if w.events:
                fresh = obs.new_event_ids(conn, muni, [e.event_id for e in w.events])
                events = sorted(
                    {e.event_id: e for e in w.events if e.event_id in fresh}.values(),
                    key=lambda e: e.ts,
                )
                obs.insert_events(conn, events, now)
                evidence.record(conn, muni, events, now)  # snapshots and clips they name
                for event in events:
                    triggers.extend(engine.on_event(event))
                    state = CAMERA_HEALTH.get(event.kind)
                    if state is not None and event.source_id in rt.cameras:
                        result.camera_health.append((muni, event.source_id, state, event.ts))
                cams = {e.source_id for e in events if e.source_id in rt.cameras}
                obs.mark_camera_seen(conn, muni, cams, now)
            for trig in triggers:
                change = apply_trigger(conn, rt, trig, now)
                if change is not None:
                    result.changes.append(change)
            changes, refused = persons.apply(conn, rt, now, result.outcomes)
            result.changes.extend(changes)
            letters.extend(letter(batch[i], rej, muni) for i, rej in refused)
            obs.update_sensor_latest(conn, [x for (m, _), x in latest.items() if m == muni])
            obs.save_rule_state(conn, muni, engine.take_dirty_state(), now)
        obs.insert_dead_letters(conn, letters, payload_bytes)
    known.update(latest)
    result.live.extend(persons.live)
    return result


def _newer(
    known: Mapping[tuple[str, str], SensorLatest],
    pending: Mapping[tuple[str, str], SensorLatest],
    x: SensorLatest,
) -> bool:
    key = (x.municipality, x.sensor_id)
    prev = pending.get(key) or known.get(key)
    return prev is None or x.ts > prev.ts


def letter(message: InboundMessage, rej: Rejection, municipality: str | None) -> DeadLetter:
    return DeadLetter(
        received_at=message.received_at,
        source=message.source,
        topic=message.topic,
        reason_code=rej.reason.value,
        reason=rej.detail if rej.index is None else f"item {rej.index}: {rej.detail}",
        payload=message.payload,
        municipality=municipality,
    )
