"""Property tests of what a person's device sends: no input makes the decoder raise, every item
is either a signal or a rejection with a reason, valid items come back as sent, and the safe
area test agrees with the geometry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cityops.domain.entities import LonLat
from cityops.domain.persons import Person, PersonError, PersonKind, SignalKind, check_area
from cityops.ingest.payloads import Reason
from cityops.ingest.persons import (
    MAX_POSITIONS,
    PersonTopic,
    decode_person,
    parse_person_topic,
)
from tests.ingest.test_properties import JSON, NUMBERS, TEXT, TIMESTAMPS
from tests.town import MUNI, T0

KINDS = st.sampled_from(list(SignalKind))
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "lon": NUMBERS | TEXT,
        "lat": NUMBERS | TEXT,
        "ts": TIMESTAMPS,
        "accuracy_m": NUMBERS | TEXT | st.none(),
        "battery": NUMBERS | TEXT | st.none(),
    },
)
DOCS = (
    JSON
    | ITEM
    | st.lists(ITEM | JSON, max_size=6)
    | st.fixed_dictionaries({"positions": st.lists(ITEM, max_size=6) | JSON})
)
IDS = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)


def topic(kind: SignalKind) -> PersonTopic:
    return PersonTopic(MUNI, "tracker-1", kind)


@given(DOCS, KINDS)
def test_the_decoder_never_raises_and_accounts_for_every_item(doc: Any, kind: SignalKind) -> None:
    out = decode_person(doc, topic(kind), T0)
    assert out.readings == []
    assert out.events == []
    for rej in out.rejections:
        assert isinstance(rej.reason, Reason)
        assert rej.detail
    items = doc["positions"] if isinstance(doc, dict) and "positions" in doc else doc
    if kind is SignalKind.POSITION and isinstance(items, list) and len(items) <= MAX_POSITIONS:
        assert len(out.signals) + len(out.rejections) == len(items)
    else:
        assert len(out.signals) + len(out.rejections) >= 1
    for signal in out.signals:
        assert signal.municipality == MUNI
        assert signal.device_id == "tracker-1"
        assert signal.kind is kind
        assert signal.at.tzinfo is not None
        if kind is SignalKind.POSITION:
            assert signal.position is not None


@given(
    st.floats(-180, 180),
    st.floats(-90, 90),
    st.integers(-3600, 300),
    st.none() | st.floats(0, 5000),
    st.none() | st.floats(0, 1),
    KINDS,
)
def test_a_valid_signal_comes_back_as_sent(
    lon: float,
    lat: float,
    seconds: int,
    accuracy: float | None,
    battery: float | None,
    kind: SignalKind,
) -> None:
    ts = T0 + timedelta(seconds=seconds)
    doc = {"lon": lon, "lat": lat, "ts": ts.isoformat(), "accuracy_m": accuracy}
    doc["battery"] = battery
    out = decode_person(doc, topic(kind), T0)
    assert out.rejections == []
    [signal] = out.signals
    assert signal.position == LonLat(lon, lat)
    assert (signal.at, signal.accuracy_m, signal.battery) == (ts, accuracy, battery)


@given(st.lists(st.fixed_dictionaries({"lon": st.floats(-1, 1), "lat": st.floats(-1, 1)})))
def test_a_sos_is_one_object_never_a_list(items: list[dict[str, float]]) -> None:
    out = decode_person(items, topic(SignalKind.SOS), T0)
    assert out.signals == []
    assert [r.reason for r in out.rejections] == [Reason.SHAPE]


@given(IDS, IDS, KINDS)
def test_topics_round_trip(muni: str, device: str, kind: SignalKind) -> None:
    parsed = parse_person_topic(f"cityops/{muni}/persons/{device}/{kind}")
    assert parsed == PersonTopic(muni, device, kind)


@given(TEXT.filter(lambda tail: tail not in ("position", "sos")))
def test_other_topics_are_not_persons(tail: str) -> None:
    assert parse_person_topic(f"cityops/{MUNI}/persons/x/{tail}") is None
    assert parse_person_topic(f"cityops/{MUNI}/persons/{tail}/sos/x") is None
    assert parse_person_topic(f"cityops/{MUNI}/sensors/x/readings") is None


BOX = (LonLat(25.0, 42.0), LonLat(25.1, 42.0), LonLat(25.1, 42.1), LonLat(25.0, 42.1))


def person(area: tuple[LonLat, ...] = BOX) -> Person:
    return Person(
        municipality=MUNI,
        kind=PersonKind.DEMENTIA,
        name="Ivan",
        guardian_name="Petya",
        guardian_phone="+359 88 000 0000",
        device_id="tracker-1",
        safe_area=area,
    )


@given(st.floats(24.9, 25.2), st.floats(41.9, 42.2))
def test_inside_the_safe_area_is_inside_its_outline(lon: float, lat: float) -> None:
    expected = 25.0 <= lon <= 25.1 and 42.0 <= lat <= 42.1
    assert person().inside(LonLat(lon, lat)) is expected


@given(st.floats(-180, 180), st.floats(-90, 90))
def test_without_a_safe_area_there_is_no_verdict(lon: float, lat: float) -> None:
    assert person(()).inside(LonLat(lon, lat)) is None


@given(
    st.lists(
        st.builds(LonLat, st.floats(25.0, 25.1), st.floats(42.0, 42.1)), min_size=0, max_size=8
    )
)
def test_a_safe_area_is_a_proper_polygon_or_refused(corners: list[LonLat]) -> None:
    try:
        check_area(corners)
    except PersonError:
        return
    assert corners == [] or len(corners) >= 3
