"""The ingest pipeline: decode -> store -> rules -> incidents, in batches, then acknowledge.

One worker thread drains a queue of inbound messages. Each batch is one database transaction
holding its readings, events, dead letters, the incidents its triggers opened and the rule state
they changed; only after the commit are the messages acknowledged (MQTT PUBACK or the HTTP
response) and the live feed told. A batch whose transaction fails is retried; one that keeps
failing is split so a single poisonous message goes to the dead letters, never the whole stream.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cityops.domain.analytics import CAMERA_HEALTH
from cityops.domain.entities import CameraHealth
from cityops.domain.observations import Event, Reading
from cityops.ingest.metrics import IngestMetrics
from cityops.ingest.payloads import (
    Decoded,
    Reason,
    Rejected,
    Rejection,
    TopicKind,
    decode_events,
    decode_json,
    decode_readings,
    parse_topic,
)
from cityops.services.cameras import record_health
from cityops.services.incidents import IncidentChange, apply_trigger
from cityops.services.live import LiveBus, LiveKind, LiveMessage, SensorPayload
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.views import load_summary
from cityops.store import observations_repo as obs
from cityops.store import sensors_repo
from cityops.store.observations_repo import DeadLetter, SensorLatest

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    accepted: int
    rejections: tuple[Rejection, ...]


@dataclass(slots=True)
class InboundMessage:
    topic: str
    payload: bytes
    received_at: datetime
    source: str = "mqtt"
    done: Callable[[MessageOutcome], None] | None = None


@dataclass(slots=True)
class _Command:
    """Work for the ingest thread between two batches (so it never races a transaction)."""

    run: Callable[[], None]
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(slots=True)
class _Work:
    """One municipality's share of a batch."""

    readings: list[tuple[Reading, datetime]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class IngestPipeline:
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
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.runtimes = dict(runtimes)
        self.live = live or LiveBus()
        self.max_payload_bytes = max_payload_bytes
        self.max_batch = max_batch
        self.max_messages_per_batch = max_messages_per_batch
        self.tick_interval_s = tick_interval_s
        # After a restart the broker first delivers what it queued while CityOps was down:
        # silence is not judged until that backlog had time to arrive.
        self.startup_grace_s = startup_grace_s
        self.clock = clock
        self.metrics = IngestMetrics()
        self._queue: queue.Queue[InboundMessage | _Command | None] = queue.Queue()
        self._latest: dict[tuple[str, str], SensorLatest] = {}
        self._camera_health: list[tuple[str, str, CameraHealth, datetime]] = []
        """(municipality, camera, health, at) told by the last committed batch's events."""
        """Each sensor's newest committed reading, to tell consoles of state changes on ticks."""
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------
    def restore(self) -> None:
        """Load every municipality's rule state as it was committed (after a restart)."""
        with self.db.connect() as conn:
            for rt in self.runtimes.values():
                rt.engine.restore_state(obs.load_rule_state(conn, rt.id))
                rt.engine.take_dirty_state()

    def start(self) -> None:
        self.restore()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="cityops-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Process what is queued, then stop."""
        if self._thread is None:
            return
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, message: InboundMessage) -> None:
        """Queue a message (thread-safe); its ``done`` is called once it is stored or rejected."""
        self.metrics.queued(1)
        self._queue.put(message)

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

        if self._thread is None:
            swap()
            return True
        command = _Command(swap)
        self._queue.put(command)
        return command.done.wait(timeout)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        next_tick = time.monotonic() + max(self.tick_interval_s, self.startup_grace_s)
        while True:
            timeout = max(0.0, next_tick - time.monotonic())
            batch: list[InboundMessage] = []
            command: _Command | None = None
            stop = False
            try:
                item = self._queue.get(timeout=timeout)
                while True:
                    if item is None:
                        stop = True
                        break
                    if isinstance(item, _Command):
                        command = item
                        break
                    batch.append(item)
                    if len(batch) >= self.max_messages_per_batch:
                        break
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            if batch:
                self.process(batch)
            if command is not None:
                try:
                    command.run()
                except Exception:
                    log.exception("ingest command failed")
                finally:
                    command.done.set()
            if time.monotonic() >= next_tick:
                self.tick()
                next_tick = time.monotonic() + self.tick_interval_s
            if stop and self._queue.empty():
                return

    # -- processing ------------------------------------------------------------------------
    def process(self, batch: list[InboundMessage]) -> None:
        """Store and evaluate ``batch`` in one transaction, then acknowledge it.

        A batch whose transaction keeps failing is split, so one message the database refuses
        becomes a dead letter instead of blocking the stream. When even the dead letter cannot
        be stored the database itself is down: nothing is acknowledged and the message is tried
        again until it comes back (the broker keeps the rest meanwhile)."""
        started = time.perf_counter()
        delay = 0.2
        while True:
            for attempt in range(3):
                try:
                    outcomes, changes, latest = self._commit(batch)
                    break
                except SQLAlchemyError:
                    log.exception("ingest transaction failed (attempt %d)", attempt + 1)
                    self.metrics.failed_transactions += 1
                    self._reload_state()
                    time.sleep(0.2 * (attempt + 1))
            else:
                if len(batch) > 1:
                    for message in batch:  # isolate the message that breaks the transaction
                        self.process([message])
                    return
                try:
                    outcomes, changes, latest = self._poison(batch[0])
                except SQLAlchemyError:
                    log.exception("the database is unavailable; retrying in %.1f s", delay)
                    time.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    continue
            break
        committed = utcnow()
        lags = [(committed - m.received_at).total_seconds() * 1000 for m in batch]
        for message, outcome in zip(batch, outcomes, strict=True):
            if message.done is not None:
                try:
                    message.done(outcome)
                except Exception:
                    log.exception("acknowledging a message failed")
        self.metrics.batch_done(len(batch), outcomes, time.perf_counter() - started, lags)
        self._publish(changes, latest)
        health, self._camera_health = self._camera_health, []
        for muni, camera_id, state, at in health:  # the video worker's health events
            record_health(self.db, self.live, muni, camera_id, state, at)

    def _decode(self, message: InboundMessage) -> tuple[str | None, Decoded]:
        topic = parse_topic(message.topic)
        if topic is None:
            rej = Rejection(Reason.TOPIC, f"topic {message.topic[:200]!r} is not a CityOps topic")
            return None, Decoded(rejections=[rej])
        rt = self.runtimes.get(topic.municipality)
        if rt is None:
            rej = Rejection(Reason.MUNICIPALITY, f"unknown municipality {topic.municipality!r}")
            return None, Decoded(rejections=[rej])
        try:
            doc = decode_json(message.payload, self.max_payload_bytes)
            if topic.kind in (TopicKind.SENSOR, TopicKind.GATEWAY):
                return rt.id, decode_readings(
                    doc, topic, rt.sensors, message.received_at, self.max_batch
                )
            return rt.id, decode_events(doc, topic, rt.cameras, message.received_at, self.max_batch)
        except Rejected as rej:
            return rt.id, Decoded(rejections=[Rejection(rej.reason, rej.detail)])

    def _commit(
        self, batch: list[InboundMessage]
    ) -> tuple[list[MessageOutcome], list[IncidentChange], dict[tuple[str, str], SensorLatest]]:
        now = self.clock()
        work: dict[str, _Work] = {}
        health: list[tuple[str, str, CameraHealth, datetime]] = []
        outcomes: list[MessageOutcome] = []
        letters: list[DeadLetter] = []
        for message in batch:
            muni, decoded = self._decode(message)
            if muni is not None:
                w = work.setdefault(muni, _Work())
                w.readings.extend((r, message.received_at) for r in decoded.readings)
                w.events.extend(decoded.events)
            accepted = len(decoded.readings) + len(decoded.events)
            outcomes.append(MessageOutcome(accepted, tuple(decoded.rejections)))
            letters.extend(
                DeadLetter(
                    received_at=message.received_at,
                    source=message.source,
                    topic=message.topic,
                    reason_code=rej.reason.value,
                    reason=rej.detail if rej.index is None else f"item {rej.index}: {rej.detail}",
                    payload=message.payload,
                    municipality=muni,
                )
                for rej in decoded.rejections
            )
        changes: list[IncidentChange] = []
        latest: dict[tuple[str, str], SensorLatest] = {}
        with self.db.begin() as conn:
            for muni, w in work.items():
                rt = self.runtimes[muni]
                engine = rt.engine
                triggers = []
                w.readings.sort(key=lambda pair: pair[0].ts)
                obs.insert_readings(conn, [r for r, _ in w.readings])
                for reading, received_at in w.readings:
                    triggers.extend(engine.on_reading(reading, received_at))
                    latest[(muni, reading.sensor_id)] = SensorLatest(
                        muni, reading.sensor_id, reading.value, reading.ts, received_at
                    )
                if w.events:
                    fresh = obs.new_event_ids(conn, muni, [e.event_id for e in w.events])
                    events = sorted(
                        {e.event_id: e for e in w.events if e.event_id in fresh}.values(),
                        key=lambda e: e.ts,
                    )
                    obs.insert_events(conn, events, now)
                    for event in events:
                        triggers.extend(engine.on_event(event))
                        state = CAMERA_HEALTH.get(event.kind)
                        if state is not None and event.source_id in rt.cameras:
                            health.append((muni, event.source_id, state, event.ts))
                    cams = {e.source_id for e in events if e.source_id in rt.cameras}
                    obs.mark_camera_seen(conn, muni, cams, now)
                for trig in triggers:
                    change = apply_trigger(conn, rt, trig, now)
                    if change is not None:
                        changes.append(change)
                obs.update_sensor_latest(conn, [x for (m, _), x in latest.items() if m == muni])
                obs.save_rule_state(conn, muni, engine.take_dirty_state(), now)
            obs.insert_dead_letters(conn, letters)
        self._latest.update(latest)
        self._camera_health = health
        return outcomes, changes, latest

    def _poison(
        self, message: InboundMessage
    ) -> tuple[list[MessageOutcome], list[IncidentChange], dict[tuple[str, str], SensorLatest]]:
        """A message that fails its transaction three times is kept as a dead letter."""
        rej = Rejection(Reason.INTERNAL, "the database refused the message three times; kept")
        try:
            with self.db.begin() as conn:
                obs.insert_dead_letters(
                    conn,
                    [
                        DeadLetter(
                            received_at=message.received_at,
                            source=message.source,
                            topic=message.topic,
                            reason_code=rej.reason.value,
                            reason=rej.detail,
                            payload=message.payload,
                        )
                    ],
                )
        except SQLAlchemyError:
            log.error("could not even store the dead letter; the message stays unacknowledged")
            raise
        return [MessageOutcome(0, (rej,))], [], {}

    def _reload_state(self) -> None:
        """After a failed transaction the engines are ahead of the database: rebuild them."""
        try:
            for muni, rt in list(self.runtimes.items()):
                fresh = rt.rebuild()
                self.runtimes[muni] = fresh
            self.restore()
        except SQLAlchemyError:
            log.exception("could not reload rule state; will retry")

    def tick(self) -> None:
        """Time-driven changes: silence rules, and sensors going stale."""
        now = self.clock()
        changes: list[IncidentChange] = []
        touched: dict[tuple[str, str], SensorLatest | None] = {}
        try:
            with self.db.begin() as conn:
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
        except SQLAlchemyError:
            log.exception("tick failed")
            self._reload_state()
            return
        self._publish(changes, touched)

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
