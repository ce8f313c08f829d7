"""Event evidence: where a camera event's snapshot and clip live, and what an event says of them.

The video worker writes the files, the control center records and serves them; both name them
the same way, relative to the evidence root (``<data_dir>/evidence``)::

    <municipality>/<camera>/<YYYY-MM-DD>/<event id>.jpg | .mp4

(the day is the event's UTC date). An event published by the worker carries the references in its
attributes (``ATTR_*``). They come from outside (MQTT), so the control center never opens a path
it was sent: it accepts a reference only when it equals the path it computes itself for that
event's municipality, camera and day (``expected_path``), which no ``..`` or other municipality
can pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import PurePosixPath

ATTR_SNAPSHOT = "snapshot"
ATTR_CLIP = "clip"
ATTR_CLIP_START = "clip_start"
ATTR_CLIP_END = "clip_end"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")


class EvidenceKind(StrEnum):
    SNAPSHOT = "snapshot"
    CLIP = "clip"


SUFFIX = {EvidenceKind.SNAPSHOT: ".jpg", EvidenceKind.CLIP: ".mp4"}


def safe_name(name: str) -> bool:
    """A path segment that is one plain name (no separator, no leading dot, no ``..``)."""
    return bool(_NAME.fullmatch(name)) and ".." not in name


def evidence_path(
    municipality: str, camera: str, ts: datetime, name: str, kind: EvidenceKind
) -> str:
    """The relative path (POSIX) of an event's snapshot or clip; ``name`` is the event id (a
    clip shared by several events is named after the first). Raises ValueError on an unsafe
    segment."""
    for segment in (municipality, camera, name):
        if not safe_name(segment):
            raise ValueError(f"unsafe evidence path segment {segment!r}")
    day = ts.astimezone(UTC).strftime("%Y-%m-%d")
    return str(PurePosixPath(municipality, camera, day, name + SUFFIX[kind]))


def accepted_reference(
    ref: str | None, municipality: str, camera: str, ts: datetime, kind: EvidenceKind
) -> str | None:
    """``ref`` when it is a path this event's evidence may have (its municipality, its camera,
    its UTC day or the day before: a clip started before midnight), else None."""
    if not ref:
        return None
    path = PurePosixPath(ref)
    parts = path.parts
    if len(parts) != 4 or parts[0] != municipality or parts[1] != camera:
        return None
    if path.suffix != SUFFIX[kind] or not safe_name(path.name):
        return None
    day = ts.astimezone(UTC).date()
    try:
        ref_day = datetime.strptime(parts[2], "%Y-%m-%d").date()
    except ValueError:
        return None
    if (day - ref_day).days not in (0, 1):
        return None
    return ref


@dataclass(frozen=True, slots=True)
class EvidenceRefs:
    """What an event says of its evidence (parsed from its attributes)."""

    snapshot: str | None
    clip: str | None
    clip_start: datetime | None
    clip_end: datetime | None

    @property
    def empty(self) -> bool:
        return self.snapshot is None and self.clip is None


def _time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def refs_of(
    attributes: dict[str, str] | None, municipality: str, camera: str, ts: datetime
) -> EvidenceRefs:
    """The evidence an event's attributes reference, each reference checked
    (``accepted_reference``); a clip without a sane window (start <= ts <= end, at most an
    hour) is not accepted."""
    a = attributes or {}
    snapshot = accepted_reference(
        a.get(ATTR_SNAPSHOT), municipality, camera, ts, EvidenceKind.SNAPSHOT
    )
    clip = accepted_reference(a.get(ATTR_CLIP), municipality, camera, ts, EvidenceKind.CLIP)
    start, end = _time(a.get(ATTR_CLIP_START)), _time(a.get(ATTR_CLIP_END))
    sane = (
        start is not None
        and end is not None
        and start <= ts <= end
        and (end - start).total_seconds() <= 3600
    )
    if clip is None or not sane:
        return EvidenceRefs(snapshot, None, None, None)
    return EvidenceRefs(snapshot, clip, start, end)


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """A camera event's evidence as the control center recorded it (paths relative to the
    evidence root)."""

    municipality: str
    event_id: str
    camera_id: str
    kind: str
    ts: datetime
    snapshot: str | None
    clip: str | None
    clip_start: datetime | None
    clip_end: datetime | None
    recorded_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        """(municipality, event id): what ``services.evidence.delete`` takes."""
        return (self.municipality, self.event_id)
