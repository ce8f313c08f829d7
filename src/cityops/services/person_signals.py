"""A vulnerable person's device tells where it is, or an SOS: one incident per episode.

An SOS, or a position outside the safe area (after one inside, or the first one known), opens
the episode's incident through :func:`services.incidents.apply_trigger` with the synthetic rule
``sos`` and ``dedup_key`` ``sos|<person id>``, so there is one open incident per person however
many signals arrive. While it is open, every newer position moves the incident (its place and
nearest cameras) and is told on the live feed as kind ``person``; only what changes the
episode's meaning is written to its timeline: another SOS (at most one entry per
``SOS_REPEAT``), coming back inside the safe area, leaving it again. A position never floods
the timeline (docs/AGENCIES.md "SOS of vulnerable people")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Connection

from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import TimelineEntry, TimelineKind
from cityops.domain.persons import (
    EpisodeStart,
    Person,
    PersonKind,
    PersonSignal,
    SignalKind,
    judge,
    nearest_cameras,
)
from cityops.domain.rules import RuleOutcome, Trigger, TriggerKind
from cityops.services.incidents import IncidentChange, apply_trigger
from cityops.services.live import LiveKind, LiveMessage, PersonPayload
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import incidents_repo, persons_repo
from cityops.store.persons_repo import TrackPoint

RULE_ID = "sos"
SOS_REPEAT = timedelta(minutes=5)
"""A device that keeps sending SOS, or a position jumping across the safe area's edge, adds a
timeline entry at most this often."""
INCIDENT_TYPE = {EpisodeStart.SOS: "person_sos", EpisodeStart.LEFT_AREA: "person_left_area"}
_TITLE = {
    EpisodeStart.SOS: ("SOS: {name}", "SOS: {name}"),
    EpisodeStart.LEFT_AREA: ("{name} left the safe area", "{name} напусна безопасната зона"),
}
_KIND_LOCAL = {
    PersonKind.CHILD: "дете",
    PersonKind.DEMENTIA: "деменция",
    PersonKind.OTHER: "друго",
}


def dedup_key(person_id: int) -> str:
    return f"{RULE_ID}|{person_id}"


@dataclass(slots=True)
class Applied:
    """What a batch's signals did."""

    changes: list[IncidentChange] = field(default_factory=list)
    live: list[LiveMessage] = field(default_factory=list)
    known: list[bool] = field(default_factory=list)
    """Per signal, in order: False when no person is registered with its device."""


def _trigger(person: Person, signal: PersonSignal, start: EpisodeStart, text: str) -> Trigger:
    assert person.id is not None
    title, title_local = _TITLE[start]
    severe = start is EpisodeStart.SOS or person.kind is not PersonKind.OTHER
    return Trigger(
        rule_id=RULE_ID,
        municipality=person.municipality,
        kind=TriggerKind.RAISED,
        at=signal.at,
        dedup_key=dedup_key(person.id),
        subject=f"person-{person.id}",
        outcome=RuleOutcome(
            incident_type=INCIDENT_TYPE[start],
            sector=Sector.SAFETY,
            severity=Severity.SEVERE if severe else Severity.MODERATE,
            title=title.replace("{name}", person.name),
            title_local=title_local.replace("{name}", person.name),
        ),
        text=text,
        location=signal.position,
    )


def _describe(person: Person, signal: PersonSignal, start: EpisodeStart) -> str:
    kind = f"{person.kind.value} ({_KIND_LOCAL[person.kind]})"
    where = (
        f"at {signal.position.lat:.5f}, {signal.position.lon:.5f}"
        if signal.position
        else "position unknown"
    )
    what = "SOS pressed" if start is EpisodeStart.SOS else "left the safe area"
    return f"{person.name}, {kind}: {what} {where}; device {person.device_id}"


def _note(
    conn: Connection, incident_id: int, person: Person, at: datetime, text: str, *, sos: bool
) -> None:
    """One timeline entry; an SOS also raises the episode to severe (a person of kind other who
    left the safe area opened it as moderate)."""
    record = incidents_repo.get_incident(
        conn, person.municipality, incident_id, with_timeline=False
    )
    assert record is not None
    incident = record.incident
    entry = TimelineEntry(at=at, kind=TimelineKind.TRIGGER, actor=f"rule:{RULE_ID}", text=text)
    if sos and incident.severity.rank < Severity.SEVERE.rank:
        incident.severity = Severity.SEVERE
        incident.updated_at = at
        incidents_repo.save_incident(conn, incident, [entry])
    else:
        incidents_repo.add_timeline(conn, incident, entry)


def _one(
    conn: Connection,
    rt: MunicipalityRuntime,
    person: Person,
    signal: PersonSignal,
    now: datetime,
    out: Applied,
) -> None:
    assert person.id is not None
    if persons_repo.has_point(conn, person.id, signal):
        return  # delivered again (QoS 1, a retried post): stored once, told once
    last = persons_repo.last_point(conn, rt.id, person.id)
    newest = last is None or signal.at >= last.ts
    was_inside = _last_inside(conn, rt.id, person.id, last)
    verdict = judge(person, signal, was_inside)
    persons_repo.add_point(conn, person.id, signal, verdict.inside, now)
    open_id = incidents_repo.find_open_by_dedup(conn, rt.id, dedup_key(person.id))
    if verdict.start is not None and open_id is None and newest:
        text = _describe(person, signal, verdict.start)
        change = apply_trigger(conn, rt, _trigger(person, signal, verdict.start, text), now)
        if change is not None:
            open_id = change.incident_id
            out.changes.append(change)
            _follow(conn, rt, change.incident_id, signal, now)
    elif open_id is not None and newest:
        text = None
        if signal.kind is SignalKind.SOS and not _recent_sos(conn, rt.id, person.id, signal.at):
            text = _describe(person, signal, EpisodeStart.SOS)
        elif _crossed_lately(conn, rt.id, person.id, signal.at):
            pass  # crossing the edge back and forth: the map shows it, the timeline once
        elif verdict.start is EpisodeStart.LEFT_AREA:
            text = _describe(person, signal, EpisodeStart.LEFT_AREA)
        elif verdict.inside is True and was_inside is False:
            text = f"{person.name} is back inside the safe area"
        if text is not None:
            _note(conn, open_id, person, now, text, sos=signal.kind is SignalKind.SOS)
        _follow(conn, rt, open_id, signal, now)
        out.changes.append(IncidentChange(rt.id, open_id, created=False))
    if newest:
        out.live.append(
            LiveMessage(
                rt.id,
                LiveKind.PERSON,
                PersonPayload(
                    person_id=person.id,
                    incident_id=open_id,
                    kind=signal.kind.value,
                    ts=signal.at,
                    lon=signal.position.lon if signal.position else None,
                    lat=signal.position.lat if signal.position else None,
                    accuracy_m=signal.accuracy_m,
                    inside=verdict.inside,
                ),
            )
        )


def _last_inside(
    conn: Connection, municipality: str, person_id: int, last: TrackPoint | None
) -> bool | None:
    if last is None or last.inside is not None:
        return None if last is None else last.inside
    before = persons_repo.track(conn, municipality, person_id, last.ts - timedelta(hours=6), 50)
    known = [p.inside for p in before if p.inside is not None]
    return known[-1] if known else None


def _recent_sos(conn: Connection, municipality: str, person_id: int, at: datetime) -> bool:
    """Whether an earlier SOS of the person lies within SOS_REPEAT before ``at`` (positions in
    between do not count: a device that alternates them adds one entry, not one per SOS)."""
    points = persons_repo.track(conn, municipality, person_id, at - SOS_REPEAT, 500)
    return any(p.kind is SignalKind.SOS and p.ts < at for p in points)


def _crossed_lately(conn: Connection, municipality: str, person_id: int, at: datetime) -> bool:
    """Whether the track crossed the safe area's edge within SOS_REPEAT before ``at``: then
    this crossing is not noted (a position jumping across the edge would write an entry each
    time; the map shows it)."""
    points = persons_repo.track(conn, municipality, person_id, at - SOS_REPEAT, 500)
    flags = [p.inside for p in points if p.inside is not None and p.ts < at]
    return any(a != b for a, b in pairwise(flags))


def _follow(
    conn: Connection,
    rt: MunicipalityRuntime,
    incident_id: int,
    signal: PersonSignal,
    now: datetime,
) -> None:
    if signal.position is None:
        incidents_repo.touch(conn, incident_id, now)
        return
    cameras = nearest_cameras(signal.position, rt.cameras.values(), rt.projection)
    persons_repo.move_incident(conn, incident_id, signal.position, list(cameras), now)


def apply_signals(
    conn: Connection, rt: MunicipalityRuntime, signals: Sequence[PersonSignal], now: datetime
) -> Applied:
    """Record a batch's signals (in the batch's transaction) and open or follow episodes.
    Signals are taken in the device's time order, so a buffered batch replays its path."""
    out = Applied(known=[False] * len(signals))
    registered = persons_repo.by_device(conn, rt.id, [s.device_id for s in signals])
    order = sorted(range(len(signals)), key=lambda i: signals[i].at)
    for i in order:
        person = registered.get(signals[i].device_id)
        if person is None:
            continue
        out.known[i] = True
        _one(conn, rt, person, signals[i], now, out)
    return out


def prune(conn: Connection, rt: MunicipalityRuntime, now: datetime) -> int:
    """Positions older than the municipality's ``persons.positions_hours`` (by receipt)."""
    hours = rt.config.persons.positions_hours
    return persons_repo.prune_municipality(conn, rt.id, now - timedelta(hours=hours))
