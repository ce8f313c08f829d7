"""The live feed's sensor messages, built on the hot path without pydantic's validation (one
per sensor of every batch, ingest/tick.py), are what a validated payload would be."""

from __future__ import annotations

from sqlalchemy import Engine

from cityops.ingest.pipeline import IngestPipeline
from cityops.services.live import LiveKind, LiveMessage, SensorPayload
from tests.ingest.test_pipeline import level
from tests.town import FrozenClock


def test_sensor_messages_equal_validated_ones_and_read_back(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    seen: list[LiveMessage] = []
    pipeline.live.subscribe(seen.extend)
    for value in (1.0, 3.0, 3.1):
        level(pipeline, clock, value)
        clock.advance(minutes=6)
    pipeline.tick()  # river-1 quiet for six minutes (stale: 3 x its 1 min interval)
    sensors = [m for m in seen if m.kind is LiveKind.SENSOR]
    assert [(m.payload.id, m.payload.state) for m in sensors] == [  # type: ignore[union-attr]
        ("river-1", "ok"),
        ("river-1", "alarm"),  # rose 2 m within 30 minutes (rapid-rise)
        ("river-1", "alarm"),
        ("river-1", "alarm"),  # the tick: still in alarm, which outranks stale
    ]
    for message in sensors:
        payload = message.payload
        assert isinstance(payload, SensorPayload)
        assert SensorPayload.model_validate(payload.model_dump()) == payload
        again = LiveMessage.parse(message.municipality, message.kind, message.data_json())
        assert again.payload == payload
        assert again.data_json() == message.data_json()
