"""Schema-valid CAP 1.2 XML -> :class:`~cityops.cap.model.Alert`, with the specification's
rules that the schema cannot express (CAP 1.2 §3.2). Every problem is collected, not only the
first, so an operator sees them all."""

from __future__ import annotations

import math
import re
from datetime import datetime

from cityops.cap.model import CAP12_NS, Alert, Area, Circle, Info, LatLon, Reference
from cityops.safexml import Element

_NS = f"{{{CAP12_NS}}}"
_FORBIDDEN = re.compile(r"[\s,<&]")  # identifier and sender (CAP 1.2 §3.2.1)


class CapError(ValueError):
    """A schema-valid document that breaks CAP's own rules; ``problems`` lists them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _text(parent: Element, name: str) -> str | None:
    node = parent.find(_NS + name)
    return None if node is None or node.text is None else node.text.strip()


def _req(parent: Element, name: str) -> str:
    return _text(parent, name) or ""


def _time(value: str, what: str, problems: list[str]) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        problems.append(f"{what}: {value!r} is not a date and time")
        return None
    if when.tzinfo is None:
        problems.append(f"{what}: {value!r} has no time zone")
        return None
    return when


def _point(pair: str, what: str) -> LatLon:
    lat_s, _, lon_s = pair.partition(",")
    lat, lon = float(lat_s), float(lon_s)  # ValueError on anything else
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat + lon):
        raise ValueError(f"{what}: {pair!r} is outside WGS 84 latitude/longitude")
    return (lat, lon)


def _polygon(text: str, problems: list[str]) -> tuple[LatLon, ...] | None:
    try:
        points = tuple(_point(p, "polygon") for p in text.split())
    except ValueError as err:
        problems.append(str(err) if "WGS" in str(err) else f"polygon: not 'lat,lon' pairs: {err}")
        return None
    if len(points) < 4 or points[0] != points[-1]:
        problems.append("polygon: needs at least 4 points, the first equal to the last")
        return None
    return points


def _circle(text: str, problems: list[str]) -> Circle | None:
    center, _, radius = text.strip().partition(" ")
    try:
        r = float(radius)
        if not 0 <= r < 20_100 or math.isnan(r):
            raise ValueError(f"radius {radius!r}")
        return Circle(_point(center, "circle"), r)
    except ValueError as err:
        problems.append(f"circle: {text!r} is not 'lat,lon radius_km' ({err})")
        return None


def _area(node: Element, problems: list[str]) -> Area:
    polygons = [_polygon(p.text or "", problems) for p in node.findall(_NS + "polygon")]
    circles = [_circle(c.text or "", problems) for c in node.findall(_NS + "circle")]
    geocodes = tuple(
        (_req(g, "valueName"), _req(g, "value")) for g in node.findall(_NS + "geocode")
    )
    return Area(
        description=_req(node, "areaDesc"),
        polygons=tuple(p for p in polygons if p is not None),
        circles=tuple(c for c in circles if c is not None),
        geocodes=geocodes,
    )


def _info(node: Element, sent: datetime | None, problems: list[str]) -> Info:
    expires_text = _text(node, "expires")
    expires = _time(expires_text, "expires", problems) if expires_text else None
    if expires is not None and sent is not None and expires < sent:
        problems.append(f"expires {expires_text} is before sent")
    return Info(
        language=_text(node, "language") or "en-US",
        event=_req(node, "event"),
        urgency=_req(node, "urgency"),
        severity=_req(node, "severity"),
        certainty=_req(node, "certainty"),
        headline=_text(node, "headline"),
        description=_text(node, "description"),
        expires=expires,
        areas=tuple(_area(a, problems) for a in node.findall(_NS + "area")),
    )


def _references(text: str | None, present: bool, problems: list[str]) -> tuple[Reference, ...]:
    if not present:
        return ()
    if not text:
        problems.append("references is empty (it must list sender,identifier,sent)")
        return ()
    refs = []
    for item in text.split():
        parts = item.split(",")
        if len(parts) != 3 or not all(parts):
            problems.append(f"references: {item!r} is not sender,identifier,sent")
            continue
        refs.append(Reference(*parts))
    return tuple(refs)


def alert_from(root: Element) -> Alert:
    """The alert in a schema-valid CAP 1.2 document; raises :class:`CapError` listing every
    rule it breaks."""
    problems: list[str] = []
    if root.tag != _NS + "alert":
        raise CapError([f"root element {root.tag!r} is not a CAP 1.2 alert"])
    identifier, sender = _req(root, "identifier"), _req(root, "sender")
    for name, value in (("identifier", identifier), ("sender", sender)):
        if not value or _FORBIDDEN.search(value):
            problems.append(f"{name} {value!r} is empty or holds a space, comma, < or &")
    sent = _time(_req(root, "sent"), "sent", problems)
    msg_type, scope = _req(root, "msgType"), _req(root, "scope")
    refs = _references(
        _text(root, "references"), root.find(_NS + "references") is not None, problems
    )
    if msg_type in {"Update", "Cancel", "Ack", "Error"} and not refs:
        problems.append(f"{msg_type}: must name the message(s) it refers to in references")
    if scope == "Restricted" and not _text(root, "restriction"):
        problems.append("scope Restricted needs a restriction")
    if scope == "Private" and not _text(root, "addresses"):
        problems.append("scope Private needs addresses")
    infos = tuple(_info(i, sent, problems) for i in root.findall(_NS + "info"))
    if problems or sent is None:
        raise CapError(problems or ["sent is missing"])
    return Alert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=_req(root, "status"),
        msg_type=msg_type,
        scope=scope,
        references=refs,
        infos=infos,
    )
