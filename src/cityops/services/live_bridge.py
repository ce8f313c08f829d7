"""Live messages between processes: ``cityops ingest`` processes ``NOTIFY`` what their
pipelines tell their live bus, the server ``LISTEN``s and republishes into its own, where the
consoles' SSE feeds and the MQTT incident topics hang (docs/SCALING.md "Live feed").

A notification is sent after the batch's commit (a process killed in between loses its live
messages, not its data: consoles refetch on resync). PostgreSQL limits a payload to 8,000
bytes: messages are packed into as few notifications as fit, and a single message larger than
that is counted and replaced by a ``resync`` for its municipality."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence

import psycopg
from pydantic import ValidationError
from sqlalchemy import Engine, text

from cityops.services.live import LiveBus, LiveKind, LiveMessage, ResyncPayload, ResyncReason
from cityops.store.db import libpq_params

log = logging.getLogger(__name__)

CHANNEL = "cityops_live"
PAYLOAD_LIMIT = 7900
"""Bytes per notification, under PostgreSQL's 8,000 with room to spare."""
QUEUE_LIMIT = 10_000
"""Live messages waiting for the sender; beyond it they are dropped and resyncs sent."""


def encode(messages: Iterable[LiveMessage]) -> tuple[list[str], set[str]]:
    """Notification payloads (JSON arrays of [municipality, kind, data]), and the
    municipalities of messages too large for one (to be told to resync)."""
    payloads: list[str] = []
    oversize: set[str] = set()
    current: list[str] = []
    size = 2
    for message in messages:
        item = json.dumps([message.municipality, message.kind.value, message.data_json()])
        length = len(item.encode("utf-8"))
        if length + 2 > PAYLOAD_LIMIT:
            oversize.add(message.municipality)
            continue
        if current and size + length + 1 > PAYLOAD_LIMIT:
            payloads.append("[" + ",".join(current) + "]")
            current, size = [], 2
        current.append(item)
        size += length + 1
    if current:
        payloads.append("[" + ",".join(current) + "]")
    return payloads, oversize


def decode(payload: str) -> list[LiveMessage]:
    """The messages of one notification; anything malformed is logged and skipped."""
    try:
        items = json.loads(payload)
    except ValueError:
        log.warning("live bridge: a notification that is not JSON was ignored")
        return []
    out: list[LiveMessage] = []
    for item in items if isinstance(items, list) else []:
        try:
            municipality, kind, data = item
            out.append(LiveMessage.parse(str(municipality), LiveKind(kind), data))
        except (ValueError, TypeError, ValidationError):
            log.warning("live bridge: a malformed message was ignored")
    return out


def resync(municipality: str) -> LiveMessage:
    return LiveMessage(municipality, LiveKind.RESYNC, ResyncPayload(reason=ResyncReason.OVERFLOW))


class LiveNotifier:
    """The ingest side: a listener of the process's live bus, sending on a thread of its own
    so the ingest worker never waits for a notification."""

    def __init__(self, db: Engine, live: LiveBus) -> None:
        self.db = db
        self._queue: queue.Queue[Sequence[LiveMessage] | None] = queue.Queue(QUEUE_LIMIT)
        self._unsubscribe = live.subscribe(self._offer)
        self._thread = threading.Thread(target=self._run, name="cityops-live-out", daemon=True)
        self._dropped: set[str] = set()
        self.sent = 0
        self.oversize = 0
        """Messages too large for a notification (replaced by a resync)."""
        self.dropped = 0
        """Messages dropped because the sender fell behind (replaced by resyncs)."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._unsubscribe()
        self._queue.put(None)
        self._thread.join(10)

    def _offer(self, messages: Sequence[LiveMessage]) -> None:
        try:
            self._queue.put_nowait(messages)
        except queue.Full:
            self.dropped += len(messages)
            self._dropped.update(m.municipality for m in messages)

    def _run(self) -> None:
        while (messages := self._queue.get()) is not None:
            batch = list(messages)
            while not self._queue.empty() and len(batch) < 1000:
                more = self._queue.get_nowait()
                if more is None:
                    self._queue.put(None)
                    break
                batch.extend(more)
            if self._dropped:
                batch.extend(resync(m) for m in sorted(self._dropped))
                self._dropped.clear()
            try:
                self.send(batch)
            except Exception:  # the consoles refetch on their next resync or reconnect
                log.exception("live bridge: sending %d messages failed", len(batch))

    def send(self, messages: Sequence[LiveMessage]) -> None:
        payloads, oversize = encode(messages)
        if oversize:
            self.oversize += sum(1 for m in messages if m.municipality in oversize)
            payloads += encode(resync(m) for m in sorted(oversize))[0]
        with self.db.begin() as conn:
            for payload in payloads:
                conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
        self.sent += len(messages)


class LiveListener:
    """The server side: ``LISTEN`` on a connection of its own, each message republished on the
    server's live bus. After a lost connection every municipality is told to resync."""

    def __init__(
        self, db: Engine, live: LiveBus, municipalities: Callable[[], Iterable[str]]
    ) -> None:
        self.db, self.live, self._municipalities = db, live, municipalities
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cityops-live-in", daemon=True)
        self.listening = threading.Event()
        self.received = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                self._listen(first)
            except Exception:
                log.exception("live bridge: LISTEN connection lost; reconnecting")
            self.listening.clear()
            first = False
            self._stop.wait(1.0)

    def _listen(self, first: bool) -> None:
        params = libpq_params(self.db.url.render_as_string(hide_password=False))
        with psycopg.connect(**params, autocommit=True) as pg:  # outside the pool: it LISTENs
            pg.execute("LISTEN cityops_live")
            self.listening.set()
            if not first:  # what was notified while we were away is lost: consoles refetch
                self.live.publish_many([resync(m) for m in sorted(self._municipalities())])
            while not self._stop.is_set():
                for note in pg.notifies(timeout=0.5):
                    messages = decode(note.payload)
                    self.received += len(messages)
                    self.live.publish_many(messages)
