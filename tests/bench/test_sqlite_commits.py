"""bench/sqlite_commits.py runs both ways and counts what it wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.sqlite_commits import one_run


@pytest.mark.parametrize("threaded", [False, True])
def test_a_short_run_reports_its_commits(tmp_path: Path, threaded: bool) -> None:
    r = one_run(tmp_path, threaded, seconds=0.5, batch=10, gap_s=0.001)
    assert r["commits"] > 0
    assert r["readings"] == 10 * r["commits"]
    assert r["p50_ms"] <= r["p99_ms"] <= r["p999_ms"] <= r["max_ms"]
    assert r["checkpoints"] == ("thread" if threaded else "in the commits")
