"""The audit log's records, their canonical form and hash chain, and the chain's verification.

Each municipality has its own chain (installation-wide records, such as a login before a
municipality is chosen, go to the chain ``""``). A record's hash is the SHA-256 of its canonical
form: compact JSON with sorted keys, UTF-8, times as UTC ISO 8601 with microseconds, and the
previous record's hash inside it. The same bytes come out on SQLite and PostgreSQL because the
record is normalised (:func:`normalise_detail`, :func:`clean_text`) before it is hashed and stored.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of a chain's first record."""

INSTALLATION_CHAIN = ""
"""The chain of records that belong to no municipality."""

ACTOR_MAX = 200
TARGET_MAX = 300
MUNICIPALITY_MAX = 64
REASON_MAX = 2000
ACTION_MAX = 64


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    USER_CHANGED = "user.changed"
    ROLE_CHANGED = "role.changed"
    VIDEO_LIVE = "video.live"
    VIDEO_SNAPSHOT = "video.snapshot"
    VIDEO_CLIP = "video.clip"
    VIDEO_UNMASKED = "video.unmasked"
    EXPORT = "export"
    CONFIG_CHANGED = "config.changed"
    INCIDENT_ACTION = "incident.action"
    INCIDENT_HANDOVER = "incident.handover"
    DEVICE_CREDENTIAL = "device.credential"
    PRIVACY_FIND = "privacy.find"
    PRIVACY_ERASE = "privacy.erase"
    RETENTION_RUN = "retention.run"
    SHARE_CREATED = "share.created"
    SHARE_CHANGED = "share.changed"  # extended or revoked (detail: op)
    SHARE_OPENED = "share.opened"  # a recipient opened a share (its video views: video.*)
    AGENCY_REQUEST = "agency.request"  # an agency system's location request
    PERSON_CHANGED = "person.changed"  # a vulnerable person registered, changed or removed
    PERSON_VIEWED = "person.viewed"  # a person's photo or guardian contact shown
    WARNING_SENT = "warning.sent"  # a CAP message sent to a configured endpoint


@dataclass(frozen=True)
class AuditRecord:
    """One link of a chain, as stored."""

    chain: str
    seq: int
    at: datetime
    actor: str
    action: str
    municipality: str | None
    target: str | None
    reason: str | None
    detail: Mapping[str, object]
    prev_hash: str
    hash: str = ""


@dataclass(frozen=True)
class Anchor:
    """A chain's head as it was at ``at``: an independent witness of its length and content."""

    chain: str
    seq: int
    hash: str
    at: datetime


@dataclass(frozen=True)
class ChainBase:
    """Where a chain starts: after the last record removed by retention (seq 0 when none was)."""

    seq: int = 0
    hash: str = GENESIS_HASH


ProblemKind = Literal[
    "altered", "moved", "inserted", "deleted", "link", "truncated", "anchor", "head"
]


@dataclass(frozen=True)
class Problem:
    chain: str
    seq: int
    kind: ProblemKind
    expected: str
    found: str

    def describe(self) -> str:
        name = self.chain or "(installation)"
        return f"{name} seq {self.seq}: {self.kind}: expected {self.expected}, found {self.found}"


@dataclass(frozen=True)
class ChainReport:
    chain: str
    records: int
    first_seq: int | None
    last_seq: int | None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def utc_text(at: datetime) -> str:
    """``2026-12-03T10:00:00.000000Z``: always UTC, always six fraction digits."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: audit times are UTC-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clean_text(value: str, limit: int) -> str:
    """Text as both databases keep it: no NUL (PostgreSQL refuses it), at most ``limit``
    characters (a failed login's user name is whatever the client sent)."""
    cleaned = value.replace("\x00", "\ufffd")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\u2026"


def _json_ready(value: object, depth: int = 0) -> object:
    if depth > 20:
        raise ValueError("audit detail nested too deeply")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"audit detail holds a non-finite number: {value!r}")
        return value
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {
            str(k).replace("\x00", "\ufffd"): _json_ready(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_json_ready(v, depth + 1) for v in items]
    raise TypeError(f"audit detail holds a {type(value).__name__}, not JSON: {value!r}")


def normalise_detail(detail: Mapping[str, object] | None) -> dict[str, object]:
    """The detail as JSON gives it back: what is hashed is exactly what is read back."""
    ready = _json_ready(dict(detail or {}))
    loaded: dict[str, object] = json.loads(canonical_json(ready))
    return loaded


def canonical_json(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_form(record: AuditRecord) -> bytes:
    """The bytes that are hashed: every field but the hash itself, the previous hash included."""
    body = {
        "v": FORMAT_VERSION,
        "chain": record.chain,
        "seq": record.seq,
        "at": utc_text(record.at),
        "actor": record.actor,
        "action": record.action,
        "municipality": record.municipality,
        "target": record.target,
        "reason": record.reason,
        "detail": record.detail,
        "prev": record.prev_hash,
    }
    return canonical_json(body).encode("utf-8")


def record_hash(record: AuditRecord) -> str:
    return hashlib.sha256(canonical_form(record)).hexdigest()


def sealed(record: AuditRecord) -> AuditRecord:
    """The record with its hash filled in."""
    return replace(record, hash=record_hash(record))
