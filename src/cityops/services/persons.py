"""The registry of vulnerable people (issue 9 item 4): register, change, remove, their photo,
every view of a person's photo or guardian contact audited, and an episode forwarded to police.

Privacy (docs/PRIVACY.md "Vulnerable people"): a person is registered with the guardian's
consent by someone holding ``persons.manage``; the photo is re-encoded on upload (which drops
its metadata: a phone's GPS position, the camera's serial) and kept under
``<data_dir>/persons/<municipality>/``, served only to ``persons.view`` holders, each view
audited ``person.viewed``; removing the person removes the photo and the whole track.
Positions (services/person_signals.py) are kept ``persons.positions_hours``."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import Connection

from cityops.domain.audit import AuditAction
from cityops.domain.persons import Person, PersonError
from cityops.services import audit, shares
from cityops.services.person_signals import dedup_key
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import incidents_repo, persons_repo

PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
MAX_PIXELS = 4096 * 4096
PHOTO_EDGE = 1024
"""A stored photo's longer edge at most (enough to recognise a face on a console)."""


class NotFoundError(Exception):
    pass


def photo_dir(data_dir: Path, municipality: str) -> Path:
    return data_dir / "persons" / municipality


def register(
    conn: Connection, rt: MunicipalityRuntime, person: Person, *, actor: str, now: datetime
) -> Person:
    """Store a new person (PersonError when the record is not valid or the device is taken)."""
    person = replace(person, municipality=rt.id, id=None, photo=None).check()
    if persons_repo.device_taken(conn, rt.id, person.device_id, None):
        raise PersonError(f"device {person.device_id!r} is already registered")
    person_id = persons_repo.insert(conn, person, actor, now)
    _audit(conn, rt.id, actor, person_id, "create", now)
    return replace(person, id=person_id, created_at=now)


def change(
    conn: Connection, rt: MunicipalityRuntime, person: Person, *, actor: str, now: datetime
) -> Person:
    person_id = person.id
    assert person_id is not None
    current = get(conn, rt.id, person_id)
    person = replace(person, municipality=rt.id, photo=current.photo).check()
    if persons_repo.device_taken(conn, rt.id, person.device_id, person_id):
        raise PersonError(f"device {person.device_id!r} is already registered")
    persons_repo.change(conn, person, now)
    _audit(conn, rt.id, actor, person_id, "change", now)
    return replace(person, created_at=current.created_at)


def remove(
    conn: Connection,
    rt: MunicipalityRuntime,
    person_id: int,
    *,
    actor: str,
    now: datetime,
    data_dir: Path,
) -> None:
    """The person, the track and the photo (the file goes once the transaction is written:
    call inside ``db.begin()``; a failed commit leaves an orphan file, never a dangling row)."""
    person = get(conn, rt.id, person_id)
    persons_repo.remove(conn, rt.id, person_id)
    _audit(conn, rt.id, actor, person_id, "remove", now)
    if person.photo:
        (photo_dir(data_dir, rt.id) / person.photo).unlink(missing_ok=True)


def get(conn: Connection, municipality: str, person_id: int) -> Person:
    person = persons_repo.get(conn, municipality, person_id)
    if person is None:
        raise NotFoundError(f"no person {person_id} in {municipality}")
    return person


def clean_photo(data: bytes, max_bytes: int) -> bytes:
    """The photo as the JPEG CityOps keeps: PersonError unless ``data`` is a JPEG or PNG
    within ``max_bytes`` and MAX_PIXELS; re-encoded (metadata dropped), at most PHOTO_EDGE."""
    if len(data) > max_bytes:
        raise PersonError(f"the photo is {len(data)} bytes (at most {max_bytes})")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise PersonError("the photo must be a JPEG or PNG image")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise PersonError("the photo cannot be read as an image")
    height, width = image.shape[:2]
    if height * width > MAX_PIXELS:
        raise PersonError(f"the photo is {width}x{height} pixels (too large)")
    scale = PHOTO_EDGE / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise PersonError("the photo could not be stored")
    return bytes(encoded.tobytes())


def set_photo(
    conn: Connection,
    rt: MunicipalityRuntime,
    person_id: int,
    data: bytes,
    *,
    actor: str,
    now: datetime,
    data_dir: Path,
) -> Person:
    """Replace the person's photo (the old file is removed)."""
    person = get(conn, rt.id, person_id)
    jpeg = clean_photo(data, rt.config.persons.photo_max_bytes)
    folder = photo_dir(data_dir, rt.id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{person_id}-{secrets.token_hex(8)}.jpg"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(jpeg)
    tmp.replace(folder / name)
    persons_repo.set_photo(conn, rt.id, person_id, name)
    _audit(conn, rt.id, actor, person_id, "photo", now)
    if person.photo:
        (folder / person.photo).unlink(missing_ok=True)
    return replace(person, photo=name)


def viewed(
    conn: Connection,
    municipality: str,
    person: Person,
    *,
    actor: str,
    what: str,
    now: datetime,
    incident_id: int | None = None,
) -> None:
    """Audit one view of a person's record (``what``: details, photo)."""
    detail: dict[str, object] = {"what": what}
    if incident_id is not None:
        detail["incident"] = incident_id
    audit.record(
        conn,
        actor=actor,
        action=AuditAction.PERSON_VIEWED,
        municipality=municipality,
        target=f"person:{person.id}",
        detail=detail,
        at=now,
    )


def open_episode(conn: Connection, person: Person) -> int | None:
    """The person's open episode's incident, if any."""
    assert person.id is not None
    return incidents_repo.find_open_by_dedup(conn, person.municipality, dedup_key(person.id))


def person_of_incident(conn: Connection, municipality: str, incident_id: int) -> Person:
    """The person whose episode the incident is (NotFoundError otherwise)."""
    record = incidents_repo.get_incident(conn, municipality, incident_id, with_timeline=False)
    key = record.incident.dedup_key if record else None
    if record is None or key is None or not key.startswith("sos|"):
        raise NotFoundError(f"incident {incident_id} is not a person's episode")
    person_id = int(key.split("|", 1)[1])
    person = persons_repo.get(conn, municipality, person_id)
    if person is None or dedup_key(person_id) != key:
        raise NotFoundError(f"the person of incident {incident_id} is no longer registered")
    return person


def forward(
    conn: Connection,
    rt: MunicipalityRuntime,
    incident_id: int,
    *,
    actor: str,
    now: datetime,
    public_url: str,
    agency: str | None = None,
    purpose: str | None = None,
    minutes: float | None = None,
) -> shares.NewShare:
    """Forward a person's episode to police: a share of the incident's cameras (origin
    ``sos``), to the configured ``persons.police`` unless the operator names another agency.
    Raises shares.ShareError (-> 422) when no agency or purpose is known or allowed."""
    person_of_incident(conn, rt.id, incident_id)
    policy = rt.config.persons
    to = agency or policy.police
    why = purpose or policy.purpose
    if to is None or why is None:
        raise shares.ShareError("name the agency and purpose (persons.police/purpose unset)")
    return shares.create(
        conn,
        rt,
        agency=to,
        purpose=why,
        minutes=minutes or policy.share_minutes,
        actor=actor,
        now=now,
        public_url=public_url,
        incident_id=incident_id,
        origin=shares.ShareOrigin.SOS,
    )


def _audit(
    conn: Connection, municipality: str, actor: str, person_id: int, op: str, now: datetime
) -> None:
    audit.record(
        conn,
        actor=actor,
        action=AuditAction.PERSON_CHANGED,
        municipality=municipality,
        target=f"person:{person_id}",
        detail={"op": op},
        at=now,
    )
