"""One publish/subscribe transport for live changes: the SSE feed and MQTT both hang off it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from cityops.domain.analytics import ObjectClass
from cityops.domain.entities import CameraHealth, SensorState
from cityops.services.views import IncidentSummary

log = logging.getLogger(__name__)

Fraction01 = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class LiveKind(StrEnum):
    """The kinds of live message (the SSE ``event:`` name); docs/LIVE.md describes each."""

    HELLO = "hello"
    INCIDENT = "incident"
    SENSOR = "sensor"
    CAMERA = "camera"
    RESYNC = "resync"
    DETECTIONS = "detections"
    """What a camera's video analytics sees now (about once a second; the camera wall)."""
    WARNING = "warning"
    """A public warning (CAP alert) for the municipality opened, changed or ended (docs/CAP.md)."""
    PERSON = "person"
    """A vulnerable person's device told a position or an SOS (docs/AGENCIES.md "SOS of
    vulnerable people"); only to persons.view holders (services/access_scope.py)."""


class HelloPayload(BaseModel):
    """The first message of every connection."""

    municipality: str
    server_time: datetime


class SensorPayload(BaseModel):
    """A sensor's newest reading, or its state changing without one (stale, offline, alarm)."""

    id: str
    value: float | None
    ts: datetime | None
    state: SensorState


class CameraPayload(BaseModel):
    id: str
    health: CameraHealth


class DetectedObject(BaseModel):
    """One object a camera's analytics tracks: its box in image fractions (x1, y1, x2, y2)."""

    track: int | None = Field(default=None, ge=0, le=2**31 - 1)
    label: ObjectClass
    box: tuple[Fraction01, Fraction01, Fraction01, Fraction01]


class DetectionsPayload(BaseModel):
    """The objects a camera's analytics tracks at ``ts`` (empty: nothing in view)."""

    id: str = Field(max_length=64)
    ts: AwareDatetime
    objects: list[DetectedObject] = Field(max_length=100)


class WarningChange(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    LEFT = "left"
    """An update moved the warning's area away from the municipality."""


class WarningPayload(BaseModel):
    """A public warning's change: the map shows it while ``change`` is opened or updated."""

    change: WarningChange
    sender: str = Field(max_length=300)
    identifier: str = Field(max_length=300)
    headline: str = Field(max_length=500)
    severity: str = Field(max_length=32)
    lon: float = Field(ge=-180.0, le=180.0)
    lat: float = Field(ge=-90.0, le=90.0)
    expires: AwareDatetime | None
    signature: str = Field(max_length=500)


class PersonPayload(BaseModel):
    """One point of a vulnerable person's track: no name, photo or contact (those are fetched,
    audited, from GET .../persons/{id}); ``incident_id``: the open episode, if any."""

    person_id: int
    incident_id: int | None
    kind: str = Field(max_length=16)
    """``position`` or ``sos``."""
    ts: AwareDatetime
    lon: float | None = Field(ge=-180.0, le=180.0)
    lat: float | None = Field(ge=-90.0, le=90.0)
    accuracy_m: float | None
    inside: bool | None
    """Inside the safe area (null: no position or no safe area)."""


class ResyncReason(StrEnum):
    OVERFLOW = "overflow"
    """The client fell QUEUE_LIMIT messages behind: what was queued for it was dropped."""


class ResyncPayload(BaseModel):
    """Refetch incidents, sensors and cameras: live messages were lost."""

    reason: ResyncReason


LivePayload = (
    HelloPayload
    | IncidentSummary
    | SensorPayload
    | CameraPayload
    | ResyncPayload
    | DetectionsPayload
    | WarningPayload
    | PersonPayload
)

PAYLOADS: dict[LiveKind, type[LivePayload]] = {
    LiveKind.HELLO: HelloPayload,
    LiveKind.INCIDENT: IncidentSummary,
    LiveKind.SENSOR: SensorPayload,
    LiveKind.CAMERA: CameraPayload,
    LiveKind.RESYNC: ResyncPayload,
    LiveKind.DETECTIONS: DetectionsPayload,
    LiveKind.WARNING: WarningPayload,
    LiveKind.PERSON: PersonPayload,
}
"""The payload model of each kind: the live contract in one table."""


@dataclass(frozen=True, slots=True)
class LiveMessage:
    municipality: str
    kind: LiveKind
    payload: LivePayload
    _json: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.payload, PAYLOADS[self.kind]):
            raise TypeError(f"a {self.kind} message carries {PAYLOADS[self.kind].__name__}")

    def data_json(self) -> str:
        """The payload as sent (the SSE ``data:`` line, the MQTT message), serialised once
        however many consoles and brokers it goes to."""
        if self._json is None:
            object.__setattr__(self, "_json", self.payload.model_dump_json())
        assert self._json is not None
        return self._json

    @classmethod
    def parse(cls, municipality: str, kind: LiveKind, data: str | bytes) -> LiveMessage:
        """A message as a client reads it back from ``kind`` and ``data_json()``."""
        return cls(municipality, kind, PAYLOADS[kind].model_validate_json(data))


Listener = Callable[[Sequence[LiveMessage]], None]
"""Receives the messages of one publish call together (a batch's sensor updates are one call)."""


class LiveBus:
    """Fan-out of live changes to listeners. Thread-safe; listeners must not block."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, message: LiveMessage) -> None:
        self.publish_many([message])

    def publish_many(self, messages: Sequence[LiveMessage]) -> None:
        if not messages:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(messages)
            except Exception:  # a broken listener must not stop ingest
                log.exception("live listener failed")
