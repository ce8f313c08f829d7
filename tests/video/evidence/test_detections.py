"""What each camera sees now: the worker's retained detections message (from the real pipeline
on a rendered street) decodes into a ``detections`` live message; the decoder refuses anything
malformed (Hypothesis) and the control center relays a message from a real Mosquitto to its live
feed without storing it."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from cityops.app import load_runtimes
from cityops.domain.analytics import CameraAnalytics
from cityops.ingest.detections import decode_detections
from cityops.services.live import DetectionsPayload, LiveKind, LiveMessage
from cityops.store import tables as t
from cityops.video.analytics.pipeline import CameraPipeline
from cityops.video.synthetic import open_synthetic
from cityops.video.worker.publish import detections_message
from tests.harness import MosquittoServer
from tests.town import MUNI, start_center, town_db
from tests.video.worker.worker_support import camera

TOPIC = f"cityops/{MUNI}/cameras/cam-a/detections"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    db = town_db(f"sqlite:///{tmp_path_factory.mktemp('db') / 'c.db'}")
    found = dict(load_runtimes(db))
    db.dispose()
    return found  # type: ignore[return-value]


def test_the_workers_detections_become_a_live_message(runtimes: dict[str, object]) -> None:
    analysed = dataclasses.replace(camera("cam-a"), analytics=CameraAnalytics())
    pipeline = CameraPipeline(analysed, timezone="Europe/Sofia")
    scene = open_synthetic("synthetic://street?seed=1")
    result = None
    for k in range(100):
        ts = datetime.fromtimestamp(1_900_000_000 + k / 5, UTC)
        result = pipeline.process(scene.frame_at(ts.timestamp()), ts)
        if len(result.objects) >= 2:
            break
    assert result is not None
    assert len(result.objects) >= 2, "nothing tracked on the street"
    message = detections_message(analysed, result, ts)
    assert message.topic == TOPIC
    assert message.retain
    assert message.qos == 0
    live = decode_detections(message.topic, message.payload, runtimes, now=ts)  # type: ignore[arg-type]
    assert live is not None
    assert live.kind is LiveKind.DETECTIONS
    payload = live.payload
    assert isinstance(payload, DetectionsPayload)
    assert payload.id == "cam-a"
    assert payload.ts == ts
    assert [(o.track, o.label) for o in payload.objects] == [
        (o.track_id, o.cls) for o in result.objects
    ]
    for o, tracked in zip(payload.objects, result.objects, strict=True):
        assert o.box == pytest.approx(
            (tracked.box.x1, tracked.box.y1, tracked.box.x2, tracked.box.y2), abs=1e-4
        )


@pytest.mark.parametrize(
    ("topic", "doc"),
    [
        (TOPIC, {"ts": "2026-11-20T10:00:00", "objects": []}),  # no zone
        (
            TOPIC,
            {"ts": "2026-11-20T10:00:00Z", "objects": [{"label": "person", "box": [0, 0, 2, 1]}]},
        ),
        (
            TOPIC,
            {"ts": "2026-11-20T10:00:00Z", "objects": [{"label": "tank", "box": [0, 0, 1, 1]}]},
        ),
        (TOPIC, {"ts": "2026-11-20T10:00:00Z", "objects": [{"label": "person", "box": [0, 0]}]}),
        (
            TOPIC,
            {
                "ts": "2026-11-20T10:00:00Z",
                "objects": [{"label": "person", "box": [0, 0, 1, 1]}] * 101,
            },
        ),
        (TOPIC, [1, 2]),
        (f"cityops/{MUNI}/cameras/ghost/detections", {"ts": "2026-11-20T10:00:00Z", "objects": []}),
        (
            "cityops/elsewhere/cameras/cam-a/detections",
            {"ts": "2026-11-20T10:00:00Z", "objects": []},
        ),
    ],
)
def test_malformed_detections_are_dropped(
    runtimes: dict[str, object], topic: str, doc: object
) -> None:
    payload = json.dumps(doc).encode()
    assert decode_detections(topic, payload, runtimes, now=NOW) is None  # type: ignore[arg-type]


def test_old_detections_are_not_shown(runtimes: dict[str, object]) -> None:
    """A worker that died leaves its retained message: 30 s on, it is not what the camera sees."""
    doc = {"ts": "2026-11-20T10:00:00Z", "objects": []}
    payload = json.dumps(doc).encode()
    for seconds, shown in ((0, True), (29, True), (31, False), (-31, False)):
        now = NOW + timedelta(seconds=seconds)
        got = decode_detections(TOPIC, payload, runtimes, now=now)  # type: ignore[arg-type]
        assert (got is not None) is shown, seconds


@given(
    st.binary(max_size=300)
    | st.builds(
        lambda d: json.dumps(d).encode(),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=5)
                | st.dictionaries(
                    st.sampled_from(["ts", "objects", "label", "box", "track", "x"]),
                    inner,
                    max_size=5,
                )
            ),
            max_leaves=20,
        ),
    )
)
def test_the_decoder_never_raises_and_keeps_boxes_in_the_image(
    runtimes: dict[str, object], payload: bytes
) -> None:
    live = decode_detections(TOPIC, payload, runtimes, now=NOW)  # type: ignore[arg-type]
    if live is not None:
        assert isinstance(live.payload, DetectionsPayload)
        for o in live.payload.objects:
            assert all(0.0 <= v <= 1.0 for v in o.box)


@pytest.mark.mosquitto
def test_the_control_center_relays_detections_to_its_live_feed(
    tmp_path: Path, mosquitto: MosquittoServer
) -> None:
    center = start_center(tmp_path, mqtt_url=mosquitto.url, mqtt_client_id="cityops-det-test")
    got: list[LiveMessage] = []
    seen = threading.Event()

    def listen(messages: Sequence[LiveMessage]) -> None:
        for m in messages:
            if m.kind is LiveKind.DETECTIONS:
                got.append(m)
                seen.set()

    center.live.subscribe(listen)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="det-publisher")
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    try:
        sent_at = datetime.now(UTC).replace(microsecond=0)
        doc = {
            "ts": sent_at.isoformat().replace("+00:00", "Z"),
            "objects": [{"track": 4, "label": "vehicle", "box": [0.1, 0.2, 0.3, 0.4]}],
        }
        client.publish(TOPIC, json.dumps(doc), qos=0, retain=False).wait_for_publish(5)
        assert seen.wait(5), "no detections message reached the live feed"
        (message,) = got
        assert message.municipality == MUNI
        assert message.data_json() == (
            f'{{"id":"cam-a","ts":"{doc["ts"]}","objects":'
            '[{"track":4,"label":"vehicle","box":[0.1,0.2,0.3,0.4]}]}'
        )
        with center.db.connect() as conn:  # nothing stored, nothing dead-lettered
            assert conn.execute(select(func.count()).select_from(t.events)).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(t.dead_letters)).scalar_one() == 0
    finally:
        client.loop_stop()
        client.disconnect()
        center.stop()
