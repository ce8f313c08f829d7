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
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from cityops.ingest import tick as ticking
from cityops.ingest.batch import Committed, Fence, FenceError, commit, letter
from cityops.ingest.decode import Limits
from cityops.ingest.payloads import DEFAULT_WINDOW, Reason, Rejection, TimeWindow
from cityops.ingest.persons import prune_tracks
from cityops.ingest.unreachable import database_away
from cityops.ingest.worker import InboundMessage, IngestWorker, MessageOutcome
from cityops.services.cameras import record_health
from cityops.services.incidents import IncidentChange
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import observations_repo as obs
from cityops.store.observations_repo import DEFAULT_BOUNDS, DeadLetterBounds, SensorLatest

__all__ = ["Fence", "FenceError", "InboundMessage", "IngestPipeline", "MessageOutcome"]

log = logging.getLogger(__name__)

PRUNE_INTERVAL_S = 60.0
"""How often the dead letters are held to their bounds (on the ingest thread's tick)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def restore_engine(conn: Connection, rt: MunicipalityRuntime) -> None:
    """A municipality's rule engine put back as committed: its rule state, each sensor's newest
    evaluated reading time (and its receive time, for silence rules), and the stored readings
    that rebuild rate-of-change windows."""
    evaluated, received = obs.evaluated_marks(conn, rt.id)
    rt.engine.restore_state(
        obs.load_rule_state(conn, rt.id),
        evaluated,
        lambda since: obs.readings_since(conn, rt.id, since),
        received,
    )


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
                restore_engine(conn, rt)
                rt.engine.take_dirty_state()
                for x in obs.sensor_latest(conn, rt.id).values():
                    self._latest[(rt.id, x.sensor_id)] = x

    def reload(self, runtimes: Mapping[str, MunicipalityRuntime], timeout: float = 30.0) -> bool:
        """Swap in new configurations between two batches; their rule state is restored from
        the database (state of rules that no longer exist is deleted). True once applied."""

        def swap() -> None:
            with self.db.connect() as conn:
                for rt in runtimes.values():
                    restore_engine(conn, rt)
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

    def _finish(self, batch: list[InboundMessage], result: Committed, started: float) -> None:
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

    def _commit(self, batch: list[InboundMessage]) -> Committed:
        return commit(
            self.db,
            self.runtimes,
            self.limits,
            batch,
            self.clock(),
            fence=self.fence,
            known=self._latest,
            payload_bytes=self.dead_letter_bounds.payload_bytes,
        )

    def _poison(self, message: InboundMessage, why: str) -> Committed:
        """A message that cannot be processed is kept as a dead letter (``internal_error``)."""
        rej = Rejection(Reason.INTERNAL, f"{why}; kept")
        try:
            with self.db.begin() as conn:
                obs.insert_dead_letters(
                    conn, [letter(message, rej, None)], self.dead_letter_bounds.payload_bytes
                )
        except SQLAlchemyError:
            log.error("could not even store the dead letter; the message stays unacknowledged")
            raise
        return Committed(outcomes=[MessageOutcome(0, (rej,))])

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
        try:
            self._ensure_state()
            with self.db.begin() as conn:
                if self.fence is not None and self.runtimes:  # a zombie member must not tick
                    self.fence(conn, frozenset(self.runtimes))
                changes, touched = ticking.tick_rules(conn, self.runtimes, self._latest, now)
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
        ticking.publish(self.db, self.live, self.metrics, self.runtimes, changes, latest)
