"""Incident use cases: rule triggers open or join incidents; operators move them along."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from cityops.domain.incident import (
    Incident,
    IncidentAction,
    IncidentError,
    Status,
    TimelineEntry,
    TimelineKind,
)
from cityops.domain.rules import Trigger, TriggerKind
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.share_auto import auto_share
from cityops.store import dispatch_repo, handovers_repo
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
    auto_share(conn, rt, incident_id, o.incident_type, trig.location, now)  # sharing.auto
    return IncidentChange(trig.municipality, incident_id, created=True)


def _load(conn: Connection, municipality: str, incident_id: int) -> IncidentRecord:
    record = repo.get_incident(conn, municipality, incident_id)
    if record is None:
        raise NotFoundError(f"incident {incident_id} not found in {municipality}")
    return record


@dataclass(frozen=True, slots=True)
class OperatorContext:
    """Who acts on which incident, when, inside which transaction: what every operator action
    below shares. Each action asks the domain whether it is allowed now (Incident.require), so
    the service and the ``actions`` list sent to consoles never disagree."""

    conn: Connection
    rt: MunicipalityRuntime
    incident_id: int
    actor: str
    now: datetime

    def load(self) -> Incident:
        return _load(self.conn, self.rt.id, self.incident_id).incident

    def save(self, incident: Incident, entry: TimelineEntry) -> Incident:
        repo.save_incident(self.conn, incident, [entry])
        return incident


def act(ctx: OperatorContext, *, action: IncidentAction, note: str | None = None) -> Incident:
    """Move an incident along its lifecycle; raises IncidentError when the move is not allowed
    now (domain.incident.allowed_actions)."""
    incident = ctx.load()
    saved = ctx.save(incident, incident.move(action, actor=ctx.actor, at=ctx.now, note=note))
    if action is IncidentAction.DISPATCH and saved.assigned_agency:
        # the agency's channels receive it: outbox rows in this transaction (docs/DISPATCH.md)
        dispatch_repo.enqueue_dispatch(
            ctx.conn, ctx.rt.config, saved, saved.assigned_agency, ctx.now
        )
    return saved


def assign(ctx: OperatorContext, *, agency: str, note: str | None = None) -> Incident:
    if agency not in {a.id for a in ctx.rt.config.agencies}:
        raise IncidentError(f"unknown agency {agency!r}")
    incident = ctx.load()
    previous = incident.assigned_agency
    saved = ctx.save(incident, incident.assign(agency, actor=ctx.actor, at=ctx.now, note=note))
    if saved.status is Status.DISPATCHED and agency != previous:
        # re-assigned while dispatched: the new agency is dispatched to (docs/DISPATCH.md)
        dispatch_repo.enqueue_dispatch(ctx.conn, ctx.rt.config, saved, agency, ctx.now)
    return saved


def add_note(ctx: OperatorContext, *, text: str) -> Incident:
    if not text.strip():
        raise IncidentError("a note needs text")
    incident = ctx.load()
    incident.require(IncidentAction.NOTE)
    note = TimelineEntry(
        at=ctx.now, kind=TimelineKind.NOTE, actor=ctx.actor, text=text.strip()[:4000]
    )
    return ctx.save(incident, incident.add_entry(note))


def tick_sop_step(ctx: OperatorContext, *, step_id: str, done: bool) -> Incident:
    incident = ctx.load()
    incident.require(IncidentAction.SOP)
    sop = ctx.rt.config.sop_for(incident.type)
    step = next((s for s in sop.steps if s.id == step_id), None) if sop else None
    if step is None:
        raise NotFoundError(f"no step {step_id!r} in the procedure for {incident.type}")
    repo.set_sop_tick(
        ctx.conn, ctx.rt.id, ctx.incident_id, step_id, done=done, actor=ctx.actor, at=ctx.now
    )
    entry = TimelineEntry(
        at=ctx.now,
        kind=TimelineKind.SOP_STEP,
        actor=ctx.actor,
        text=("done: " if done else "undone: ") + step.text,
        data={"step": step_id, "done": "true" if done else "false"},
    )
    return ctx.save(incident, incident.add_entry(entry))


def hand_over(ctx: OperatorContext, *, to: str, reason: str) -> Incident:
    """Hand the incident over to the neighbouring municipality ``to``: from now on it sees the
    incident (list, detail, live feed, notes); the entry is in the one timeline both see."""
    if to == ctx.rt.id:
        raise IncidentError("an incident is handed over to another municipality")
    if not reason.strip():
        raise IncidentError("a hand-over needs a reason")
    incident = ctx.load()
    incident.require(IncidentAction.NOTE)  # not once it is closed or cancelled
    if to in handovers_repo.handed_to(ctx.conn, ctx.incident_id):
        raise IncidentError(f"already handed over to {to}")
    handovers_repo.insert_handover(
        ctx.conn,
        handovers_repo.Handover(
            incident_id=ctx.incident_id,
            from_municipality=ctx.rt.id,
            to_municipality=to,
            reason=reason.strip()[:4000],
            actor=ctx.actor,
            at=ctx.now,
        ),
    )
    entry = TimelineEntry(
        at=ctx.now,
        kind=TimelineKind.HANDOVER,
        actor=ctx.actor,
        text=reason.strip()[:4000],
        data={"from": ctx.rt.id, "to": to},
    )
    return ctx.save(incident, incident.add_entry(entry))
