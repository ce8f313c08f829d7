"""Property tests: no input makes a decoder raise anything but ``Rejected``, and no input makes
the pipeline fail, lose an outcome, or drop the good readings next to it."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from cityops.ingest import payloads
from cityops.ingest.payloads import (
    Decoded,
    Rejected,
    Topic,
    TopicKind,
    decode_events,
    decode_json,
    decode_readings,
    parse_topic,
)
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.store import tables as t
from tests.town import MUNI, T0, FrozenClock, town_config

HOSTILE_TEXT = st.sampled_from(
    ["", "\x00", "a\x00b", "\ud800", "\udfff", "\ud83d", "é", "\u202e", "x" * 300, "<script>"]
)
TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=20) | HOSTILE_TEXT
OFFSETS = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14)), timezone.min]
)
DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59), timezones=OFFSETS
).map(lambda d: d.isoformat())
NEAR = st.integers(-(10**6), 10**6).map(lambda s: (T0 + timedelta(seconds=s)).isoformat())
HUGE_INTS = st.integers(min_value=-(10**400), max_value=10**400) | st.sampled_from(
    [10**308, 10**309, 2**63, 2**31, -(2**63) - 1, 10**400]
)
NUMBERS = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | HUGE_INTS
    | st.sampled_from([0, 1.5, -1.0, 1e308, 1e-320])
)
TIMESTAMPS = DATETIMES | NEAR | NUMBERS | TEXT | st.none() | st.booleans()
LEAVES = st.none() | st.booleans() | NUMBERS | TEXT | DATETIMES
JSON = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(TEXT | st.sampled_from(["value", "ts", "readings"]), children, max_size=4)
    ),
    max_leaves=12,
)
READING = st.fixed_dictionaries(
    {"value": NUMBERS | JSON},
    optional={
        "ts": TIMESTAMPS,
        "unit": st.sampled_from(["m", "cm", "ug/m3", "µg/m³"]) | JSON,
        "sensor": st.sampled_from(["river-1", "river-2", "pm10-1", "ghost"]) | TEXT,
    },
)
EVENT = st.fixed_dictionaries(
    {"kind": st.sampled_from(["person", "collision", "crowd"]) | TEXT},
    optional={
        "id": TEXT | JSON,
        "ts": TIMESTAMPS,
        "zone": TEXT | JSON,
        "confidence": NUMBERS | JSON,
        "lon": NUMBERS | JSON,
        "lat": NUMBERS | JSON,
        "attributes": st.dictionaries(TEXT, JSON | HUGE_INTS, max_size=3) | JSON,
    },
)
READINGS_DOC = (
    READING
    | st.lists(READING, max_size=4)
    | st.fixed_dictionaries({"readings": st.lists(READING, max_size=4) | JSON})
    | JSON
)
EVENTS_DOC = (
    EVENT
    | st.lists(EVENT, max_size=4)
    | st.fixed_dictionaries({"events": st.lists(EVENT, max_size=4) | JSON})
    | JSON
)

CONFIG = town_config()
SENSORS = {s.id: s for s in CONFIG.sensors}
CAMERAS = {c.id: c for c in CONFIG.cameras}
RECEIVED = T0
FAST = settings(max_examples=300, deadline=None)


def _check(decoded: Decoded) -> None:
    for r in decoded.readings:
        assert math.isfinite(r.value)
        assert r.ts.tzinfo is not None
    for e in decoded.events:
        assert e.ts.tzinfo is not None
        assert e.confidence is None or 0 <= e.confidence <= 1


@FAST
@given(doc=READINGS_DOC, kind=st.sampled_from(["sensor", "gateway"]))
def test_decode_readings_returns_or_rejects(doc: Any, kind: str) -> None:
    topic = Topic(MUNI, TopicKind(kind), "river-1" if kind == "sensor" else None)
    with contextlib.suppress(Rejected):
        _check(decode_readings(doc, topic, SENSORS, RECEIVED, 5))


@FAST
@given(doc=EVENTS_DOC, source=st.sampled_from([("camera", "cam-a"), ("external", "call-112")]))
def test_decode_events_returns_or_rejects(doc: Any, source: tuple[str, str]) -> None:
    topic = Topic(MUNI, TopicKind(source[0]), source[1])
    with contextlib.suppress(Rejected):
        _check(decode_events(doc, topic, CAMERAS, RECEIVED, 5))


@FAST
@given(topic=TEXT | st.text(max_size=80).map(lambda s: f"cityops/{s}"))
def test_parse_topic_returns_a_topic_or_none(topic: str) -> None:
    found = parse_topic(topic)
    assert found is None or found.municipality in topic


ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}", fullmatch=True)


@FAST
@given(
    topic=ID.flatmap(
        lambda m: st.sampled_from(
            [f"cityops/{m}/readings", f"cityops/{m}/sensors/{m}/readings", f"cityops/{m}/x"]
        )
    )
    | st.text(min_size=190, max_size=400).map(lambda s: f"cityops/{s}/readings")
)
@example(topic=f"cityops/{'m' * 64}/sensors/{'s' * 64}/readings")  # the longest there is
def test_parse_topic_answers_as_the_pattern_does_again_and_again(topic: str) -> None:
    """The kept answers (parse_topic remembers recent topics) are the pattern's, also for the
    longest ids and for topics too long to be one."""
    expected = payloads._TOPIC.match(topic) is not None
    assert (parse_topic(topic) is not None) == expected
    assert (parse_topic(topic) is not None) == expected


@FAST
@given(
    payload=st.binary(max_size=200)
    | JSON.map(lambda d: json.dumps(d).encode("utf-8", "surrogatepass"))
)
def test_decode_json_returns_or_rejects(payload: bytes) -> None:
    with contextlib.suppress(Rejected):
        decode_json(payload, 4096)


TOPICS = (
    st.sampled_from(
        [
            f"cityops/{MUNI}/sensors/river-1/readings",
            f"cityops/{MUNI}/readings",
            f"cityops/{MUNI}/cameras/cam-a/events",
            f"cityops/{MUNI}/events/call-112",
            f"cityops/{MUNI}/cameras/ghost/events",
            "cityops/nowhere/readings",
        ]
    )
    | TEXT
)
PAYLOADS = (READINGS_DOC.map(json.dumps) | EVENTS_DOC.map(json.dumps) | st.binary(max_size=64)).map(
    lambda p: p if isinstance(p, bytes) else p.encode("utf-8", "surrogatepass")
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(st.tuples(TOPICS, PAYLOADS), min_size=1, max_size=6))
def test_the_pipeline_takes_anything_and_keeps_the_good_readings(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, messages: list[tuple[str, bytes]]
) -> None:
    """The fixtures are shared by the examples: one pipeline and database see them all."""
    clock.advance(minutes=1)
    outcomes: list[tuple[int, MessageOutcome]] = []
    batch = [
        InboundMessage(topic, payload, clock.now, done=lambda o, i=i: outcomes.append((i, o)))
        for i, (topic, payload) in enumerate(messages)
    ]
    good_ts = clock.now - timedelta(seconds=1)
    batch.append(
        InboundMessage(
            f"cityops/{MUNI}/sensors/river-2/readings",
            json.dumps({"value": 1.25, "ts": good_ts.isoformat()}).encode(),
            clock.now,
            done=lambda o: outcomes.append((len(messages), o)),
        )
    )
    pipeline.process(batch)
    assert sorted(i for i, _ in outcomes) == list(range(len(batch)))
    assert dict(outcomes)[len(messages)].accepted == 1
    with db.connect() as conn:
        c = t.readings.c
        stored = (
            conn.execute(select(c.value).where(c.sensor_id == "river-2", c.ts == good_ts))
            .scalars()
            .all()
        )
    assert stored == [1.25]
