"""Incident use cases: rule triggers open or join incidents; operators move them along."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from cityops.domain.incident import (
    Incident,
    IncidentError,
    Status,
    TimelineEntry,
    TimelineKind,
)
from cityops.domain.rules import Trigger, TriggerKind
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import incidents_repo as repo
from cityops.store.incidents_repo import IncidentRecord


class NotFoundError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class IncidentChange:
    municipality: str
    incident_id: int
    created: bool


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _titles(rt: MunicipalityRuntime, trig: Trigger) -> tuple[str, str | None]:
    """The incident's title from the rule's template, and in the local language when the rule
    has one (``{name}`` then takes the sensor's or camera's local name)."""
    subject = trig.subject.split(":")[0]
    thing = rt.sensors.get(subject) or rt.cameras.get(subject)
    name = thing.name if thing else trig.subject
    value = "" if trig.value is None else f"{trig.value:g}"
    title = trig.outcome.title.format_map(_Blank(subject=trig.subject, name=name, value=value))
    local = None
    if trig.outcome.title_local:
        local_name = (thing.name_local if thing else None) or name
        local = trig.outcome.title_local.format_map(
            _Blank(subject=trig.subject, name=local_name, value=value)
        )[:500]
    return title[:500], local


def apply_trigger(
    conn: Connection, rt: MunicipalityRuntime, trig: Trigger, now: datetime
) -> IncidentChange | None:
    """Open an incident for a raised trigger, or add the trigger to the open one for its place."""
    existing = repo.find_open_by_dedup(conn, trig.municipality, trig.dedup_key)
    kind = TimelineKind.TRIGGER if trig.kind is TriggerKind.RAISED else TimelineKind.CLEARED
    entry = TimelineEntry(
        at=now,
        kind=kind,
        actor=f"rule:{trig.rule_id}",
        text=trig.text,
        data={"observed_at": trig.at.isoformat()}
        | ({"value": f"{trig.value:g}"} if trig.value is not None else {}),
    )
    if existing is not None:
        record = repo.get_incident(conn, trig.municipality, existing, with_timeline=False)
        assert record is not None
        repo.add_timeline(conn, record.incident, entry)
        repo.link_events(conn, trig.municipality, existing, trig.event_ids)
        repo.touch(conn, existing, now)
        return IncidentChange(trig.municipality, existing, created=False)
    if trig.kind is TriggerKind.CLEARED:
        return None  # nothing open for this place any more: the operators closed it already
    o = trig.outcome
    title, title_local = _titles(rt, trig)
    incident = Incident(
        municipality=trig.municipality,
        type=o.incident_type,
        sector=o.sector,
        severity=o.severity,
        title=title,
        title_local=title_local,
        created_at=now,
        updated_at=now,
        location=trig.location,
        rule_id=trig.rule_id,
        dedup_key=trig.dedup_key,
        proposed_agency=o.agency,
    )
    incident.add_entry(
        TimelineEntry(
            at=now,
            kind=TimelineKind.CREATED,
            actor=f"rule:{trig.rule_id}",
            text=trig.text,
            data=dict(entry.data),
        )
    )
    cameras = rt.cameras_seeing(trig.location) if trig.location else []
    incident_id = repo.insert_incident(conn, incident, cameras)
    repo.link_events(conn, trig.municipality, incident_id, trig.event_ids)
    return IncidentChange(trig.municipality, incident_id, created=True)


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DISPATCH = "dispatch"
    ON_SCENE = "on-scene"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"


ACTION_TARGET = {
    Action.ACKNOWLEDGE: Status.ACKNOWLEDGED,
    Action.DISPATCH: Status.DISPATCHED,
    Action.ON_SCENE: Status.ON_SCENE,
    Action.RESOLVE: Status.RESOLVED,
    Action.CLOSE: Status.CLOSED,
    Action.REOPEN: Status.ACKNOWLEDGED,
    Action.CANCEL: Status.CANCELLED,
}


def _load(conn: Connection, municipality: str, incident_id: int) -> IncidentRecord:
    record = repo.get_incident(conn, municipality, incident_id)
    if record is None:
        raise NotFoundError(f"incident {incident_id} not found in {municipality}")
    return record


# The operators' actions share one signature (connection, municipality, incident, who, when,
# then what the action needs), so the API calls them all the same way.


def act(
    conn: Connection,
    rt: MunicipalityRuntime,
    *,
    incident_id: int,
    actor: str,
    now: datetime,
    action: Action,
    note: str | None = None,
) -> Incident:
    """Move an incident along its lifecycle; raises IncidentError when the move is not allowed."""
    incident = _load(conn, rt.id, incident_id).incident
    if action is Action.REOPEN and incident.status is not Status.RESOLVED:
        raise IncidentError(f"only a resolved incident can be reopened (it is {incident.status})")
    if action is Action.ACKNOWLEDGE and incident.status is Status.RESOLVED:
        raise IncidentError("a resolved incident is reopened, not acknowledged")
    entry = incident.transition(ACTION_TARGET[action], actor=actor, at=now, reason=note)
    repo.save_incident(conn, incident, [entry])
    return incident


def assign(
    conn: Connection,
    rt: MunicipalityRuntime,
    *,
    incident_id: int,
    actor: str,
    now: datetime,
    agency: str,
    note: str | None = None,
) -> Incident:
    if agency not in {a.id for a in rt.config.agencies}:
        raise IncidentError(f"unknown agency {agency!r}")
    incident = _load(conn, rt.id, incident_id).incident
    entry = incident.assign(agency, actor=actor, at=now, note=note)
    repo.save_incident(conn, incident, [entry])
    return incident


def add_note(
    conn: Connection,
    rt: MunicipalityRuntime,
    *,
    incident_id: int,
    actor: str,
    now: datetime,
    text: str,
) -> Incident:
    if not text.strip():
        raise IncidentError("a note needs text")
    incident = _load(conn, rt.id, incident_id).incident
    entry = incident.add_entry(
        TimelineEntry(at=now, kind=TimelineKind.NOTE, actor=actor, text=text.strip()[:4000])
    )
    repo.save_incident(conn, incident, [entry])
    return incident


def tick_sop_step(
    conn: Connection,
    rt: MunicipalityRuntime,
    *,
    incident_id: int,
    actor: str,
    now: datetime,
    step_id: str,
    done: bool,
) -> Incident:
    incident = _load(conn, rt.id, incident_id).incident
    sop = rt.config.sop_for(incident.type)
    step = next((s for s in sop.steps if s.id == step_id), None) if sop else None
    if step is None:
        raise NotFoundError(f"no step {step_id!r} in the procedure for {incident.type}")
    repo.set_sop_tick(conn, rt.id, incident_id, step_id, done=done, actor=actor, at=now)
    entry = incident.add_entry(
        TimelineEntry(
            at=now,
            kind=TimelineKind.SOP_STEP,
            actor=actor,
            text=("done: " if done else "undone: ") + step.text,
            data={"step": step_id, "done": "true" if done else "false"},
        )
    )
    repo.save_incident(conn, incident, [entry])
    return incident
