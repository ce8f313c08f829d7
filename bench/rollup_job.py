"""How long one transaction of the rollup job holds the database, by hours taken per transaction.

A SQLite file with ``--days`` of one-minute readings of ``--sensors`` sensors (bench/history.py's
load), then ``--hours`` hours of every sensor marked as ingest marks them, rolled up by the job's
own steps (``take_pending`` + ``roll_up``) in transactions of each of ``--batches`` hours, in
turn and twice: the longest transaction (what a commit of the ingest may wait for) and the
whole job.

    python -m bench.rollup_job --sensors 1000 --days 2 --hours 6 --batches 5000,500,200
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.history import END, MUNI, _fill_sqlite
from cityops.store import rollups_repo as repo
from cityops.store.db import make_engine, upgrade


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sensors", type=int, default=1000)
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--hours", type=int, default=6, help="marked hours per sensor")
    ap.add_argument("--batches", default="5000,500,200", help="hours per transaction")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cityops-rollup-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'rollup.db'}"
        upgrade(url)
        db = make_engine(url)
        _fill_sqlite(db, args.sensors, args.days)
        keys = {
            (MUNI, f"s{s}", repo.hour_floor(END - timedelta(hours=k + 1)))
            for s in range(args.sensors)
            for k in range(args.hours)
        }
        for batch in [int(b) for b in args.batches.split(",")] * 2:
            with db.begin() as conn:
                repo.mark_pending(conn, keys)
            start, longest, transactions = time.perf_counter(), 0.0, 0
            while True:
                t0 = time.perf_counter()
                with db.begin() as conn:
                    taken = repo.take_pending(conn, batch)
                    if not taken:
                        break
                    repo.roll_up(conn, taken)
                longest = max(longest, time.perf_counter() - t0)
                transactions += 1
            total = time.perf_counter() - start
            print(
                json.dumps(
                    {
                        "hours_per_transaction": batch,
                        "marked_hours": len(keys),
                        "transactions": transactions,
                        "longest_ms": round(longest * 1000, 1),
                        "total_ms": round(total * 1000, 1),
                    }
                ),
                flush=True,
            )
        db.dispose()


if __name__ == "__main__":
    main()
