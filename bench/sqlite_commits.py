"""Ingest-shaped commits on SQLite: checkpoints in the commits (SQLite's default) against
CityOps's checkpoint thread (store/sqlite_wal.py), alternating in one run.

Each run writes batches of ``--batch`` readings (ingest's own insert, 100 sensors) every
``--gap-ms`` for ``--seconds`` into a fresh WAL database file with ``synchronous=NORMAL``, as the
server does, and reports the commit times: p50, p99, p99.9, max and how many took over 20 ms.

    python -m bench.sqlite_commits --seconds 30 --runs 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cityops.domain.observations import Reading
from cityops.store import observations_repo as obs
from cityops.store.db import make_engine, upgrade
from cityops.store.sqlite_wal import WalCheckpointer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def one_run(
    workdir: Path, threaded: bool, seconds: float, batch: int, gap_s: float
) -> dict[str, Any]:
    url = f"sqlite:///{workdir / ('threaded.db' if threaded else 'in-commit.db')}"
    upgrade(url)
    db = make_engine(url)
    wal = WalCheckpointer(db) if threaded else None
    if wal is not None:
        wal.start()
    times: list[float] = []
    k = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            rows = [
                Reading("m", f"s{(k + i) % 100}", T0 + timedelta(milliseconds=k + i), 1.0)
                for i in range(batch)
            ]
            k += batch
            t0 = time.perf_counter()
            with db.begin() as conn:
                obs.insert_readings(conn, rows)
            times.append((time.perf_counter() - t0) * 1000)
            time.sleep(gap_s)
    finally:
        if wal is not None:
            wal.stop()
        db.dispose()
    times.sort()

    def at(q: float) -> float:
        return round(times[min(len(times) - 1, int(len(times) * q))], 1)

    return {
        "checkpoints": "thread" if threaded else "in the commits",
        "commits": len(times),
        "readings": k,
        "p50_ms": at(0.5),
        "p99_ms": at(0.99),
        "p999_ms": at(0.999),
        "max_ms": round(times[-1], 1),
        "over_20_ms": sum(x > 20 for x in times),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="per run")
    ap.add_argument("--runs", type=int, default=2, help="alternating pairs")
    ap.add_argument("--batch", type=int, default=50, help="readings per commit")
    ap.add_argument("--gap-ms", type=float, default=10.0, help="pause between commits")
    args = ap.parse_args()
    for _ in range(args.runs):
        for threaded in (False, True):
            with tempfile.TemporaryDirectory(prefix="cityops-commits-") as tmp:
                r = one_run(Path(tmp), threaded, args.seconds, args.batch, args.gap_ms / 1000)
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
