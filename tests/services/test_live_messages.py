"""The typed live contract: every kind has its payload model, and a message survives the wire."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cityops.domain.analytics import ObjectClass
from cityops.domain.entities import CameraHealth, Sector, SensorState, Severity
from cityops.domain.incident import IncidentAction, Status
from cityops.services.live import (
    PAYLOADS,
    CameraPayload,
    DetectedObject,
    DetectionsPayload,
    HelloPayload,
    LiveKind,
    LiveMessage,
    LivePayload,
    PersonPayload,
    ResyncPayload,
    ResyncReason,
    SensorPayload,
    WarningChange,
    WarningPayload,
)
from cityops.services.views import IncidentSummary, Position

AT = datetime(2026, 11, 22, 8, 15, tzinfo=UTC)
SAMPLES: dict[LiveKind, LivePayload] = {
    LiveKind.HELLO: HelloPayload(municipality="testtown", server_time=AT),
    LiveKind.INCIDENT: IncidentSummary(
        id=7,
        municipality="testtown",
        type="flood",
        sector=Sector.DISASTER,
        severity=Severity.SEVERE,
        status=Status.ACKNOWLEDGED,
        actions=[IncidentAction.ASSIGN, IncidentAction.RESOLVE, IncidentAction.NOTE],
        title="Flood",
        location=Position(lon=25.39, lat=42.59),
        rule_id="flood-level",
        proposed_agency="civil-protection",
        assigned_agency=None,
        created_at=AT,
        updated_at=AT,
        event_count=0,
    ),
    LiveKind.SENSOR: SensorPayload(id="river-1", value=None, ts=None, state=SensorState.STALE),
    LiveKind.CAMERA: CameraPayload(id="cam-a", health=CameraHealth.OFFLINE),
    LiveKind.RESYNC: ResyncPayload(reason=ResyncReason.OVERFLOW),
    LiveKind.DETECTIONS: DetectionsPayload(
        id="cam-a",
        ts=AT,
        objects=[DetectedObject(track=3, label=ObjectClass.PERSON, box=(0.1, 0.2, 0.3, 0.6))],
    ),
    LiveKind.WARNING: WarningPayload(
        change=WarningChange.OPENED,
        sender="ops@meteo.bg",
        identifier="bg-1",
        headline="Силен вятър",
        severity="Moderate",
        lon=25.4,
        lat=42.62,
        expires=AT,
        signature="absent",
    ),
    LiveKind.PERSON: PersonPayload(
        person_id=3,
        incident_id=None,
        kind="position",
        ts=AT,
        lon=25.39,
        lat=42.62,
        accuracy_m=12.0,
        inside=False,
    ),
}


def test_every_kind_has_a_payload_model() -> None:
    assert set(PAYLOADS) == set(LiveKind)
    assert set(SAMPLES) == set(LiveKind)


@pytest.mark.parametrize("kind", list(LiveKind))
def test_a_message_round_trips_through_its_json(kind: LiveKind) -> None:
    sent = LiveMessage("testtown", kind, SAMPLES[kind])
    back = LiveMessage.parse("testtown", kind, sent.data_json())
    assert back == sent
    assert type(back.payload) is PAYLOADS[kind]


def test_the_wire_shapes_are_the_contract() -> None:
    def wire(kind: LiveKind) -> str:
        return LiveMessage("testtown", kind, SAMPLES[kind]).data_json()

    assert (
        wire(LiveKind.HELLO) == '{"municipality":"testtown","server_time":"2026-11-22T08:15:00Z"}'
    )
    assert wire(LiveKind.SENSOR) == '{"id":"river-1","value":null,"ts":null,"state":"stale"}'
    assert wire(LiveKind.CAMERA) == '{"id":"cam-a","health":"offline"}'
    assert wire(LiveKind.RESYNC) == '{"reason":"overflow"}'
    assert '"actions":["assign","resolve","note"]' in wire(LiveKind.INCIDENT)


@pytest.mark.parametrize("kind", list(LiveKind))
def test_a_payload_of_another_kind_is_refused(kind: LiveKind) -> None:
    wrong = SAMPLES[LiveKind.CAMERA if kind is not LiveKind.CAMERA else LiveKind.SENSOR]
    with pytest.raises(TypeError, match=f"a {kind} message carries"):
        LiveMessage("testtown", kind, wrong)
