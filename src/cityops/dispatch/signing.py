"""The HMAC-SHA256 scheme both directions use (docs/DISPATCH.md "Signature").

The signed text is ``<timestamp>.<body>``: the Unix time in seconds as ASCII digits, a dot, and
the raw body bytes. The header carries ``v1=<hex digest>``. A receiver refuses a timestamp more
than ``tolerance_s`` away from its clock (a captured request cannot be replayed later) and
compares digests in constant time."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cityops.domain.dispatch import AgencyChannels

TIMESTAMP_HEADER = "X-CityOps-Timestamp"
SIGNATURE_HEADER = "X-CityOps-Signature"
DELIVERY_HEADER = "X-CityOps-Delivery"
ATTEMPT_HEADER = "X-CityOps-Attempt"
DEFAULT_TOLERANCE_S = 300
_PREFIX = "v1="
_MAX_TIMESTAMP_DIGITS = 12


class SecretMissingError(Exception):
    """The agency's secret is named in the configuration but not where it says."""


def load_secret(channels: AgencyChannels) -> bytes:
    """The webhook secret from the environment variable or file the configuration names."""
    if channels.secret_env:
        value = os.environ.get(channels.secret_env, "")
        where = f"environment variable {channels.secret_env}"
    elif channels.secret_file:
        try:
            value = Path(channels.secret_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise SecretMissingError(f"secret file {channels.secret_file}: {err}") from None
        where = f"secret file {channels.secret_file}"
    else:
        raise SecretMissingError(f"agency {channels.agency} has no webhook secret")
    if len(value) < 16:
        raise SecretMissingError(f"{where} is unset or shorter than 16 characters")
    return value.encode("utf-8")


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return _PREFIX + digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Verified:
    timestamp: int
    signature: str


class SignatureError(Exception):
    """Why a signed request was refused (bad, missing, stale)."""


def verify(
    secret: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> Verified:
    """Check a signed request; raises SignatureError with the reason."""
    if not timestamp_header or not signature_header:
        raise SignatureError("missing signature headers")
    ts_text = timestamp_header.strip()
    if not ts_text.isascii() or not ts_text.isdigit() or len(ts_text) > _MAX_TIMESTAMP_DIGITS:
        raise SignatureError("malformed timestamp")
    timestamp = int(ts_text)
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError("stale timestamp")
    expected = sign(secret, timestamp, body)
    given = signature_header.strip()
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
        raise SignatureError("bad signature")
    return Verified(timestamp, expected)
