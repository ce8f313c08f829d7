"""The outbox thread both outboxes share (``dispatch/outbox.py``), on the real dispatch outbox
on SQLite and PostgreSQL, with a sender the test scripts: a try's outcome written back (sent,
retrying at the back-off, the dead letter after the last try), the timeline told of the first
failure and the end only, a sender's bug costing only its try, a failed pass over the outbox
costing the thread nothing, and a stopped worker starting no further try."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from cityops.dispatch.outbox import DispatchConfig, OutboxWorker, Outcome, Tried
from cityops.domain.dispatch import AgencyChannels, DeliveryStatus, RetryPolicy
from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import Incident
from cityops.store import dispatch_repo, incidents_repo
from cityops.store.dispatch_repo import Delivery
from cityops.store.outbox import Outbox
from tests.dispatch.support import WHERE, wait_for
from tests.town import MUNI, T0, FrozenClock, town_config, town_db

RETRY = RetryPolicy(max_attempts=3, base_s=10.0, cap_s=100.0)


class Scripted(OutboxWorker[Delivery]):
    """Answers each try with the next of ``script``: None (sent), an error, or an exception."""

    thread_name, label, actor = "test-outbox", "test", "test-outbox"
    log = logging.getLogger("tests.outbox")

    def __init__(
        self,
        db: Engine,
        clock: FrozenClock,
        script: list[str | Exception | None],
        outbox: Outbox[Delivery] = dispatch_repo.OUTBOX,
    ) -> None:
        self.told: list[tuple[str, int]] = []
        config = DispatchConfig("http://cityops.test", retry=RETRY, poll_s=0.02)
        super().__init__(db, config, outbox, self._told, clock=clock, jitter=lambda: 0.0)
        self.script = script
        self.sent_to: list[int] = []
        self.logged: list[str] = []

    def _told(self, municipality: str, incident_id: int) -> None:
        self.told.append((municipality, incident_id))

    def _send(self, delivery: Delivery, now: datetime) -> Tried:
        self.sent_to.append(delivery.id)
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Tried(answer)

    def _what(self, delivery: Delivery) -> str:
        return f"test to {delivery.agency}"

    def _data(self, delivery: Delivery) -> dict[str, str]:
        return {"delivery": str(delivery.id)}

    def _logged(self, delivery: Delivery, outcome: Outcome) -> None:
        self.logged.append(outcome.status.value)


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = town_db(db_url)
    yield engine
    engine.dispose()


def enqueue(db: Engine, targets: int = 1) -> tuple[int, list[int]]:
    """An incident dispatched to an agency with ``targets`` e-mail addresses."""
    emails = tuple(f"duty{i}@police.example" for i in range(targets))
    config = replace(town_config(), dispatch=(AgencyChannels("police", email_to=emails),))
    incident = Incident(MUNI, "fire", Sector.SAFETY, Severity.SEVERE, "Fire", T0, WHERE)
    with db.begin() as conn:
        incident.id = incidents_repo.insert_incident(conn, incident, [])
        return incident.id, dispatch_repo.enqueue_dispatch(conn, config, incident, "police", T0)


def timeline_texts(conn: Connection, incident_id: int) -> list[str]:
    record = incidents_repo.get_incident(conn, MUNI, incident_id)
    assert record is not None
    return [e.text for e in record.incident.timeline if e.actor == "test-outbox"]


def test_retries_then_the_dead_letter(db: Engine) -> None:
    incident_id, (delivery_id,) = enqueue(db)
    clock = FrozenClock()
    worker = Scripted(db, clock, ["HTTP 500", RuntimeError("a bug"), "HTTP 502"])
    assert worker.run_once() == 1
    with db.connect() as conn:
        row = dispatch_repo.get(conn, MUNI, delivery_id)
    assert row is not None
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.RETRYING, 1, "HTTP 500")
    assert row.next_at == T0 + timedelta(seconds=RETRY.delay_s(1, 0.0))  # 5 s: half of 10
    assert row.sent_at is None
    assert worker.run_once() == 0  # not due before its next_at
    clock.now = row.next_at
    assert worker.run_once() == 1  # the sender's bug: a failed try, not a dead thread
    with db.connect() as conn:
        row = dispatch_repo.get(conn, MUNI, delivery_id)
    assert row is not None
    assert (row.status, row.attempts) == (DeliveryStatus.RETRYING, 2)
    assert row.last_error == "internal error: RuntimeError"
    assert row.next_at == clock.now + timedelta(seconds=RETRY.delay_s(2, 0.0))
    clock.now = row.next_at
    assert worker.run_once() == 1
    clock.advance(hours=1)
    assert worker.run_once() == 0  # a dead letter is not tried again
    with db.connect() as conn:
        row = dispatch_repo.get(conn, MUNI, delivery_id)
        texts = timeline_texts(conn, incident_id)
    assert row is not None
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.FAILED, 3, "HTTP 502")
    assert texts == [
        "test to police failed, retrying: HTTP 500",
        "test to police FAILED after 3 tries: HTTP 502",
    ]  # the second failure was not told
    assert worker.told == [(MUNI, incident_id)] * 2
    assert worker.logged == ["retrying", "retrying", "failed"]


def test_a_success_is_written_and_told(db: Engine) -> None:
    incident_id, (delivery_id,) = enqueue(db)
    clock = FrozenClock()
    worker = Scripted(db, clock, [None])
    assert worker.run_once() == 1
    with db.connect() as conn:
        row = dispatch_repo.get(conn, MUNI, delivery_id)
        texts = timeline_texts(conn, incident_id)
    assert row is not None
    assert (row.status, row.attempts, row.sent_at, row.last_error) == (
        DeliveryStatus.SENT,
        1,
        T0,
        None,
    )
    assert texts == ["test to police sent"]
    assert worker.told == [(MUNI, incident_id)]


class Hiccup(Outbox[Delivery]):
    """The dispatch outbox, whose first pass finds the database away."""

    def __init__(self) -> None:
        super().__init__(dispatch_repo.OUTBOX.table, dispatch_repo.OUTBOX.row)
        self.passes = 0

    def due(self, conn: Connection, now: datetime, limit: int = 20) -> list[Delivery]:
        self.passes += 1
        if self.passes == 1:
            raise OperationalError("SELECT", {}, Exception("the database is away"))
        return super().due(conn, now, limit)


def test_the_thread_outlives_a_failed_pass(db: Engine) -> None:
    _, (delivery_id,) = enqueue(db)
    outbox = Hiccup()
    worker = Scripted(db, FrozenClock(), [None], outbox=outbox)
    worker.start()
    try:
        wait_for(lambda: worker.sent_to)
    finally:
        worker.stop()
    assert outbox.passes >= 2
    assert worker.sent_to == [delivery_id]


def test_a_stopped_worker_starts_no_further_try(db: Engine) -> None:
    incident_id, _ = enqueue(db, targets=3)
    worker = Scripted(db, FrozenClock(), [])

    def send_then_stop(delivery: Delivery, now: datetime) -> Tried:
        worker._stop.set()  # stop() while the first try is under way
        return Tried(None)

    worker._send = send_then_stop  # type: ignore[method-assign]
    assert worker.run_once() == 1
    with db.connect() as conn:
        rows = dispatch_repo.for_incident(conn, MUNI, incident_id)
    assert [r.status for r in rows] == [
        DeliveryStatus.SENT,
        DeliveryStatus.PENDING,
        DeliveryStatus.PENDING,
    ]
