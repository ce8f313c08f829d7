"""CityOps's own CAP messages: kept as files (one per message, never overwritten) and listed in
an Atom feed, newest first, each entry linking to its CAP message (the form MeteoAlarm and the
WMO alert hubs read)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cityops import safexml
from cityops.cap.check import check
from cityops.cap.model import Alert

ATOM_NS = "http://www.w3.org/2005/Atom"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


@dataclass(frozen=True)
class Published:
    identifier: str
    msg_type: str
    headline: str
    sent: datetime
    url: str  # where the CAP message itself is served

    @classmethod
    def of(cls, alert: Alert, url: str) -> Published:
        info = alert.infos[0] if alert.infos else None
        headline = (info.headline or info.event) if info else alert.identifier
        return cls(alert.identifier, alert.msg_type, headline, alert.sent, url)


def atom_feed(*, feed_id: str, title: str, updated: datetime, items: Sequence[Published]) -> bytes:
    a = f"{{{ATOM_NS}}}"
    root = safexml.Element(f"{a}feed")
    for name, text in (("id", feed_id), ("title", title), ("updated", updated.isoformat())):
        safexml.SubElement(root, a + name).text = text
    for item in sorted(items, key=lambda p: p.sent, reverse=True):
        entry = safexml.SubElement(root, f"{a}entry")
        safexml.SubElement(entry, f"{a}id").text = item.url
        safexml.SubElement(entry, f"{a}title").text = f"{item.msg_type}: {item.headline}"
        safexml.SubElement(entry, f"{a}updated").text = item.sent.isoformat()
        safexml.SubElement(entry, f"{a}link", {"href": item.url, "type": "application/cap+xml"})
    return safexml.to_bytes(root)


_READ: dict[Path, Alert | None] = {}
_READ_MAX = 20_000


_READ_LOCK = threading.Lock()


def _read(path: Path) -> Alert | None:
    """A kept message, read and checked once per process: a published file never changes."""
    with _READ_LOCK:
        if path in _READ:
            return _READ[path]
    alert = check(path.read_bytes()).alert
    with _READ_LOCK:
        while len(_READ) >= _READ_MAX:
            del _READ[next(iter(_READ))]
        _READ[path] = alert
    return alert


def in_force(alerts: Sequence[Alert], now: datetime) -> list[Alert]:
    """Of CityOps's messages, those in force: not a Cancel, not referenced by a later message
    (updated or cancelled), not expired."""
    replaced = {(r.sender, r.identifier) for a in alerts for r in a.references}
    return [
        a
        for a in alerts
        if a.msg_type != "Cancel"
        and a.key not in replaced
        and ((ends := a.expires()) is None or ends > now)
    ]


class CapArchive:
    """``<root>/<municipality>/<identifier>.xml``: what was published stays as published."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, municipality: str, identifier: str) -> Path:
        if not (_NAME.fullmatch(municipality) and _NAME.fullmatch(identifier)):
            raise ValueError("not a municipality id or CAP identifier CityOps writes")
        return self.root / municipality / f"{identifier}.xml"

    def put(self, municipality: str, identifier: str, data: bytes) -> None:
        """Store a message; raises FileExistsError when the identifier was used."""
        path = self._path(municipality, identifier)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as out:  # exclusive: a published message is never replaced
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def get(self, municipality: str, identifier: str) -> bytes | None:
        try:
            return self._path(municipality, identifier).read_bytes()
        except (ValueError, FileNotFoundError):
            return None

    def alerts(self, municipality: str, prefix: str = "") -> list[Alert]:
        """The messages kept for ``municipality`` (those whose identifier starts with
        ``prefix``: e.g. one incident's), each read and checked."""
        folder = self.root / municipality
        if not _NAME.fullmatch(municipality) or not folder.is_dir():
            return []
        if prefix and not _NAME.fullmatch(prefix):
            return []
        found = [_read(p) for p in sorted(folder.glob(f"{prefix}*.xml"))]
        return [a for a in found if a is not None]

    def next_identifier(self, municipality: str, incident_id: int) -> str:
        prefix = f"cityops.{municipality}.incident-{incident_id}."
        folder = self.root / municipality
        used = [p.stem for p in folder.glob(f"{prefix}*.xml")] if folder.is_dir() else []
        return f"{prefix}{len(used) + 1}"
