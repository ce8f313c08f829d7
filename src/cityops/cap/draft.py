"""CAP out: a public warning drafted from an incident, as a CAP 1.2 message that is checked
(schema, rules, signature) before anyone may publish it. Updates and cancellations reference
the original (CAP 1.2 §3.2.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from cityops import safexml
from cityops.cap.check import Verdict, check
from cityops.cap.model import CAP12_NS, LatLon, Reference
from cityops.domain.entities import Sector

_CATEGORY = {
    Sector.SAFETY: "Safety",
    Sector.TRANSPORT: "Transport",
    Sector.DISASTER: "Geo",
    Sector.ENVIRONMENT: "Env",
    Sector.UTILITIES: "Infra",
}


class DraftError(ValueError):
    """A draft that would not be a valid CAP 1.2 message; ``str()`` lists why."""


@dataclass(frozen=True)
class Text:
    """One language's ``info`` texts (CityOps writes bg-BG and en-US)."""

    language: str
    event: str
    headline: str
    description: str
    instruction: str | None = None
    area_description: str = ""


@dataclass(frozen=True)
class Signer:
    key_pem: bytes
    cert_pem: bytes


@dataclass(frozen=True)
class Draft:
    identifier: str
    sender: str
    sent: datetime
    sector: Sector
    urgency: str  # Immediate, Expected, Future, Past, Unknown
    severity: str  # Extreme, Severe, Moderate, Minor, Unknown
    certainty: str  # Observed, Likely, Possible, Unlikely, Unknown
    expires: datetime
    texts: tuple[Text, ...]
    polygon: tuple[LatLon, ...] = ()
    circle: tuple[LatLon, float] | None = None  # centre, radius km
    status: str = "Actual"
    msg_type: str = "Alert"
    references: tuple[Reference, ...] = ()
    sender_name: str | None = None

    @property
    def reference(self) -> Reference:
        """How a later message names this one."""
        return Reference(self.sender, self.identifier, _cap_time(self.sent))


def _cap_time(t: datetime) -> str:
    if t.tzinfo is None:
        raise DraftError("times need a time zone")
    text = t.replace(microsecond=0).isoformat()
    return text.replace("+00:00", "-00:00") if text.endswith("+00:00") else text


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _add(parent: safexml.Element, name: str, text: str | None) -> None:
    if text is not None:
        bad = _NOT_XML.search(text)
        if bad:
            raise DraftError(f"{name}: character U+{ord(bad.group()):04X} cannot be in XML")
        safexml.SubElement(parent, f"{{{CAP12_NS}}}{name}").text = text


def render(draft: Draft) -> bytes:
    """The draft as CAP 1.2 XML (not yet checked: see :func:`produce`)."""
    ns = f"{{{CAP12_NS}}}"
    root = safexml.Element(f"{ns}alert")
    _add(root, "identifier", draft.identifier)
    _add(root, "sender", draft.sender)
    _add(root, "sent", _cap_time(draft.sent))
    _add(root, "status", draft.status)
    _add(root, "msgType", draft.msg_type)
    _add(root, "scope", "Public")
    if draft.references:
        refs = " ".join(f"{r.sender},{r.identifier},{r.sent}" for r in draft.references)
        _add(root, "references", refs)
    for text in draft.texts:
        info = safexml.SubElement(root, f"{ns}info")
        _add(info, "language", text.language)
        _add(info, "category", _CATEGORY[draft.sector])
        _add(info, "event", text.event)
        _add(info, "urgency", draft.urgency)
        _add(info, "severity", draft.severity)
        _add(info, "certainty", draft.certainty)
        _add(info, "expires", _cap_time(draft.expires))
        _add(info, "senderName", draft.sender_name)
        _add(info, "headline", text.headline)
        _add(info, "description", text.description)
        _add(info, "instruction", text.instruction)
        area = safexml.SubElement(info, f"{ns}area")
        _add(area, "areaDesc", text.area_description or text.headline)
        if draft.polygon:
            _add(area, "polygon", " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in draft.polygon))
        if draft.circle is not None:
            (lat, lon), radius = draft.circle
            _add(area, "circle", f"{lat:.5f},{lon:.5f} {radius:.3f}")
    return safexml.to_bytes(root)


def produce(draft: Draft, signer: Signer | None = None) -> tuple[bytes, Verdict]:
    """The message, signed when ``signer`` is given, and its verdict; raises
    :class:`DraftError` unless it is valid and (when signed) its signature verifies."""
    if not draft.texts:
        raise DraftError("a public warning needs at least one info block")
    if not draft.polygon and draft.circle is None:
        raise DraftError("a public warning needs an area: a polygon or a circle")
    data = render(draft)
    if signer is not None:
        data = safexml.sign_enveloped(data, key_pem=signer.key_pem, cert_pem=signer.cert_pem)
    verdict = check(data)
    problems = list(verdict.reasons)
    if signer is not None and (verdict.signature is None or verdict.signature.status != "valid"):
        problems.append(f"signature: {verdict.signature.detail if verdict.signature else '-'}")
    if problems:
        raise DraftError("; ".join(problems))
    return data, verdict


def follow_up(
    original: Draft, *, identifier: str, sent: datetime, cancel: bool = False, **changes: object
) -> Draft:
    """An Update (or a Cancel) of ``original``: a new identifier and time, referencing it."""
    kind = "Cancel" if cancel else "Update"
    return replace(
        original,
        identifier=identifier,
        sent=sent,
        msg_type=kind,
        references=(original.reference,),
        **changes,  # type: ignore[arg-type]
    )
