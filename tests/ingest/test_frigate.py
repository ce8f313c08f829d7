"""Frigate's ``<prefix>/events`` messages as camera events: each message type, written from
Frigate's MQTT documentation (docs/docs/integrations/mqtt.md), and what is refused."""

from __future__ import annotations

import contextlib
import copy
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.catalog import FrigateSource
from cityops.ingest.frigate import decode_frigate, frigate_prefix
from cityops.ingest.payloads import Decoded, Reason, Rejected
from tests.ingest.test_properties import JSON, NUMBERS, TEXT
from tests.town import MUNI, T0, town_config

CAMERAS = {c.id: c for c in town_config().cameras}
SOURCE = FrigateSource(
    topic_prefix="frigate",
    cameras={"school_gate": "cam-school", "crossing": "cam-a"},
    labels={"person": "person", "car": "vehicle"},
    min_score=0.6,
)
START = (T0 - timedelta(seconds=30)).timestamp()


def frigate_object(**changes: Any) -> dict[str, Any]:
    """The ``after`` of a Frigate event message as Frigate 0.13/0.14 publishes it."""
    obj: dict[str, Any] = {
        "id": f"{START:.6f}-mxklsc",
        "camera": "school_gate",
        "frame_time": START + 2.5,
        "snapshot": None,
        "label": "person",
        "sub_label": None,
        "top_score": 0.958984375,
        "false_positive": False,
        "start_time": START,
        "end_time": None,
        "score": 0.7890625,
        "box": [424, 500, 536, 712],
        "area": 23744,
        "ratio": 2.113207,
        "region": [264, 450, 667, 853],
        "current_zones": ["school-yard"],
        "entered_zones": ["school-yard"],
        "thumbnail": None,
        "has_snapshot": True,
        "has_clip": True,
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 0,
        "attributes": {},
    }
    obj.update(changes)
    return obj


def message(kind: str, after: dict[str, Any], before: dict[str, Any] | None = None) -> Any:
    return {"type": kind, "before": before or copy.deepcopy(after), "after": after}


def decode(doc: Any) -> Decoded:
    return decode_frigate(doc, MUNI, SOURCE, CAMERAS, T0)


def test_topic_prefix_of_an_events_topic() -> None:
    assert frigate_prefix("frigate/events") == "frigate"
    assert frigate_prefix("site-a/frigate/events") == "site-a/frigate"
    assert frigate_prefix("frigate/reviews") is None
    assert frigate_prefix("events") is None


def test_new_is_one_event_of_the_mapped_kind_in_the_first_zone() -> None:
    decoded = decode(message("new", frigate_object(sub_label=["alice", 0.87])))
    assert decoded.rejections == []
    (event,) = decoded.events
    assert event.event_id == f"frigate:{START:.6f}-mxklsc"
    assert (event.source_id, event.kind, event.zone) == ("cam-school", "person", "school-yard")
    assert event.confidence == 0.958984375
    assert event.ts.timestamp() == pytest.approx(START)
    assert event.position == CAMERAS["cam-school"].position
    assert event.attributes == {
        "frigate_id": f"{START:.6f}-mxklsc",
        "frigate_camera": "school_gate",
        "label": "person",
        "sub_label": "alice",
        "stationary": "false",
        "has_clip": "true",
        "has_snapshot": "true",
    }


def test_new_with_several_zones_and_without_any() -> None:
    after = frigate_object(label="car", entered_zones=["street", "school-yard"])
    events = decode(message("new", after)).events
    assert [(e.event_id.split(":", 2)[2:], e.kind, e.zone) for e in events] == [
        ([], "vehicle", "street"),
        (["school-yard"], "vehicle", "school-yard"),
    ]
    (event,) = decode(message("new", frigate_object(entered_zones=[]))).events
    assert event.zone is None


def test_update_gives_one_event_per_newly_entered_zone() -> None:
    before = frigate_object(entered_zones=["street"])
    after = frigate_object(entered_zones=["street", "school-yard", "car-park"], stationary=True)
    events = decode(message("update", after, before)).events
    assert [(e.event_id, e.zone) for e in events] == [
        (f"frigate:{START:.6f}-mxklsc:school-yard", "school-yard"),
        (f"frigate:{START:.6f}-mxklsc:car-park", "car-park"),
    ]
    assert all(e.ts.timestamp() == pytest.approx(START + 2.5) for e in events)
    assert events[0].attributes["stationary"] == "true"


def test_an_update_that_enters_nothing_new_and_end_give_nothing() -> None:
    after = frigate_object(top_score=0.97, has_snapshot=True)  # a better snapshot
    assert decode(message("update", after)) == Decoded()
    ended = frigate_object(end_time=START + 40.0)
    assert decode(message("end", ended)) == Decoded()


@pytest.mark.parametrize(
    "after",
    [
        frigate_object(label="dog"),  # not in labels
        frigate_object(top_score=0.55),  # below min_score
        frigate_object(false_positive=True),
    ],
)
def test_ignored_objects_are_neither_events_nor_rejections(after: dict[str, Any]) -> None:
    assert decode(message("new", after)) == Decoded()


def test_an_unknown_camera_is_rejected_as_unknown_camera() -> None:
    with pytest.raises(Rejected) as info:
        decode(message("new", frigate_object(camera="garage")))
    assert info.value.reason is Reason.CAMERA
    assert "'garage'" in info.value.detail


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], Reason.SHAPE),
        ({"type": "create", "after": frigate_object()}, Reason.SHAPE),
        ({"type": "new"}, Reason.SHAPE),
        ({"type": "new", "after": frigate_object(id=None)}, Reason.SHAPE),
        ({"type": "new", "after": frigate_object(id="../../x")}, Reason.SHAPE),
        ({"type": "new", "after": frigate_object(label=7)}, Reason.SHAPE),
        ({"type": "new", "after": frigate_object(top_score=1.5)}, Reason.RANGE),
        ({"type": "new", "after": frigate_object(top_score=float("nan"))}, Reason.NUMBER),
        ({"type": "new", "after": frigate_object(start_time="yesterday")}, Reason.SHAPE),
        ({"type": "new", "after": frigate_object(start_time=START + 3600)}, Reason.TIMESTAMP),
        ({"type": "new", "after": frigate_object(entered_zones="yard")}, Reason.SHAPE),
        ({"type": "new", "after": frigate_object(entered_zones=["a\x00"])}, Reason.SHAPE),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(doc: Any, reason: Reason) -> None:
    with pytest.raises(Rejected) as info:
        decode(doc)
    assert info.value.reason is reason


OBJECT = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from([f"{START:.6f}-abc", "x"]) | TEXT | JSON,
        "camera": st.sampled_from(["school_gate", "crossing", "garage"]) | TEXT | JSON,
        "label": st.sampled_from(["person", "car", "dog"]) | TEXT | JSON,
        "sub_label": TEXT | JSON | st.tuples(TEXT, NUMBERS).map(list),
        "top_score": NUMBERS | JSON,
        "score": NUMBERS | JSON,
        "start_time": st.just(START) | NUMBERS | JSON,
        "frame_time": st.just(START + 1) | NUMBERS | JSON,
        "entered_zones": st.lists(st.sampled_from(["a", "b"]) | TEXT, max_size=4) | JSON,
        "false_positive": st.booleans() | JSON,
        "stationary": st.booleans() | JSON,
        "has_clip": st.booleans() | JSON,
    },
)
MESSAGES = (
    st.fixed_dictionaries(
        {"type": st.sampled_from(["new", "update", "end"]) | JSON, "after": OBJECT | JSON},
        optional={"before": OBJECT | JSON},
    )
    | JSON
)


@settings(max_examples=400, deadline=None)
@given(doc=MESSAGES)
def test_any_json_decodes_or_is_rejected(doc: Any) -> None:
    """Never anything but ``Rejected``; what is decoded is a valid event of a mapped camera."""
    with contextlib.suppress(Rejected):
        decoded = decode(doc)
        assert decoded.rejections == []
        for e in decoded.events:
            assert e.source_id in SOURCE.cameras.values()
            assert e.kind in SOURCE.labels.values()
            assert e.ts.tzinfo is not None
            assert e.confidence is None or SOURCE.min_score <= e.confidence <= 1
            assert e.event_id.startswith("frigate:")
            assert len(e.event_id) <= 200
