"""The store on SQLite and on PostgreSQL: migrations, configuration, readings, incidents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cityops.domain.entities import LonLat, Sector, Severity
from cityops.domain.incident import Incident, Status
from cityops.domain.observations import Reading
from cityops.store import catalog_repo, incidents_repo, observations_repo, tables
from cityops.store.db import current_revision
from cityops.store.incidents_repo import IncidentFilter
from tests.town import MUNI, T0, town_db


def test_migrations_reach_head_and_config_is_stored(db_url: str) -> None:
    db = town_db(db_url)
    assert current_revision(db) == "0014"
    with db.connect() as conn:
        stored = catalog_repo.latest_configs(conn)
        assert [s.municipality for s in stored] == [MUNI]
        cams = conn.execute(
            select(tables.cameras.c.id).where(tables.cameras.c.municipality == MUNI)
        ).scalars()
        assert sorted(cams) == ["cam-a", "cam-b", "cam-school"]
    db.dispose()


def test_reimport_keeps_versions_and_latest_wins(db_url: str) -> None:
    db = town_db(db_url)
    from cityops.app import import_config
    from tests.town import TOWN_YAML

    import_config(db, TOWN_YAML, actor="second")
    with db.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(tables.config_versions))
        assert versions.scalar_one() == 2
        latest = catalog_repo.latest_configs(conn)
        assert len(latest) == 1
        assert latest[0].version == 2
    db.dispose()


def test_readings_are_batched_idempotent_and_utc(db_url: str) -> None:
    db = town_db(db_url)
    rows = [Reading(MUNI, "river-1", T0 + timedelta(minutes=i), 1.0 + i / 10) for i in range(500)]
    with db.begin() as conn:
        observations_repo.insert_readings(conn, rows)
    with db.begin() as conn:  # a redelivered batch stores nothing twice
        observations_repo.insert_readings(conn, rows[:100])
    with db.connect() as conn:
        c = tables.readings.c
        assert (
            conn.execute(select(func.count()).where(c.sensor_id == "river-1")).scalar_one() == 500
        )
        first = conn.execute(select(c.ts, c.value).order_by(c.ts).limit(1)).one()
        assert first.ts == T0
        assert first.ts.tzinfo is not None
        assert first.value == 1.0
    db.dispose()


def _incident(key: str) -> Incident:
    return Incident(
        municipality=MUNI,
        type="flood",
        sector=Sector.DISASTER,
        severity=Severity.SEVERE,
        title="River high",
        created_at=T0,
        updated_at=T0,
        location=LonLat(25.39, 42.59),
        rule_id="flood-level",
        dedup_key=key,
    )


def test_one_open_incident_per_rule_and_place(db_url: str) -> None:
    db = town_db(db_url)
    with db.begin() as conn:
        first = incidents_repo.insert_incident(conn, _incident("flood-level|river-1"), [])
    with pytest.raises(IntegrityError), db.begin() as conn:
        incidents_repo.insert_incident(conn, _incident("flood-level|river-1"), [])
    with db.begin() as conn:
        found = incidents_repo.get_incident(conn, MUNI, first)
        assert found is not None
        inc = found.incident
        entries = [
            inc.transition(Status.ACKNOWLEDGED, actor="op", at=T0),
            inc.transition(Status.RESOLVED, actor="op", at=T0 + timedelta(minutes=5)),
        ]
        incidents_repo.save_incident(conn, inc, entries)
    with db.begin() as conn:  # resolved: the same place may open a new incident
        second = incidents_repo.insert_incident(conn, _incident("flood-level|river-1"), [])
        assert incidents_repo.find_open_by_dedup(conn, MUNI, "flood-level|river-1") == second
    with db.connect() as conn:
        record = incidents_repo.get_incident(conn, MUNI, first)
        assert record is not None
        assert [e.to_status for e in record.incident.timeline] == [
            Status.ACKNOWLEDGED,
            Status.RESOLVED,
        ]
        assert record.times["resolved_at"] == T0 + timedelta(minutes=5)
        listed = incidents_repo.list_incidents(conn, MUNI, IncidentFilter(statuses=[Status.NEW]))
        assert [r.incident.id for r in listed] == [second]
        assert incidents_repo.list_incidents(conn, "elsewhere", IncidentFilter()) == []
    db.dispose()


def test_rule_state_round_trip(db_url: str) -> None:
    db = town_db(db_url)
    with db.begin() as conn:
        observations_repo.save_rule_state(conn, MUNI, {"a|x": {"pending": 1.5}, "b|y": [1, 2]}, T0)
    with db.begin() as conn:
        observations_repo.save_rule_state(conn, MUNI, {"a|x": None, "b|y": [3]}, T0)
    with db.connect() as conn:
        assert observations_repo.load_rule_state(conn, MUNI) == {"b|y": [3]}
        assert observations_repo.load_rule_state(conn, "elsewhere") == {}
    db.dispose()


def test_migrations_and_table_definitions_agree(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from cityops.store.tables import metadata

    db = town_db(db_url)
    with db.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    db.dispose()
