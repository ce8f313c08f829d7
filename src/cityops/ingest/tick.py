"""The ingest pipeline's time-driven side (ingest/pipeline.py): silence rules and sensors going
stale judged on its tick, and what a batch or a tick changed told to the live feed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, Engine

from cityops.ingest.metrics import IngestMetrics
from cityops.services.incidents import IncidentChange, apply_trigger
from cityops.services.live import LiveBus, LiveKind, LiveMessage, SensorPayload
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.views import load_summary
from cityops.store import observations_repo as obs
from cityops.store import sensors_repo
from cityops.store.observations_repo import SensorLatest

Touched = dict[tuple[str, str], SensorLatest | None]
"""Sensors whose state a tick changed, with their newest reading (None: none known)."""


def tick_rules(
    conn: Connection,
    runtimes: Mapping[str, MunicipalityRuntime],
    latest: dict[tuple[str, str], SensorLatest],
    now: datetime,
) -> tuple[list[IncidentChange], Touched]:
    """Inside the tick's transaction: each engine's time-driven triggers applied and its rule
    state saved; ``latest`` (each sensor's newest committed reading) is completed from the
    database after a start or a rebuild."""
    changes: list[IncidentChange] = []
    touched: Touched = {}
    for rt in runtimes.values():
        if not rt.engine.staleness.restored:  # after a start or a rebuild
            stored = sensors_repo.latest_readings(conn, rt.id)
            rt.engine.staleness.restore({x.sensor_id: x.received_at for x in stored})
            for x in stored:
                latest.setdefault((rt.id, x.sensor_id), x)
        for trig in rt.engine.tick(now):
            change = apply_trigger(conn, rt, trig, now)
            if change is not None:
                changes.append(change)
            key = (rt.id, trig.subject)
            if key in latest:  # its state changed (offline): tell consoles
                touched[key] = latest[key]
        for sensor_id in rt.engine.stale_sensors(now):
            touched[(rt.id, sensor_id)] = latest.get((rt.id, sensor_id))
        obs.save_rule_state(conn, rt.id, rt.engine.take_dirty_state(), now)
    return changes, touched


def publish(
    db: Engine,
    live: LiveBus,
    metrics: IngestMetrics,
    runtimes: Mapping[str, MunicipalityRuntime],
    changes: Iterable[IncidentChange],
    latest: Mapping[tuple[str, str], SensorLatest | None],
) -> None:
    """Tell the live feed of changed incidents (as stored now), then of sensors' values."""
    changed = {(c.municipality, c.incident_id): c for c in changes}
    if changed:  # incidents first: they are what an operator waits for
        metrics.incidents_created += sum(1 for c in changed.values() if c.created)
        with db.connect() as conn:
            found = [(m, load_summary(conn, m, i)) for m, i in changed]
        live.publish_many([LiveMessage(m, LiveKind.INCIDENT, s) for m, s in found if s is not None])
    # built without pydantic's validation: every field is the pipeline's own, already typed
    # (a float, an aware datetime, a SensorState), and there is one per sensor of every batch
    sensor = SensorPayload.model_construct
    live.publish_many(
        [
            LiveMessage(
                muni,
                LiveKind.SENSOR,
                sensor(
                    id=sensor_id,
                    value=None if x is None else x.value,
                    ts=None if x is None else x.ts,
                    state=runtimes[muni].engine.sensor_state(sensor_id),
                ),
            )
            for (muni, sensor_id), x in latest.items()
        ]
    )
