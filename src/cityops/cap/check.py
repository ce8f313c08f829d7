"""One verdict per CAP document: refused, schema-invalid, rule-invalid or valid, and the
state of its XML signature (``cityops cap check``, the CAP ingest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cityops import safexml
from cityops.cap.model import CAP11_NS, CAP12_NS, Alert
from cityops.cap.parse import CapError, alert_from

SCHEMA: Path = Path(__file__).parent / "schema" / "CAP-v1.2-oasis.xsd"
"""The OASIS CAP 1.2 schema shipped with CityOps (schema/NOTICE.md)."""


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reasons: tuple[str, ...]  # empty when valid
    signature: safexml.SignatureCheck | None  # None when the document was refused unread
    alert: Alert | None

    def signature_text(self) -> str:
        """``valid (untrusted): signed by CN=...``, ``invalid: why``, ``absent``."""
        sig = self.signature
        if sig is None:
            return "refused unread"
        if sig.status == "absent":
            return "absent"
        trust = "" if sig.status != "valid" else (" (trusted)" if sig.trusted else " (untrusted)")
        return f"{sig.status}{trust}: {sig.detail}"

    def summary(self) -> str:
        head = "valid" if self.valid else "invalid: " + "; ".join(self.reasons)
        if self.signature is None:
            return head
        if self.signature.status == "absent":
            return f"{head} | signature absent: {self.signature.detail}"
        return f"{head} | signature {self.signature_text()}"


def check(data: bytes, *, trusted_ca: Path | None = None) -> Verdict:
    """The verdict on ``data``. A document with a DTD, entities, external references or beyond
    the size/depth limits is refused before anything in it is used."""
    try:
        root = safexml.parse(data)
    except safexml.XmlError as err:
        return Verdict(False, (f"refused: {err}",), None, None)
    if root.tag == f"{{{CAP11_NS}}}alert":
        reasons: tuple[str, ...] = (f"CAP 1.1 ({CAP11_NS}); CityOps accepts CAP 1.2 only",)
    elif root.tag != f"{{{CAP12_NS}}}alert":
        reasons = (f"root element {root.tag!r} is not a CAP 1.2 alert",)
    else:
        reasons = tuple(f"schema: {e}" for e in safexml.schema_errors(root, SCHEMA))
    alert = None
    if not reasons:
        try:
            alert = alert_from(root)
        except CapError as err:
            reasons = tuple(err.problems)
    at = alert.sent if alert is not None else datetime.now(UTC)
    if root.find(f".//{{{safexml.DSIG_NS}}}Signature") is None:  # no second parse for nothing
        return Verdict(
            not reasons, reasons, safexml.SignatureCheck("absent", "no XML signature"), alert
        )
    try:
        signature = safexml.verify_signature(data, at=at, trusted_ca=trusted_ca)
    except safexml.XmlError as err:
        return Verdict(False, (*reasons, str(err)), None, None)
    return Verdict(not reasons, reasons, signature, alert)
