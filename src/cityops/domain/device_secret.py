"""Device secrets: made at random, shown once, stored as Mosquitto's PBKDF2-SHA512 hash.

The stored form is the one Mosquitto 2.0's password file reads (``mosquitto_passwd``'s
default): ``$7$<iterations>$<salt, base64>$<64-byte PBKDF2-HMAC-SHA512, base64>``. One form
serves both brokers: ``cityops mqtt sync`` copies it into the password file, and the embedded
broker verifies a CONNECT's password against it.

A secret is 32 random bytes (256 bits, URL-safe base64): guessing it is out of reach whatever
the hash's work factor, so the iteration count only needs to keep CONNECTs cheap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

ITERATIONS = 1000
SALT_BYTES = 12  # mosquitto_passwd's salt length
HASH_BYTES = 64
_FORM = re.compile(r"\$7\$([1-9][0-9]{0,6})\$([A-Za-z0-9+/=]{1,200})\$([A-Za-z0-9+/=]{1,200})")


@dataclass(frozen=True, slots=True)
class SecretHash:
    iterations: int
    salt: bytes
    digest: bytes

    def encode(self) -> str:
        salt = base64.b64encode(self.salt).decode()
        return f"$7${self.iterations}${salt}${base64.b64encode(self.digest).decode()}"


class BadHashError(ValueError):
    """Not a ``$7$`` PBKDF2-SHA512 hash."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _derive(secret: str, salt: bytes, iterations: int) -> bytes:
    data = secret.encode("utf-8", "surrogatepass")  # any str a client could send
    return hashlib.pbkdf2_hmac("sha512", data, salt, iterations, HASH_BYTES)


def hash_secret(secret: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    return SecretHash(iterations, salt, _derive(secret, salt, iterations)).encode()


def parse_hash(text: str) -> SecretHash:
    """The parts of a stored hash; BadHashError for anything else."""
    found = _FORM.fullmatch(text)
    if found is None:
        raise BadHashError("not a $7$ hash")
    try:
        salt = base64.b64decode(found[2], validate=True)
        digest = base64.b64decode(found[3], validate=True)
    except binascii.Error as err:
        raise BadHashError(f"bad base64: {err}") from err
    if not salt or len(digest) != HASH_BYTES:
        raise BadHashError("empty salt or a digest that is not 64 bytes")
    return SecretHash(int(found[1]), salt, digest)


def verify(secret: str, stored: str) -> bool:
    """True when ``secret`` hashes to ``stored`` (compared in constant time)."""
    try:
        parts = parse_hash(stored)
    except BadHashError:
        return False
    return hmac.compare_digest(_derive(secret, parts.salt, parts.iterations), parts.digest)
