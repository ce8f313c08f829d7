"""Broker credentials of multi-process ingest's partitions (docs/SCALING.md "Partition
credentials").

On a broker with ``use_username_as_clientid`` a session belongs to a username, so each
partition (municipality) has a user of its own whose username *is* the partition's client id,
``<prefix>-<municipality>``. Its password is derived from one **ingest secret** that every
member and ``cityops mqtt sync`` are given (``CITYOPS_INGEST_SECRET`` or
``CITYOPS_INGEST_SECRET_FILE``, never stored in the database): HMAC-SHA256 of the client id.
A member that takes a partition computes its password; nothing per partition is distributed.

The broker's password file holds the ``$7$`` PBKDF2-SHA512 hash of that password (as for the
device credentials), with a salt derived from the secret as well, so that the same secret
always writes the same file: the supervised broker is reloaded only when something changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from cityops.domain.device_secret import SALT_BYTES, hash_secret
from cityops.services.devices import CredentialRow, frigate_prefixes
from cityops.store import catalog_repo

MIN_SECRET_LENGTH = 32
"""Characters of the ingest secret at least (``openssl rand -base64 32`` gives 44)."""


class IngestSecretError(ValueError):
    """The ingest secret is missing, unreadable, or too short (the message says which)."""


def read_secret(inline: str | None, path: Path | None) -> str | None:
    """The ingest secret from ``CITYOPS_INGEST_SECRET`` or the file named by
    ``CITYOPS_INGEST_SECRET_FILE`` (surrounding whitespace dropped); None when neither is set."""
    if inline is not None and path is not None:
        raise IngestSecretError("set CITYOPS_INGEST_SECRET or CITYOPS_INGEST_SECRET_FILE, not both")
    if path is not None:
        try:
            inline = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise IngestSecretError(f"CITYOPS_INGEST_SECRET_FILE {path}: {err}") from err
    if inline is None:
        return None
    secret = inline.strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise IngestSecretError(
            f"the ingest secret has {len(secret)} characters; at least {MIN_SECRET_LENGTH} "
            "(e.g. `openssl rand -base64 32`)"
        )
    return secret


def _mac(secret: str, purpose: str, client_id: str) -> bytes:
    message = f"{purpose}\0{client_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def partition_password(secret: str, client_id: str) -> str:
    """The password of the partition user ``client_id`` (43 URL-safe characters)."""
    return base64.urlsafe_b64encode(_mac(secret, "password", client_id)).decode().rstrip("=")


def partition_hash(secret: str, client_id: str) -> str:
    """The password's ``$7$`` hash for the broker's password file; stable for one secret."""
    salt = _mac(secret, "salt", client_id)[:SALT_BYTES]
    return hash_secret(partition_password(secret, client_id), salt=salt)


@dataclass(frozen=True, slots=True)
class PartitionUser:
    """A partition's broker user: its username is the partition session's client id."""

    username: str
    municipality: str
    secret_hash: str
    frigate_prefixes: tuple[str, ...]
    """Prefixes of the municipality's active Frigate credentials (it reads their events)."""


def client_id(prefix: str, municipality: str) -> str:
    """A partition session's client id, and its user's name."""
    return f"{prefix}-{municipality}"


def partition_users(
    conn: Connection, secret: str, prefix: str, credentials: Sequence[CredentialRow]
) -> list[PartitionUser]:
    """One user per municipality with a stored configuration (the partitions), in order."""
    municipalities = sorted({s.municipality for s in catalog_repo.latest_configs(conn)})
    return [
        PartitionUser(
            client_id(prefix, m),
            m,
            partition_hash(secret, client_id(prefix, m)),
            tuple(frigate_prefixes(credentials, m)),
        )
        for m in municipalities
    ]
