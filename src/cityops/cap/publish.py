"""CityOps's own CAP feed: an Atom document listing the municipality's published warnings,
newest first, each entry linking to its CAP message (the form MeteoAlarm and the Google/WMO
alert hubs read)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cityops import safexml
from cityops.cap.draft import Draft

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Published:
    draft: Draft
    url: str  # where the CAP message itself is served


def atom_feed(*, feed_id: str, title: str, updated: datetime, items: Sequence[Published]) -> bytes:
    a = f"{{{ATOM_NS}}}"
    root = safexml.Element(f"{a}feed")
    for name, text in (("id", feed_id), ("title", title), ("updated", updated.isoformat())):
        safexml.SubElement(root, a + name).text = text
    for item in sorted(items, key=lambda p: p.draft.sent, reverse=True):
        entry = safexml.SubElement(root, f"{a}entry")
        headline = item.draft.texts[0].headline if item.draft.texts else item.draft.identifier
        safexml.SubElement(entry, f"{a}id").text = item.url
        safexml.SubElement(entry, f"{a}title").text = f"{item.draft.msg_type}: {headline}"
        safexml.SubElement(entry, f"{a}updated").text = item.draft.sent.isoformat()
        safexml.SubElement(entry, f"{a}link", {"href": item.url, "type": "application/cap+xml"})
    return safexml.to_bytes(root)
