"""What the two outbox workers share (docs/DISPATCH.md, docs/CAP.md "Sending to endpoints"): one
background thread per outbox that claims each due delivery (a lease on its ``next_at``,
``store/outbox.py``), tries it once, and writes its outcome back: sent, retrying at ``next_at``
(the back-off with jitter of ``domain.dispatch.RetryPolicy``), or failed once the tries are used
up (the dead letter). The incident's timeline hears of the first failure, the success and the
dead letter, not of every retry. A database hiccup costs a pass, never the thread; one
delivery's bug costs that try, never the others.

A subclass is given its outbox (``store/outbox.py``'s ``Outbox``) and says how one delivery is sent
(:meth:`OutboxWorker._send`) and what its timeline entries and log lines say."""

from __future__ import annotations

import logging
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Generic, Protocol, TypedDict, TypeVar

import httpx
from sqlalchemy import Connection, Engine

from cityops.dispatch.senders import SmtpConfig
from cityops.domain.dispatch import DeliveryStatus, RetryPolicy
from cityops.domain.incident import TimelineEntry, TimelineKind
from cityops.store import incidents_repo
from cityops.store.outbox import Outbox


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """How both outboxes are worked (``CITYOPS_DISPATCH_*``, ``CITYOPS_PUBLIC_URL``)."""

    public_url: str
    smtp: SmtpConfig | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_s: float = 1.0
    timeout_s: float = 10.0
    lease_s: float = 120.0


class Delivery(Protocol):
    """What the worker reads of a row of either outbox."""

    @property
    def id(self) -> int: ...
    @property
    def municipality(self) -> str: ...
    @property
    def incident_id(self) -> int: ...
    @property
    def attempts(self) -> int: ...
    @property
    def next_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Tried:
    """What one send gave: ``error`` is None when the delivery was accepted; ``also`` are the
    outbox's own columns written with the outcome (a reply link's digest)."""

    error: str | None
    also: Mapping[str, str] = field(default_factory=dict)


class Written(TypedDict):
    """An outcome as ``Outbox.finish_try`` takes it."""

    status: DeliveryStatus
    attempts: int
    next_at: datetime
    error: str | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One try as written back."""

    status: DeliveryStatus
    attempts: int
    next_at: datetime
    error: str | None
    at: datetime

    @property
    def told(self) -> bool:
        """Whether the timeline hears of it: not a retry after the first failure."""
        return self.status is not DeliveryStatus.RETRYING or self.attempts == 1

    @property
    def written(self) -> Written:
        """The row's new values; ``sent_at`` is set by a success only."""
        return Written(
            status=self.status,
            attempts=self.attempts,
            next_at=self.next_at,
            error=self.error,
            sent_at=self.at if self.error is None else None,
        )


D = TypeVar("D", bound=Delivery)


class OutboxWorker(ABC, Generic[D]):
    """``changed(municipality, incident_id)`` is called after a timeline entry was added (the
    live feed); ``clock`` and ``jitter`` are the tests' to set."""

    thread_name: ClassVar[str]
    label: ClassVar[str]
    """Names the outbox in the log."""
    actor: ClassVar[str]
    """The timeline entries' actor."""
    log: ClassVar[logging.Logger]
    trust_env: ClassVar[bool] = True
    """Whether HTTP proxies from the environment apply (httpx's ``trust_env``)."""

    def __init__(
        self,
        db: Engine,
        config: DispatchConfig,
        outbox: Outbox[D],
        changed: Callable[[str, int], None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.db, self.config, self.outbox, self.changed = db, config, outbox, changed
        self.clock, self.jitter = clock, jitter
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(
            timeout=config.timeout_s, follow_redirects=False, trust_env=self.trust_env
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._http.close()

    def wake(self) -> None:
        """Look at the outbox now (a delivery was just committed)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the thread
                self.log.exception("%s: pass over the outbox failed; will retry", self.label)
            self._wake.wait(self.config.poll_s)
            self._wake.clear()

    def run_once(self) -> int:
        """Try every due delivery once; returns how many were tried."""
        now = self.clock()
        with self.db.connect() as conn:
            due = self.outbox.due(conn, now)
        tried = 0
        for delivery in due:
            if self._stop.is_set():
                break
            with self.db.begin() as conn:
                if not self.outbox.claim(conn, delivery, now, self.config.lease_s):
                    continue
            self._try(delivery)
            tried += 1
        return tried

    def _try(self, delivery: D) -> None:
        now = self.clock()
        try:
            tried = self._send(delivery, now)
        except Exception as err:  # one delivery's bug must not stop the others
            self.log.exception("%s: delivery %s raised", self.label, delivery.id)
            tried = Tried(f"internal error: {type(err).__name__}")
        outcome = self._outcome(delivery.attempts + 1, tried.error, now)
        with self.db.begin() as conn:
            self.outbox.finish_try(conn, delivery.id, **outcome.written, **tried.also)
            self._finished(conn, delivery, outcome)
            if outcome.told:
                self._timeline(conn, delivery, outcome)
        self._logged(delivery, outcome)
        if outcome.told:
            self.changed(delivery.municipality, delivery.incident_id)

    def _outcome(self, attempts: int, error: str | None, now: datetime) -> Outcome:
        retry = self.config.retry
        if error is None:
            return Outcome(DeliveryStatus.SENT, attempts, now, error, now)
        if retry.exhausted(attempts):
            return Outcome(DeliveryStatus.FAILED, attempts, now, error, now)
        later = now + timedelta(seconds=retry.delay_s(attempts, self.jitter()))
        return Outcome(DeliveryStatus.RETRYING, attempts, later, error, now)

    def _timeline(self, conn: Connection, delivery: D, outcome: Outcome) -> None:
        record = incidents_repo.get_incident(
            conn, delivery.municipality, delivery.incident_id, with_timeline=False
        )
        if record is None:
            return
        what, error = self._what(delivery), outcome.error
        text = {
            DeliveryStatus.SENT: self._sent(delivery, what),
            DeliveryStatus.RETRYING: f"{what} failed, retrying: {error}",
            DeliveryStatus.FAILED: f"{what} FAILED after {outcome.attempts} tries: {error}",
        }.get(outcome.status, str(outcome.status))
        data = self._data(delivery) | {
            "status": outcome.status.value,
            "attempts": str(outcome.attempts),
        }
        entry = TimelineEntry(
            at=outcome.at, kind=TimelineKind.DISPATCH, actor=self.actor, text=text[:4000], data=data
        )
        incidents_repo.add_timeline(conn, record.incident, entry)
        incidents_repo.touch(conn, delivery.incident_id, outcome.at)

    @abstractmethod
    def _send(self, delivery: D, now: datetime) -> Tried:
        """One try; an error is said, not raised."""

    def _finished(self, conn: Connection, delivery: D, outcome: Outcome) -> None:
        """What else the outcome's transaction holds (nothing here)."""

    @abstractmethod
    def _what(self, delivery: D) -> str:
        """What is sent to whom, as the timeline says it."""

    def _sent(self, delivery: D, what: str) -> str:
        """The timeline's text for a success."""
        return f"{what} sent"

    @abstractmethod
    def _data(self, delivery: D) -> dict[str, str]:
        """The timeline entry's data (``delivery``, ``channel``, ``agency``, ``target``, the
        outbox's own); the outcome's ``status`` and ``attempts`` are added."""

    @abstractmethod
    def _logged(self, delivery: D, outcome: Outcome) -> None:
        """The log line of one try."""
