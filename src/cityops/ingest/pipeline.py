"""The ingest pipeline: decode -> store -> rules -> incidents, in batches, then acknowledge.

One worker thread drains a queue of inbound messages. Each batch is one database transaction
holding its readings, events, dead letters, the incidents its triggers opened and the rule state
they changed; only after the commit are the messages acknowledged (MQTT PUBACK or the HTTP
response) and the live feed told. A batch whose transaction fails is retried; one that keeps
failing is split so a single poisonous message goes to the dead letters, never the whole stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from cityops.domain.analytics import CAMERA_HEALTH
from cityops.domain.entities import CameraHealth
from cityops.domain.observations import Event, Reading
from cityops.ingest.decode import Limits, decode_message
from cityops.ingest.payloads import DEFAULT_WINDOW, Reason, Rejection, TimeWindow
from cityops.ingest.persons import PersonWork, prune_tracks
from cityops.ingest.unreachable import database_away
from cityops.ingest.worker import InboundMessage, IngestWorker, MessageOutcome
from cityops.services import evidence
from cityops.services.cameras import record_health
from cityops.services.incidents import IncidentChange, apply_trigger
from cityops.services.live import LiveBus, LiveKind, LiveMessage, SensorPayload
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.views import load_summary
from cityops.store import observations_repo as obs
from cityops.store import sensors_repo
from cityops.store.observations_repo import (
    DEFAULT_BOUNDS,
    DeadLetter,
    DeadLetterBounds,
    SensorLatest,
)

__all__ = ["Fence", "FenceError", "InboundMessage", "IngestPipeline", "MessageOutcome"]

log = logging.getLogger(__name__)

PRUNE_INTERVAL_S = 60.0
"""How often the dead letters are held to their bounds (on the ingest thread's tick)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class FenceError(Exception):
    """This process no longer owns a municipality the batch touches (its partition's lease
    went to another ingest process): the batch is rolled back and left unacknowledged, so the
    broker gives it to the new owner."""


Fence = Callable[[Connection, frozenset[str]], None]
"""Called inside a batch's transaction, before anything is written, with the municipalities
the batch touches; raises ``FenceError`` when this process may not write for one of them
(multi-process ingest, docs/SCALING.md)."""


@dataclass(slots=True)
class _Work:
    """One municipality's share of a batch."""

    readings: list[tuple[Reading, datetime]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class _Committed:
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


class IngestPipeline(IngestWorker):
    def __init__(
        self,
        db: Engine,
        runtimes: Mapping[str, MunicipalityRuntime],
        *,
        live: LiveBus | None = None,
        max_payload_bytes: int = 262144,
        max_batch: int = 5000,
        max_messages_per_batch: int = 2000,
        tick_interval_s: float = 1.0,
        startup_grace_s: float = 60.0,
        window: TimeWindow = DEFAULT_WINDOW,
        dead_letters: DeadLetterBounds = DEFAULT_BOUNDS,
        clock: Callable[[], datetime] = utcnow,
        fence: Fence | None = None,
    ) -> None:
        super().__init__(
            max_messages_per_batch=max_messages_per_batch,
            tick_interval_s=tick_interval_s,
            startup_grace_s=startup_grace_s,
        )
        self.db = db
        self.runtimes = dict(runtimes)
        self.live = live or LiveBus()
        self.limits = Limits(max_payload_bytes, max_batch, window)
        self.dead_letter_bounds = dead_letters
        self.clock = clock
        self.fence = fence
        self.fenced = 0
        """Batches rolled back because a partition's lease was lost (left unacknowledged)."""
        self._latest: dict[tuple[str, str], SensorLatest] = {}
        """Each sensor's newest committed reading, to tell consoles of state changes on ticks."""
        self._next_prune = 0.0
        self._state_stale = False
        """A failure left the engines possibly ahead of the database (``_ensure_state``)."""

    def restore(self) -> None:
        """Load every municipality's rule state and sensors' latest values as committed."""
        with self.db.connect() as conn:
            for rt in self.runtimes.values():
                rt.engine.restore_state(obs.load_rule_state(conn, rt.id))
                rt.engine.take_dirty_state()
                for x in obs.sensor_latest(conn, rt.id).values():
                    self._latest[(rt.id, x.sensor_id)] = x

    def reload(self, runtimes: Mapping[str, MunicipalityRuntime], timeout: float = 30.0) -> bool:
        """Swap in new configurations between two batches; their rule state is restored from
        the database (state of rules that no longer exist is deleted). True once applied."""

        def swap() -> None:
            with self.db.connect() as conn:
                for rt in runtimes.values():
                    rt.engine.restore_state(obs.load_rule_state(conn, rt.id))
            for muni in [m for m in self.runtimes if m not in runtimes]:
                del self.runtimes[muni]
            self.runtimes.update(runtimes)  # one key at a time: readers never see it empty

        return self.between_batches(swap, timeout)

    # -- processing ------------------------------------------------------------------------
    def process(self, batch: list[InboundMessage]) -> None:
        """Store and evaluate ``batch`` in one transaction, then acknowledge it.

        A batch whose transaction keeps failing (for whatever reason: the database refused a
        row, a rule raised) is split, so one message becomes a dead letter instead of blocking
        the stream. When even the dead letter cannot be stored the database itself is down:
        nothing is acknowledged and the message is tried again until it comes back (the broker
        keeps the rest meanwhile). A database that cannot be reached at all (ingest/
        unreachable.py) is waited for the same way from the first failure: a failover never turns
        a valid reading into a dead letter."""
        started = time.perf_counter()
        delay, attempts = 0.2, 0
        while True:
            try:
                self._ensure_state()
                result = self._commit(batch)
                break
            except FenceError as lost:
                log.warning("batch of %d left to the new owner: %s", len(batch), lost)
                self.fenced += 1
                self._reload_state()
                return  # unacknowledged: the broker redelivers it to the partition's owner
            except Exception as err:
                self.metrics.failed_transactions += 1
                self._state_stale = True  # the engines may be ahead of the database
                if database_away(err):  # not the batch's fault: wait, never dead-letter it
                    log.warning("the database is away (%s); retrying in %.1f s", err, delay)
                    time.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    continue
                attempts += 1
                log.exception("ingest transaction failed (attempt %d)", attempts)
                self._reload_state()
                if attempts < 3:
                    time.sleep(0.2 * attempts)
                    continue
            if len(batch) > 1:
                for message in batch:  # isolate the message that breaks the transaction
                    self.process([message])
                return
            try:
                result = self._poison(batch[0], "the database refused the message three times")
                break
            except SQLAlchemyError:
                log.exception("the database is unavailable; retrying in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                attempts = 0
        self._finish(batch, result, started)

    def give_up(self, message: InboundMessage) -> None:
        result = self._poison(message, "the ingest worker died twice on this message")
        self._finish([message], result, time.perf_counter())

    def _finish(self, batch: list[InboundMessage], result: _Committed, started: float) -> None:
        """Acknowledge, count, and tell the live feed."""
        committed = utcnow()
        lags = [(committed - m.received_at).total_seconds() * 1000 for m in batch]
        now = self.clock()
        ages = [(now - ts).total_seconds() * 1000 for ts in result.reading_times]
        for message, outcome in zip(batch, result.outcomes, strict=True):
            if message.done is not None and not message.answered:
                try:
                    message.done(outcome)
                    message.answered = True
                except Exception:
                    log.exception("acknowledging a message failed")
        for flush in list(self.ack_flushes):
            try:
                flush()
            except Exception:
                log.exception("sending a batch's acknowledgements failed")
        self.metrics.batch_done(
            len(batch), result.outcomes, time.perf_counter() - started, lags, ages
        )
        try:
            self._publish(result.changes, result.latest)
            self.live.publish_many(result.live)
        except Exception:  # stored and acknowledged: the consoles will catch up on resync
            log.exception("publishing a batch's changes failed")
        try:  # camera health told by the video workers' events (stored with the batch)
            for muni, camera_id, state, at in result.camera_health:
                record_health(self.db, self.live, muni, camera_id, state, at)
        except Exception:  # the events are kept; the next health event or probe records it
            log.exception("recording camera health failed")

    def _newer(self, known: Mapping[tuple[str, str], SensorLatest], x: SensorLatest) -> bool:
        prev = known.get((x.municipality, x.sensor_id)) or self._latest.get(
            (x.municipality, x.sensor_id)
        )
        return prev is None or x.ts > prev.ts

    def _commit(self, batch: list[InboundMessage]) -> _Committed:
        now = self.clock()
        work: dict[str, _Work] = {}
        result = _Committed(outcomes=[])
        letters: list[DeadLetter] = []
        persons = PersonWork()  # vulnerable people's devices (ingest/persons.py)
        for index, message in enumerate(batch):
            muni, decoded = decode_message(message, self.runtimes, self.limits)
            if muni is not None:
                w = work.setdefault(muni, _Work())
                w.readings.extend((r, message.received_at) for r in decoded.readings)
                w.events.extend(decoded.events)
                persons.add(index, muni, decoded)
            accepted = len(decoded.readings) + len(decoded.events) + persons.count(index)
            result.outcomes.append(MessageOutcome(accepted, tuple(decoded.rejections)))
            letters.extend(_letter(message, rej, muni) for rej in decoded.rejections)
        latest = result.latest
        with self.db.begin() as conn:
            if self.fence is not None and work:
                self.fence(conn, frozenset(work))
            for muni, w in work.items():
                rt = self.runtimes[muni]
                engine = rt.engine
                triggers = []
                w.readings.sort(key=lambda pair: pair[0].ts)
                obs.insert_readings(conn, [r for r, _ in w.readings])
                for reading, received_at in w.readings:
                    triggers.extend(engine.on_reading(reading, received_at))
                    result.reading_times.append(reading.ts)
                    x = SensorLatest(
                        muni, reading.sensor_id, reading.value, reading.ts, received_at
                    )
                    if self._newer(latest, x):  # an older or backfilled reading is only stored
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
                letters.extend(_letter(batch[i], rej, muni) for i, rej in refused)
                obs.update_sensor_latest(conn, [x for (m, _), x in latest.items() if m == muni])
                obs.save_rule_state(conn, muni, engine.take_dirty_state(), now)
            obs.insert_dead_letters(conn, letters, self.dead_letter_bounds.payload_bytes)
        self._latest.update(latest)
        result.live.extend(persons.live)
        return result

    def _poison(self, message: InboundMessage, why: str) -> _Committed:
        """A message that cannot be processed is kept as a dead letter (``internal_error``)."""
        rej = Rejection(Reason.INTERNAL, f"{why}; kept")
        try:
            with self.db.begin() as conn:
                obs.insert_dead_letters(
                    conn, [_letter(message, rej, None)], self.dead_letter_bounds.payload_bytes
                )
        except SQLAlchemyError:
            log.error("could not even store the dead letter; the message stays unacknowledged")
            raise
        return _Committed(outcomes=[MessageOutcome(0, (rej,))])

    def after_crash(self) -> None:
        self._reload_state()

    def _reload_state(self) -> None:
        """After a failed transaction the engines are ahead of the database: rebuild them now,
        or, while the database is away, before the next transaction (``_ensure_state``)."""
        self._state_stale = True
        try:
            self._ensure_state()
        except SQLAlchemyError:
            log.exception("could not reload rule state; will retry before the next batch")

    def _ensure_state(self) -> None:
        """Rebuild the engines from the stored rule state if a failure left them in doubt;
        raises while the database cannot be read (nothing is written with state in doubt, so
        a failover cannot overwrite the stored state with empty engines)."""
        if not self._state_stale:
            return
        for muni, rt in list(self.runtimes.items()):
            self.runtimes[muni] = rt.rebuild()
        self.restore()
        self._state_stale = False

    def tick(self) -> None:
        """Time-driven changes: silence rules, sensors going stale, and the dead letters held
        to their bounds."""
        now = self.clock()
        changes: list[IncidentChange] = []
        touched: dict[tuple[str, str], SensorLatest | None] = {}
        try:
            self._ensure_state()
            with self.db.begin() as conn:
                if self.fence is not None and self.runtimes:  # a zombie member must not tick
                    self.fence(conn, frozenset(self.runtimes))
                for rt in self.runtimes.values():
                    if not rt.engine.staleness.restored:  # after a start or a rebuild
                        stored = sensors_repo.latest_readings(conn, rt.id)
                        rt.engine.staleness.restore({x.sensor_id: x.received_at for x in stored})
                        for x in stored:
                            self._latest.setdefault((rt.id, x.sensor_id), x)
                    for trig in rt.engine.tick(now):
                        change = apply_trigger(conn, rt, trig, now)
                        if change is not None:
                            changes.append(change)
                        key = (rt.id, trig.subject)
                        if key in self._latest:  # its state changed (offline): tell consoles
                            touched[key] = self._latest[key]
                    for sensor_id in rt.engine.stale_sensors(now):
                        touched[(rt.id, sensor_id)] = self._latest.get((rt.id, sensor_id))
                    obs.save_rule_state(conn, rt.id, rt.engine.take_dirty_state(), now)
        except FenceError as lost:
            log.warning("tick left to the new owner: %s", lost)
            self._reload_state()
            return
        except Exception:
            log.exception("tick failed")
            self._reload_state()
            return
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_INTERVAL_S
            self.prune_dead_letters()
            prune_tracks(self.db, self.runtimes, now)  # persons' positions (docs/PRIVACY.md)
        try:
            self._publish(changes, touched)
        except Exception:
            log.exception("publishing a tick's changes failed")

    def prune_dead_letters(self) -> int:
        """Hold the dead letters to their bounds (age, count, total size); how many went."""
        try:
            with self.db.begin() as conn:
                gone = obs.prune_dead_letters(conn, self.dead_letter_bounds, self.clock())
        except SQLAlchemyError:
            log.exception("pruning dead letters failed; will retry")
            return 0
        self.metrics.dead_letters_pruned_add(gone)
        return gone

    def _publish(
        self,
        changes: Iterable[IncidentChange],
        latest: Mapping[tuple[str, str], SensorLatest | None],
    ) -> None:
        changed = {(c.municipality, c.incident_id): c for c in changes}
        if changed:  # incidents first: they are what an operator waits for
            self.metrics.incidents_created += sum(1 for c in changed.values() if c.created)
            with self.db.connect() as conn:
                found = [(m, load_summary(conn, m, i)) for m, i in changed]
            self.live.publish_many(
                [LiveMessage(m, LiveKind.INCIDENT, s) for m, s in found if s is not None]
            )
        self.live.publish_many(
            [
                LiveMessage(
                    muni,
                    LiveKind.SENSOR,
                    SensorPayload(
                        id=sensor_id,
                        value=None if x is None else x.value,
                        ts=None if x is None else x.ts,
                        state=self.runtimes[muni].engine.sensor_state(sensor_id),
                    ),
                )
                for (muni, sensor_id), x in latest.items()
            ]
        )


def _letter(message: InboundMessage, rej: Rejection, municipality: str | None) -> DeadLetter:
    return DeadLetter(
        received_at=message.received_at,
        source=message.source,
        topic=message.topic,
        reason_code=rej.reason.value,
        reason=rej.detail if rej.index is None else f"item {rej.index}: {rej.detail}",
        payload=message.payload,
        municipality=municipality,
    )
