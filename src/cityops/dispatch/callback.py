"""An agency's acknowledgment, as it arrives from outside: decoded strictly, refusals counted.

Body (JSON object, every field optional): ``reference`` (the agency's own case number, up to
200 characters), ``note`` (up to 2,000), ``by`` (who acknowledged, up to 200). Unknown fields
are ignored (agencies' systems may send more); anything else is refused with a reason."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass

MAX_BODY_BYTES = 16_384
_LIMITS = {"reference": 200, "note": 2000, "by": 200}


@dataclass(frozen=True, slots=True)
class Ack:
    reference: str | None = None
    note: str | None = None
    by: str | None = None


class AckRejectedError(ValueError):
    """The body is not an acknowledgment; the message says why."""


def _clean(value: str) -> str:
    return "".join(ch for ch in value if ch.isprintable() or ch in "\n\t").strip()


def decode_ack(body: bytes) -> Ack:
    if len(body) > MAX_BODY_BYTES:
        raise AckRejectedError("body too large")
    if not body.strip():
        return Ack()
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise AckRejectedError("body is not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise AckRejectedError("body is not a JSON object")
    fields: dict[str, str | None] = {}
    for key, limit in _LIMITS.items():
        value = data.get(key)
        if value is None:
            fields[key] = None
            continue
        if not isinstance(value, str):
            raise AckRejectedError(f"{key} must be a string")
        if len(value) > limit:
            raise AckRejectedError(f"{key} longer than {limit} characters")
        fields[key] = _clean(value) or None
    return Ack(**fields)


class RefusalCounter:
    """Refused callbacks by reason (bad signature, stale, replayed, unknown delivery), for the
    log and the metrics; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


REFUSALS = RefusalCounter()
"""The process's refused acknowledgments (one process serves one API)."""
