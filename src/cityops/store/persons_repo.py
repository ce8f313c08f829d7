"""Vulnerable people and their tracks (tables_persons.py); every query names its municipality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, select, update

from cityops.domain.entities import LonLat
from cityops.domain.persons import Person, PersonKind, PersonSignal, SignalKind
from cityops.store import tables as t
from cityops.store.tables_persons import person_positions, persons


@dataclass(frozen=True, slots=True)
class TrackPoint:
    kind: SignalKind
    ts: datetime
    position: LonLat | None
    accuracy_m: float | None
    battery: float | None
    inside: bool | None


def _person(row: RowMapping) -> Person:
    return Person(
        id=row["id"],
        municipality=row["municipality"],
        kind=PersonKind(row["kind"]),
        name=row["name"],
        guardian_name=row["guardian_name"],
        guardian_phone=row["guardian_phone"],
        device_id=row["device_id"],
        safe_area=tuple(LonLat(float(lon), float(lat)) for lon, lat in row["safe_area"]),
        notes=row["notes"],
        photo=row["photo"],
        created_at=row["created_at"],
    )


def _values(person: Person) -> dict[str, Any]:
    return {
        "kind": person.kind.value,
        "name": person.name,
        "guardian_name": person.guardian_name,
        "guardian_phone": person.guardian_phone,
        "device_id": person.device_id,
        "safe_area": [[p.lon, p.lat] for p in person.safe_area],
        "notes": person.notes,
    }


def device_taken(conn: Connection, municipality: str, device_id: str, but: int | None) -> bool:
    c = persons.c
    q = select(c.id).where(c.municipality == municipality, c.device_id == device_id)
    found = conn.execute(q).scalar()
    return found is not None and found != but


def insert(conn: Connection, person: Person, actor: str, now: datetime) -> int:
    result = conn.execute(
        persons.insert().values(
            municipality=person.municipality,
            created_by=actor,
            created_at=now,
            updated_at=now,
            photo=None,
            **_values(person),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def change(conn: Connection, person: Person, now: datetime) -> None:
    assert person.id is not None
    conn.execute(
        update(persons)
        .where(persons.c.id == person.id, persons.c.municipality == person.municipality)
        .values(updated_at=now, **_values(person))
    )


def set_photo(conn: Connection, municipality: str, person_id: int, photo: str | None) -> None:
    conn.execute(
        update(persons)
        .where(persons.c.id == person_id, persons.c.municipality == municipality)
        .values(photo=photo)
    )


def get(conn: Connection, municipality: str, person_id: int) -> Person | None:
    c = persons.c
    row = (
        conn.execute(select(persons).where(c.municipality == municipality, c.id == person_id))
        .mappings()
        .first()
    )
    return _person(row) if row else None


def by_device(conn: Connection, municipality: str, device_ids: Sequence[str]) -> dict[str, Person]:
    c = persons.c
    q = select(persons).where(c.municipality == municipality, c.device_id.in_(set(device_ids)))
    return {p.device_id: p for p in map(_person, conn.execute(q).mappings())}


def list_persons(conn: Connection, municipality: str) -> list[Person]:
    q = select(persons).where(persons.c.municipality == municipality).order_by(persons.c.id)
    return [_person(r) for r in conn.execute(q).mappings()]


def remove(conn: Connection, municipality: str, person_id: int) -> None:
    """The person and the whole track."""
    conn.execute(
        delete(person_positions).where(
            person_positions.c.municipality == municipality,
            person_positions.c.person_id == person_id,
        )
    )
    conn.execute(
        delete(persons).where(persons.c.municipality == municipality, persons.c.id == person_id)
    )


def add_point(
    conn: Connection, person_id: int, signal: PersonSignal, inside: bool | None, now: datetime
) -> None:
    p = signal.position
    conn.execute(
        person_positions.insert().values(
            municipality=signal.municipality,
            person_id=person_id,
            kind=signal.kind.value,
            ts=signal.at,
            lon=p.lon if p else None,
            lat=p.lat if p else None,
            accuracy_m=signal.accuracy_m,
            battery=signal.battery,
            inside=inside,
            received_at=now,
        )
    )


def has_point(conn: Connection, person_id: int, signal: PersonSignal) -> bool:
    """Whether this signal (person, device time, kind) is already stored: a redelivered MQTT
    message or a retried HTTP post changes nothing."""
    c = person_positions.c
    q = select(c.id).where(
        c.municipality == signal.municipality,
        c.person_id == person_id,
        c.ts == signal.at,
        c.kind == signal.kind.value,
    )
    return conn.execute(q.limit(1)).first() is not None


def _point(row: RowMapping) -> TrackPoint:
    lon, lat = row["lon"], row["lat"]
    return TrackPoint(
        kind=SignalKind(row["kind"]),
        ts=row["ts"],
        position=LonLat(lon, lat) if lon is not None and lat is not None else None,
        accuracy_m=row["accuracy_m"],
        battery=row["battery"],
        inside=row["inside"],
    )


def last_point(conn: Connection, municipality: str, person_id: int) -> TrackPoint | None:
    """The newest point by the device's time (a buffered older fix does not count as newer)."""
    c = person_positions.c
    q = (
        select(person_positions)
        .where(c.municipality == municipality, c.person_id == person_id)
        .order_by(c.ts.desc(), c.id.desc())
        .limit(1)
    )
    row = conn.execute(q).mappings().first()
    return _point(row) if row else None


def track(
    conn: Connection, municipality: str, person_id: int, since: datetime, limit: int = 2000
) -> list[TrackPoint]:
    """The points since ``since``, oldest first (the newest ``limit`` of them)."""
    c = person_positions.c
    q = (
        select(person_positions)
        .where(c.municipality == municipality, c.person_id == person_id, c.ts >= since)
        .order_by(c.ts.desc(), c.id.desc())
        .limit(limit)
    )
    return [_point(r) for r in reversed(list(conn.execute(q).mappings()))]


def prune_municipality(conn: Connection, municipality: str, older_than: datetime) -> int:
    """Remove the municipality's points received before ``older_than``; how many."""
    c = person_positions.c
    gone = conn.execute(
        delete(person_positions).where(c.municipality == municipality, c.received_at < older_than)
    )
    return int(gone.rowcount or 0)


def count_points(conn: Connection, municipality: str) -> int:
    c = person_positions.c
    q = select(func.count()).select_from(person_positions).where(c.municipality == municipality)
    return int(conn.execute(q).scalar() or 0)


def move_incident(
    conn: Connection,
    incident_id: int,
    place: LonLat,
    cameras: list[dict[str, Any]],
    now: datetime,
) -> None:
    """An episode's incident follows the person: its place and nearest cameras, not its
    timeline (a position is not an event of the incident)."""
    conn.execute(
        update(t.incidents)
        .where(t.incidents.c.id == incident_id)
        .values(lon=place.lon, lat=place.lat, cameras=cameras, updated_at=now)
    )
