"""SQLite's WAL checkpoints on a thread of their own, not in the ingest's commits.

By default SQLite checkpoints (copies the write-ahead log into the database file and, with
``synchronous=NORMAL``, syncs it) inside whichever commit takes the log past 1,000 pages: under
steady ingest that is the ingest worker's, every few seconds, and the batch, with every reading
and threshold crossing in it, waits for the copy and the sync. ``WalCheckpointer`` turns the
automatic checkpoint off on the engine's connections and runs a ``PASSIVE`` checkpoint every
``interval_s`` instead. A passive checkpoint takes no lock that a writer or a reader waits for: it
copies what is committed while commits go on, so the ingest's commit only appends to the log.
Measured (bench/sqlite_commits.py): ingest-shaped commits' p99 about halved, their slowest
cut by up to four fifths (docs/BENCHMARKS.md).

Durability does not change: a commit is durable once it is in the log, whether or not a
checkpoint copied it yet. The log file is kept to ``JOURNAL_LIMIT`` bytes once a checkpoint has
caught up (``journal_size_limit``). ``stop()`` closes the engine's idle connections: SQLite
checkpoints and removes the log when the last one closes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

INTERVAL_S = 1.0
JOURNAL_LIMIT = 64 * 1024 * 1024
"""Bytes the log file is cut back to after a checkpoint that caught up (``journal_size_limit``)."""
BEHIND_WARNING_PAGES = 262_144
"""A log this many pages (1 GiB of 4 KiB pages) past what was copied is logged: a reader that
never ends (an open transaction) keeps a checkpoint from finishing and the log from restarting."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What one ``PRAGMA wal_checkpoint`` said: whether it was kept from running (``busy``), the
    log's pages and those of them copied into the database file."""

    busy: bool
    log_pages: int
    copied_pages: int

    @property
    def behind(self) -> int:
        return max(0, self.log_pages - self.copied_pages)


def _no_auto_checkpoint(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.execute(f"PRAGMA journal_size_limit={JOURNAL_LIMIT}")
    cur.close()


def applies(engine: Engine) -> bool:
    """A SQLite database in a file (an in-memory one has no log, and its only connection must
    not be closed)."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")


def checkpoint(engine: Engine) -> Checkpoint:
    """One passive checkpoint of ``engine``'s database."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return Checkpoint(bool(row[0]), int(row[1]), int(row[2]))


class WalCheckpointer:
    """The thread. ``start()`` before the engine's connections are busy: it turns the automatic
    checkpoint off on every connection made from then on (the pool's idle ones are replaced)."""

    def __init__(self, engine: Engine, interval_s: float = INTERVAL_S) -> None:
        if not applies(engine):
            raise ValueError("WAL checkpoints are those of a SQLite database in a file")
        self.engine = engine
        self.interval_s = interval_s
        self.checkpoints = 0
        """Checkpoints that ran (not kept busy)."""
        self.last: Checkpoint | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        event.listen(self.engine, "connect", _no_auto_checkpoint)
        self.engine.dispose()  # idle pooled connections were made with the automatic checkpoint
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="cityops-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread; connections made from now on checkpoint themselves again."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout)
        self._thread = None
        event.remove(self.engine, "connect", _no_auto_checkpoint)
        self.engine.dispose()

    def run_once(self) -> Checkpoint:
        done = checkpoint(self.engine)
        self.last = done
        if not done.busy:
            self.checkpoints += 1
        if done.behind >= BEHIND_WARNING_PAGES:
            log.warning(
                "the SQLite write-ahead log is %d pages ahead of the database file: a long "
                "transaction keeps checkpoints from catching up",
                done.behind,
            )
        return done

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # a locked or busy database: the next pass tries again
                log.exception("WAL checkpoint failed")
