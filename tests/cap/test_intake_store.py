"""The intake's two promises about storage, on SQLite with the real poller: a warning that
could not be stored is not taken as seen (the same message again is applied), and whatever
bytes arrive on a CAP topic, the MQTT side acknowledges each message exactly once and never
raises (Hypothesis)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from cityops.app import import_config, load_runtimes
from cityops.cap.check import check
from cityops.ingest.cap_feeds import CapFeedPoller
from cityops.ingest.cap_mqtt import CapMqtt
from cityops.ingest.pipeline import InboundMessage, MessageOutcome
from cityops.store.tables_warnings import cap_received
from tests.cap.intake_support import town_with_warnings
from tests.cap.support import alert_xml
from tests.town import MUNI, town_db

FAR = "2099-01-01T00:00:00+02:00"


@dataclass
class Intake:
    db: Engine
    poller: CapFeedPoller
    submitted: list[InboundMessage]


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Intake]:
    folder = tmp_path_factory.mktemp("cap-intake")
    db = town_db(f"sqlite:///{folder / 'cityops.db'}")
    import_config(db, town_with_warnings(folder), actor="test")
    submitted: list[InboundMessage] = []
    poller = CapFeedPoller(load_runtimes(db), submitted.append, lambda: datetime.now(UTC), db=db)
    yield Intake(db, poller, submitted)
    poller.stop()
    db.dispose()


def test_a_warning_not_stored_is_not_taken_as_seen(intake: Intake) -> None:
    book = intake.poller.book(MUNI)  # built (from the table) while the table is there
    assert book is not None
    with intake.db.begin() as conn:
        cap_received.drop(conn)
    data = alert_xml(identifier="not-stored", expires=FAR)
    try:
        with pytest.raises(OperationalError):
            intake.poller.accept(data, MUNI)
    finally:
        with intake.db.begin() as conn:
            cap_received.create(conn)
    verdict, submitted = intake.poller.accept(data, MUNI)  # applied anew, not "seen"
    assert verdict.valid
    assert submitted == 1
    rebuilt = intake.poller.book(MUNI)
    assert rebuilt is not None
    assert ("ops@kazanlak.bg", "not-stored") in rebuilt.active
    with intake.db.connect() as conn:
        stored = conn.execute(select(cap_received.c.identifier)).scalars().all()
    assert "not-stored" in stored


VALID = alert_xml(identifier="fuzzed", expires=FAR)
PAYLOADS = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda at, byte: VALID[:at] + bytes([byte]) + VALID[at + 1 :],
        st.integers(0, len(VALID) - 1),
        st.integers(0, 255),
    ),
    st.just(VALID),
)
TOPICS = st.sampled_from([f"cityops/{MUNI}/cap", "cityops/elsewhere/cap"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=PAYLOADS, topic=TOPICS)
def test_any_payload_is_acknowledged_once_and_never_raises(
    intake: Intake, payload: bytes, topic: str
) -> None:
    acks: list[MessageOutcome] = []
    cap = CapMqtt(intake.poller.accept)
    message = InboundMessage(topic, payload, datetime.now(UTC), done=acks.append)
    refused = cap.refused
    submitted = cap.handle(message)
    assert len(acks) == 1
    assert acks[0].accepted == submitted
    assert submitted in (0, 1)
    if submitted:
        assert topic == f"cityops/{MUNI}/cap"
    assert cap.refused == refused + (0 if check(payload).valid else 1)


def test_the_thread_applies_in_order_and_stops(intake: Intake) -> None:
    acked = threading.Event()
    cap = CapMqtt(intake.poller.accept)
    cap.start()
    try:
        first = InboundMessage(
            f"cityops/{MUNI}/cap", alert_xml(identifier="t1", expires=FAR), datetime.now(UTC)
        )
        last = InboundMessage(
            f"cityops/{MUNI}/cap",
            alert_xml(
                identifier="t1-cancel",
                msg_type="Cancel",
                references="ops@kazanlak.bg,t1,2026-12-03T12:00:00+02:00",
                expires=FAR,
            ),
            datetime.now(UTC),
            done=lambda _o: acked.set(),
        )
        assert cap.offer(first)
        assert cap.offer(last)
        assert not cap.offer(InboundMessage(f"cityops/{MUNI}/events/x", b"{}", datetime.now(UTC)))
        assert acked.wait(10)
    finally:
        cap.stop()
    book = intake.poller.book(MUNI)
    assert book is not None
    assert ("ops@kazanlak.bg", "t1") not in book.active  # opened, then cancelled, in that order
    with intake.db.connect() as conn:
        c = cap_received.c
        ended = conn.execute(select(c.ended_by).where(c.identifier == "t1")).scalar_one()
    assert ended == "cancelled"
