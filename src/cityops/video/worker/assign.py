"""Which worker runs which camera: rendezvous (highest-random-weight) hashing.

Every worker computes the same answer from the same set of live workers, without talking to the
others: a camera goes to the worker with the highest hash of (worker, camera). When a worker
leaves, only its cameras move (each to the worker with its next-highest weight); when one joins,
it takes about 1/n of the cameras from the others and nothing else moves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def weight(worker_id: str, camera_key: str) -> int:
    digest = hashlib.blake2b(f"{worker_id}\x00{camera_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(camera_key: str, workers: Iterable[str]) -> str | None:
    """The worker that runs ``camera_key`` (None when no worker is alive)."""
    return max(workers, key=lambda w: (weight(w, camera_key), w), default=None)


def mine(worker_id: str, camera_keys: Iterable[str], workers: Iterable[str]) -> set[str]:
    """The cameras ``worker_id`` runs among ``workers`` (which it is always counted in)."""
    alive = set(workers) | {worker_id}
    return {key for key in camera_keys if owner(key, alive) == worker_id}
