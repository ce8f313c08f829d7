"""A per-process cache of resolved principals, so that a request does not read its session or
token, account and memberships from the database every time (docs/SECURITY.md "Principal cache").

Keys are (database URL, SHA-256 digest of the session id or token): never a secret. An entry
lives at most ``ttl_s`` seconds (the caller's setting) and the cache holds at most ``size``
entries (least recently used dropped first). Every write of access_repo.py that changes what a
principal may do forgets the account's entries at once AND again once the writing transaction
has committed (:func:`forget_user`: when its connection goes back to the pool); lookups that
began before then are not stored, so no request caches what the database said before a change
that has committed.
Other processes of a multi-process deployment learn of a change only when their entry ages out
(``ttl_s``): that is the documented bound.

Thread-safe (one lock; the API's thread pool shares it)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import URL, Connection, Engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from cityops.domain.access import Principal

SIZE = 10_000
"""At most this many sessions and tokens cached per process (about 1 KiB each)."""
_PENDING = "cityops.principal_cache.forget"
"""In a pooled connection's ``info``: the accounts changed in its transaction, forgotten again
when the connection is checked back in (after its commit or rollback)."""


@dataclass(frozen=True, slots=True)
class Entry:
    principal: Principal
    csrf: str | None
    """The session's CSRF token (None for an API token)."""
    last_seen_at: datetime | None
    """The session's (or token's) activity as last written to the database."""
    expires_at: datetime | None
    """The session's absolute end (None for a token)."""
    started: float
    """Monotonic time when the lookup that produced this entry began."""


class PrincipalCache:
    def __init__(self, size: int = SIZE, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._changed: dict[tuple[str, int], float] = {}
        """(database, user id) -> monotonic time of the account's last change (+ settle)."""
        self.hits = 0
        self.misses = 0

    def get(self, db: str, digest: str, ttl_s: float) -> Entry | None:
        key = (db, digest)
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or ttl_s <= 0:
                self.misses += 1
                return None
            changed = self._changed.get((db, entry.principal.user_id))
            if now - entry.started >= ttl_s or (changed is not None and entry.started <= changed):
                del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, db: str, digest: str, entry: Entry, ttl_s: float) -> None:
        """Store what a lookup found, unless the account changed since the lookup began."""
        if ttl_s <= 0:
            return
        with self._lock:
            changed = self._changed.get((db, entry.principal.user_id))
            if changed is not None and entry.started <= changed:
                return
            self._entries[(db, digest)] = entry
            self._entries.move_to_end((db, digest))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, db: str, digest: str) -> None:
        with self._lock:
            self._entries.pop((db, digest), None)

    def forget_user(self, db: str, user_id: int) -> None:
        """Drop the account's entries; lookups of it that began before now are not stored."""
        with self._lock:
            self._changed[(db, user_id)] = self.clock()
            gone = [
                k for k, e in self._entries.items() if k[0] == db and e.principal.user_id == user_id
            ]
            for k in gone:
                del self._entries[k]
            if len(self._changed) > self.size:  # old marks matter only while entries may live
                oldest = sorted(self._changed, key=self._changed.__getitem__)
                for mark in oldest[: len(self._changed) - self.size]:
                    del self._changed[mark]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._changed.clear()

    def __len__(self) -> int:
        return len(self._entries)


CACHE = PrincipalCache()
"""This process's cache (the API's lookups and access_repo.py's invalidations meet here)."""


def database(db: Engine | Connection) -> str:
    """The cache's name for a database (its URL with the password hidden)."""
    engine = db if isinstance(db, Engine) else db.engine
    return _name(engine.url)


@lru_cache(maxsize=64)
def _name(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def forget_user(conn: Connection, user_id: int) -> None:
    """The account changed in ``conn``'s transaction: forget its entries now and once more when
    the connection returns to the pool, its transaction ended (a lookup running meanwhile read
    the state before the change)."""
    db = database(conn)
    CACHE.forget_user(db, user_id)
    pending: set[tuple[str, int]] = conn.info.setdefault(_PENDING, set())
    pending.add((db, user_id))
    pool = conn.engine.pool
    if not event.contains(pool, "checkin", _checked_in):
        event.listen(pool, "checkin", _checked_in)


def _checked_in(_dbapi_connection: object, record: ConnectionPoolEntry | None) -> None:
    if record is None:
        return
    for db, user_id in record.info.pop(_PENDING, ()):
        CACHE.forget_user(db, user_id)


def forget_session(conn: Connection, digest: str) -> None:
    CACHE.forget(database(conn), digest)
