"""SQLite's WAL checkpoints on their own thread (store/sqlite_wal.py): commits append to the log
and never checkpoint themselves; the thread copies the log into the database file; after stop the
log is gone. On a real SQLite file with ingest's own insert."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from cityops.domain.observations import Reading
from cityops.store import observations_repo as obs
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from cityops.store.sqlite_wal import Checkpoint, WalCheckpointer, applies, checkpoint
from tests.harness.live_server import LiveServer
from tests.town import TOWN_YAML

T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def write(engine: Engine, batches: int, start: int = 0, size: int = 500) -> int:
    """``batches`` ingest-like commits of ``size`` readings; the readings written."""
    for b in range(batches):
        rows = [
            Reading("m", f"s{i % 100}", T0 + timedelta(seconds=start + b * size + i), 1.0)
            for i in range(size)
        ]
        with engine.begin() as conn:
            obs.insert_readings(conn, rows)
    return batches * size


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.readings)).scalar_one())


def test_connections_checkpoint_themselves_only_while_it_does_not_run(db: Engine) -> None:
    assert autocheckpoint(db) == 1000  # SQLite's default
    wal = WalCheckpointer(db, interval_s=3600)
    wal.start()
    assert autocheckpoint(db) == 0
    wal.stop()
    assert autocheckpoint(db) == 1000


def test_commits_only_append_to_the_log_while_it_runs(db: Engine) -> None:
    """With its pass far off, 40,000 readings leave a log of several thousand pages: no commit
    checkpointed (and so restarted the log) on its way, as each would past 1,000 pages."""
    wal = WalCheckpointer(db, interval_s=3600)
    wal.start()
    try:
        written = write(db, 80)
        now = checkpoint(db)  # what the thread would do next: it copies the whole log
        assert now.log_pages > 3000
        assert now.copied_pages == now.log_pages
        assert stored(db) == written
    finally:
        wal.stop()


def test_without_it_a_commit_checkpoints_and_the_log_restarts(db: Engine) -> None:
    """The control of the test above: the same writes with SQLite's automatic checkpoint."""
    write(db, 80)
    assert checkpoint(db).log_pages < 2000


def test_the_thread_copies_the_log_while_commits_go_on(db: Engine) -> None:
    wal = WalCheckpointer(db, interval_s=0.05)
    wal.start()
    try:
        written, seen = 0, 0
        deadline = time.monotonic() + 60
        while seen < 3 and time.monotonic() < deadline:  # commits interleaved with passes
            before = wal.checkpoints
            written += write(db, 4, start=written)
            seen += wal.checkpoints > before
        assert seen == 3, "the thread never checkpointed between commits"
        last = wal.last
        assert isinstance(last, Checkpoint)
        assert last.copied_pages > 0
        assert stored(db) == written
    finally:
        wal.stop()


def test_stop_leaves_the_database_without_its_log(db: Engine, tmp_path: Path) -> None:
    wal = WalCheckpointer(db, interval_s=3600)
    wal.start()
    write(db, 10)
    log_file = tmp_path / "wal.db-wal"
    assert log_file.stat().st_size > 0
    wal.stop()  # closes the idle connections: the last one checkpoints and removes the log
    assert not log_file.exists()
    assert stored(db) == 5000


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://nobody@127.0.0.1:1/none", "sqlite://", "sqlite:///:memory:"]
)
def test_only_a_sqlite_file_has_it(url: str) -> None:
    assert not applies(make_engine(url))
    with pytest.raises(ValueError, match="SQLite database in a file"):
        WalCheckpointer(make_engine(url))


def test_the_control_center_on_sqlite_runs_it(tmp_path: Path) -> None:
    with LiveServer(tmp_path, None, [TOWN_YAML]) as server:
        assert server.center is not None
        wal = server.center.wal
        assert wal is not None
        assert autocheckpoint(server.center.db) == 0
        deadline = time.monotonic() + 30
        while wal.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert wal.checkpoints > 0
