"""services/access_scope.LiveScope, the live feed's filter, over arbitrary streams of messages:
nothing of another municipality (but what was handed over), a liaison nothing but its agency's
incidents and its cameras."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from cityops.domain.entities import CameraHealth, Sector, SensorState, Severity
from cityops.domain.incident import Status
from cityops.services.access_scope import LiveScope
from cityops.services.live import (
    CameraPayload,
    DetectionsPayload,
    HelloPayload,
    LiveKind,
    LiveMessage,
    PersonPayload,
    ResyncPayload,
    ResyncReason,
    SensorPayload,
    WarningChange,
    WarningPayload,
)
from cityops.services.views import IncidentSummary

T = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
PLACES = ("home", "next", "far")
AGENCIES = ("fire", "police", None)
CAMERAS = ("cam-1", "cam-2", "cam-3")


def incident(muni: str, number: int, agency: str | None) -> IncidentSummary:
    return IncidentSummary(
        id=number,
        municipality=muni,
        type="flood",
        sector=Sector.DISASTER,
        severity=Severity.SEVERE,
        status=Status.NEW,
        actions=[],
        title="t",
        location=None,
        rule_id=None,
        proposed_agency=None,
        assigned_agency=agency,
        created_at=T,
        updated_at=T,
        event_count=0,
    )


def message(draw: st.DrawFn) -> LiveMessage:
    to = draw(st.sampled_from(PLACES))
    kind = draw(st.sampled_from(list(LiveKind)))
    camera = draw(st.sampled_from(CAMERAS))
    if kind is LiveKind.INCIDENT:
        origin = draw(st.sampled_from([to, *PLACES]))  # sent to `to`, of `origin` (hand-over)
        payload: object = incident(origin, draw(st.integers(1, 6)), draw(st.sampled_from(AGENCIES)))
    elif kind is LiveKind.SENSOR:
        payload = SensorPayload(id="s", value=1.0, ts=None, state=SensorState.OK)
    elif kind is LiveKind.CAMERA:
        payload = CameraPayload(id=camera, health=CameraHealth.ONLINE)
    elif kind is LiveKind.DETECTIONS:
        payload = DetectionsPayload(id=camera, ts=T, objects=[])
    elif kind is LiveKind.HELLO:
        payload = HelloPayload(municipality=to, server_time=T)
    elif kind is LiveKind.WARNING:
        payload = WarningPayload(
            change=WarningChange.OPENED,
            sender="s",
            identifier="i",
            headline="h",
            severity="Minor",
            lon=25.0,
            lat=42.0,
            expires=None,
            signature="absent",
        )
    elif kind is LiveKind.PERSON:
        payload = PersonPayload(
            person_id=1,
            incident_id=None,
            kind="position",
            ts=T,
            lon=25.0,
            lat=42.0,
            accuracy_m=None,
            inside=True,
        )
    else:
        payload = ResyncPayload(reason=ResyncReason.OVERFLOW)
    return LiveMessage(to, kind, payload)  # type: ignore[arg-type]


messages = st.lists(st.composite(message)(), max_size=60)


@given(messages, st.frozensets(st.integers(1, 6)))
def test_a_municipality_gets_its_own_and_what_was_handed_over_to_it(
    stream: list[LiveMessage], shared: frozenset[int]
) -> None:
    scope = LiveScope(municipality="home", agency=None, limited=False, shared=set(shared))
    handed = set(shared)
    for m in stream:
        admitted = scope.admits(m)
        if m.kind is LiveKind.INCIDENT:
            p = m.payload
            assert isinstance(p, IncidentSummary)
            if m.municipality == "home" and p.municipality != "home":
                handed.add(p.id)  # the hand-over message itself comes addressed to us
            expected = m.municipality == "home" or (
                p.id in handed and p.municipality == m.municipality
            )
        else:  # a person's track only with persons.view (not in this scope)
            expected = m.municipality == "home" and m.kind is not LiveKind.PERSON
        assert admitted == expected, m


@given(messages)
def test_persons_tracks_go_only_to_persons_view_holders_of_their_municipality(
    stream: list[LiveMessage],
) -> None:
    viewer = LiveScope(municipality="home", agency=None, limited=False, persons=True)
    liaison = LiveScope(municipality="home", agency="fire", limited=True, persons=False)
    for m in stream:
        if m.kind is LiveKind.PERSON:
            assert viewer.admits(m) == (m.municipality == "home")
            assert not liaison.admits(m)


@given(messages)
def test_a_liaison_gets_only_its_agencys_incidents_and_its_cameras(
    stream: list[LiveMessage],
) -> None:
    scope = LiveScope(
        municipality="home", agency="fire", limited=True, shared={1, 2}, cameras={"cam-1"}
    )
    for m in stream:
        if not scope.admits(m):
            continue
        assert m.municipality == "home"
        if m.kind is LiveKind.INCIDENT:
            p = m.payload
            assert isinstance(p, IncidentSummary)
            assert (p.municipality, p.assigned_agency) == ("home", "fire")
        elif m.kind in (LiveKind.CAMERA, LiveKind.DETECTIONS):
            assert getattr(m.payload, "id", None) == "cam-1"
        else:
            assert m.kind in (LiveKind.HELLO, LiveKind.RESYNC)
