"""Regressions of the hostile-input probe (issue 6, item 7): each finding, on the real stores."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from paho.mqtt.client import MQTTMessage
from sqlalchemy import Engine, select

from cityops.bus.mqtt import inbound
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.services.live import LiveMessage, SensorPayload
from cityops.store import tables as t
from tests.ingest.test_pipeline import count, msg
from tests.town import MUNI, FrozenClock

RIVER = f"cityops/{MUNI}/sensors/river-1/readings"
CAMERA = f"cityops/{MUNI}/cameras/cam-a/events"


def test_the_worker_survives_hostile_input_and_keeps_storing(
    db: Engine, clock: FrozenClock
) -> None:
    """The probe's outage: after 1e400 the thread ended and nothing more was stored."""
    from cityops.app import load_runtimes

    pipeline = IngestPipeline(db, load_runtimes(db), clock=clock, startup_grace_s=0)
    pipeline.start()
    try:
        answered = threading.Event()
        outcomes: list[MessageOutcome] = []
        for doc in (b'{"value": 1e400}', b'{"value": 1, "ts": "0001-01-01T00:00:00+14:00"}'):
            pipeline.submit(InboundMessage(RIVER, doc, clock.now, done=outcomes.append))

        def last(outcome: MessageOutcome) -> None:
            outcomes.append(outcome)
            answered.set()

        pipeline.submit(InboundMessage(RIVER, b'{"value": 1.5}', clock.now, done=last))
        assert answered.wait(10)
        assert [o.accepted for o in outcomes] == [0, 0, 1]
        assert pipeline.alive
        assert pipeline.metrics.worker_restarts == 0
    finally:
        pipeline.stop()


def test_an_older_reading_is_stored_but_does_not_replace_the_current_value(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    seen: list[LiveMessage] = []
    pipeline.live.subscribe(seen.extend)
    pipeline.process([msg(RIVER, {"value": 1.55, "ts": clock.now.isoformat()}, clock.now)])
    two_days_ago = (clock.now - timedelta(days=2)).isoformat()
    pipeline.process([msg(RIVER, {"value": 0.2, "ts": two_days_ago}, clock.now)])
    with db.connect() as conn:
        current = conn.execute(
            select(t.sensors.c.last_value, t.sensors.c.last_ts).where(t.sensors.c.id == "river-1")
        ).one()
    assert tuple(current) == (1.55, clock.now)
    assert count(db, t.readings) == 2  # the backfilled reading is kept in the history
    assert [m.payload.value for m in seen if isinstance(m.payload, SensorPayload)] == [1.55]
    # and after a restart the pipeline still knows the current value
    from cityops.app import load_runtimes

    again = IngestPipeline(db, load_runtimes(db), clock=clock)
    again.restore()
    again.live.subscribe(seen.extend)
    one_day_ago = (clock.now - timedelta(days=1)).isoformat()
    again.process([msg(RIVER, {"value": 0.3, "ts": one_day_ago}, clock.now)])
    assert [m.payload.value for m in seen if isinstance(m.payload, SensorPayload)] == [1.55]


def test_the_reading_horizon_is_a_setting(db: Engine, clock: FrozenClock) -> None:
    from cityops.app import load_runtimes
    from cityops.ingest.payloads import TimeWindow

    pipeline = IngestPipeline(db, load_runtimes(db), clock=clock, window=TimeWindow(max_age=None))
    outcomes: list[MessageOutcome] = []
    pipeline.process([msg(RIVER, {"value": 1, "ts": "1990-06-01T00:00:00Z"}, clock.now, outcomes)])
    assert outcomes[0].accepted == 1


def test_a_topic_that_is_not_utf8_is_counted_and_kept(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    """paho's ``msg.topic`` raises on such a topic; CityOps reads the bytes instead."""
    raw = MQTTMessage(mid=1, topic=b"cityops/testtown/sensors/\xff\xfe/readings")
    raw.payload = b'{"value": 1}'
    with pytest.raises(UnicodeDecodeError):
        _ = raw.topic
    mangled = MQTTMessage(mid=2, topic=b"b'cityops/testtown/sensors/\\xff/readings'")
    mangled.payload = b'{"value": 1}'
    outcomes: list[MessageOutcome] = []
    pipeline.process([inbound(raw, outcomes.append), inbound(mangled, outcomes.append)])
    assert [[r.reason.value for r in o.rejections] for o in outcomes] == [
        ["topic_not_utf8"],
        ["topic_not_utf8"],
    ]
    with db.connect() as conn:
        topics = conn.execute(select(t.dead_letters.c.topic)).scalars().all()
    assert topics == [
        "cityops/testtown/sensors/\\xff\\xfe/readings",
        "b'cityops/testtown/sensors/\\xff/readings'",
    ]


class Kill(BaseException):
    """Not an Exception: nothing on the way catches it, so it ends the worker's loop."""


def test_a_dead_worker_is_restarted_and_its_messages_are_not_lost(
    db: Engine, clock: FrozenClock
) -> None:
    from cityops.app import load_runtimes

    pipeline = IngestPipeline(db, load_runtimes(db), clock=clock, startup_grace_s=0)
    pipeline.restart_delay_s = 0.01
    pipeline.start()
    try:
        calls: list[MessageOutcome] = []
        answered = threading.Event()

        def dies_once(outcome: MessageOutcome) -> None:
            calls.append(outcome)
            if len(calls) == 1:
                raise Kill  # the worker dies after the commit, before the acknowledgement
            answered.set()

        pipeline.submit(InboundMessage(RIVER, b'{"value": 1.5}', clock.now, done=dies_once))
        assert answered.wait(10), "the message was never acknowledged"
        assert [c.accepted for c in calls] == [1, 1]  # retried, stored once (idempotent)
        assert count(db, t.readings) == 1
        assert pipeline.metrics.worker_restarts == 1

        def always_dies(_outcome: MessageOutcome) -> None:
            raise Kill

        pipeline.submit(InboundMessage(RIVER, b'{"value": 1.6}', clock.now, done=always_dies))
        after = threading.Event()
        pipeline.submit(
            InboundMessage(
                f"cityops/{MUNI}/sensors/river-2/readings",
                b'{"value": 1.7}',
                clock.now,
                done=lambda _o: after.set(),
            )
        )
        assert after.wait(10), "a message that keeps killing the worker blocked the next one"
        assert pipeline.alive
        with db.connect() as conn:
            letter = conn.execute(select(t.dead_letters.c.reason)).scalar_one()
        assert letter == "the ingest worker died twice on this message; kept"
    finally:
        pipeline.stop()


def test_dead_letters_are_bounded_by_age_count_and_size(db: Engine, clock: FrozenClock) -> None:
    from cityops.app import load_runtimes
    from cityops.store.observations_repo import DeadLetterBounds

    bounds = DeadLetterBounds(
        max_age=timedelta(days=7), max_count=5, max_bytes=1500, payload_bytes=1000
    )
    pipeline = IngestPipeline(db, load_runtimes(db), clock=clock, dead_letters=bounds)
    now = clock.now
    pipeline.process([msg("old/topic", b"x", now - timedelta(days=8))])  # too old
    for i in range(6):
        pipeline.process([msg(f"n/{i}", b"y" * 10, now - timedelta(hours=6 - i))])
    assert pipeline.prune_dead_letters() == 2  # the 8-day-old one, then the oldest beyond 5
    assert _letter_topics(db) == ["n/1", "n/2", "n/3", "n/4", "n/5"]
    big = json.dumps({"junk": "z" * 5000}).encode()
    pipeline.process([msg("big/1", big, now), msg("big/2", big, now)])  # 1000 bytes kept each
    # count: n/1 and n/2 go; size: the newest 1000 bytes fit in 1500, the next 1000 do not
    assert pipeline.prune_dead_letters() == 6
    assert _letter_topics(db) == ["big/2"]
    assert pipeline.metrics.snapshot()["dead_letters_pruned"] == 8
    with db.connect() as conn:
        row = (
            conn.execute(select(t.dead_letters).where(t.dead_letters.c.topic == "big/2"))
            .mappings()
            .one()
        )
    assert row["payload_size"] == len(big)
    assert len(row["payload"]) == 1000
    import hashlib

    assert row["payload_sha256"] == hashlib.sha256(big).hexdigest()


def _letter_topics(db: Engine) -> list[str]:
    with db.connect() as conn:
        c = t.dead_letters.c
        return list(conn.execute(select(c.topic).order_by(c.id)).scalars())
