"""The ingest worker thread: a queue drained in batches, supervised so that it never stays dead.

Whatever escapes a batch (a bug, a ``BaseException`` from a callback) is logged and counted
(``worker_restarts``); the worker starts again and first retries, one by one, the messages it
held unacknowledged when it died. A message that was being processed during two deaths is given
up: it becomes a dead letter (``internal_error``) and is acknowledged, so it cannot kill the
worker on every redelivery.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cityops.ingest.metrics import IngestMetrics
from cityops.ingest.payloads import Rejection

log = logging.getLogger(__name__)


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
    topic_valid: bool = True
    """False when the topic's bytes were not UTF-8 (``topic`` then shows them escaped)."""
    crashes: int = 0
    """How often the worker died while processing this message."""
    answered: bool = False
    """``done`` returned: a retry after a death does not acknowledge it twice."""


@dataclass(slots=True)
class _Command:
    """Work for the ingest thread between two batches (so it never races a transaction)."""

    run: Callable[[], None]
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    alive: bool
    backlog: int
    """Messages queued or held, not yet acknowledged."""
    last_progress_age_s: float | None
    """Seconds since a batch was last completed (or the worker started); None when stopped."""
    stalled: bool
    """A backlog is waiting and no batch completed for longer than the stall limit."""


class IngestWorker:
    """The thread; subclasses say what a batch, a tick and giving up on a message mean."""

    def __init__(
        self,
        *,
        max_messages_per_batch: int,
        tick_interval_s: float,
        startup_grace_s: float,
        restart_delay_s: float = 1.0,
    ) -> None:
        self.max_messages_per_batch = max_messages_per_batch
        self.tick_interval_s = tick_interval_s
        # After a restart the broker first delivers what it queued while CityOps was down:
        # silence is not judged until that backlog had time to arrive.
        self.startup_grace_s = startup_grace_s
        self.restart_delay_s = restart_delay_s
        self.metrics = IngestMetrics()
        # SimpleQueue (C): a put and a get cost a fraction of queue.Queue's, whose Condition the
        # network thread and the worker took for every message (docs/BENCHMARKS.md)
        self._queue: queue.SimpleQueue[InboundMessage | _Command | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._inflight: list[InboundMessage] = []
        """Taken off the queue, not acknowledged yet."""
        self._processing: list[InboundMessage] = []
        """The part of ``_inflight`` inside ``process`` right now."""
        self._last_progress = time.monotonic()
        self._room = threading.Condition()
        """Notified after every batch: a receiving thread waits on it in ``wait_for_room``."""
        self.ack_flushes: list[Callable[[], None]] = []
        """Called on this thread once a batch's messages were answered (after its commit): a
        transport that gathers its acknowledgements writes them here (bus/mqtt_acks.py)."""

    # -- what a subclass provides ------------------------------------------------------------
    def restore(self) -> None:
        """Bring in-memory state in line with the database (at start)."""

    def process(self, batch: list[InboundMessage]) -> None:
        raise NotImplementedError

    def tick(self) -> None:
        """Time-driven work, every ``tick_interval_s``."""

    def after_crash(self) -> None:
        """Rebuild in-memory state that may be ahead of the database after a death."""

    def give_up(self, message: InboundMessage) -> None:
        """Reject a message the worker died on twice (dead letter, acknowledge)."""
        raise NotImplementedError

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.restore()
        self._last_progress = time.monotonic()
        self._thread = threading.Thread(target=self._supervise, name="cityops-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Process what is queued, then stop."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, message: InboundMessage) -> None:
        """Queue a message (thread-safe); its ``done`` is called once it is stored or rejected."""
        self.metrics.queued(1)
        self._queue.put(message)

    def wait_for_room(self, limit: int, give_up: Callable[[], bool]) -> None:
        """Hold the calling thread (a transport's receiving thread) while ``limit`` or more
        messages are queued or in hand, until a batch makes room, the worker is not running, or
        ``give_up()`` (checked every half second: a transport that stops). A transport held here
        reads nothing more, so its sender is held back too (TCP): the queue, and the memory it
        takes, stay bounded whatever the sender does (docs/BENCHMARKS.md, the backlog)."""
        if self.backlog < limit:
            return
        with self._room:
            while self.backlog >= limit and self.alive and not give_up():
                self._room.wait(0.5)

    def _made_room(self) -> None:
        with self._room:
            self._room.notify_all()

    def between_batches(self, run: Callable[[], None], timeout: float) -> bool:
        """Run ``run`` on the worker thread between two batches (at once when it is not
        running). True once it ran."""
        if self._thread is None:
            run()
            return True
        command = _Command(run)
        self._queue.put(command)
        return command.done.wait(timeout)

    @property
    def backlog(self) -> int:
        return self._queue.qsize() + len(self._inflight)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def health(self, stall_after_s: float) -> WorkerHealth:
        running = self._thread is not None
        age = time.monotonic() - self._last_progress if running else None
        backlog = self.backlog
        stalled = age is not None and backlog > 0 and age > stall_after_s
        return WorkerHealth(self.alive, backlog, age, stalled)

    # -- the thread ------------------------------------------------------------------------
    def _supervise(self) -> None:
        while True:
            try:
                self._retry_inflight()
                self._run()
                return
            except BaseException:  # whatever ended the loop, ingest must go on
                log.exception("the ingest worker died; restarting it")
                for message in self._processing:
                    message.crashes += 1
                self._processing = []
                self.metrics.worker_restarted()
                time.sleep(self.restart_delay_s)
                try:
                    self.after_crash()
                except Exception:  # the next retry of the held messages will say more
                    log.exception("recovering after the ingest worker died failed")

    def _retry_inflight(self) -> None:
        """After a death: the messages held then, one at a time (order kept)."""
        while self._inflight:
            message = self._inflight[0]
            if message.crashes >= 2:
                self._inflight.pop(0)  # given up whatever happens next
                self.give_up(message)
            else:
                self._processing = [message]
                self.process([message])
                self._processing = []
                self._inflight.pop(0)
            self._last_progress = time.monotonic()
            self._made_room()

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
                self._inflight = self._processing = batch
                self.process(batch)
                self._inflight = self._processing = []
                self._last_progress = time.monotonic()
                self._made_room()
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
