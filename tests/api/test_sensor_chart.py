"""A sensor's chart over HTTP: the window picks raw readings, hourly or daily rollups, the
answer has the same shape at every resolution and says which one it used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from cityops.app import ControlCenter
from cityops.domain.observations import Reading
from cityops.services import rollups
from cityops.store import observations_repo

BASE = "/api/v1/m/testtown/sensors/river-1/readings"
END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
START = END - timedelta(days=100)


@pytest.fixture
def history(center: ControlCenter) -> list[Reading]:
    """A reading every 20 minutes over the last 100 days."""
    readings = [
        Reading("testtown", "river-1", START + timedelta(minutes=20 * i), float(i % 11))
        for i in range(100 * 72)
    ]
    with center.db.begin() as conn:
        observations_repo.insert_readings(conn, readings)
    rollups.run_pending(center.db)
    return readings


def _get(client: TestClient, days: float, **extra: str) -> tuple[str, list[dict[str, object]]]:
    since = (END - timedelta(days=days)).isoformat()
    r = client.get(BASE, params={"since": since, "until": END.isoformat(), **extra})
    assert r.status_code == 200, r.text
    return r.headers["x-resolution"], r.json()


@pytest.mark.parametrize(
    ("days", "resolution", "points"),
    [(1 / 24, "raw", 3), (1, "raw", 72), (7, "hour", 7 * 24), (90, "day", 90)],
)
def test_the_window_picks_the_resolution(
    client: TestClient, history: list[Reading], days: float, resolution: str, points: int
) -> None:
    used, rows = _get(client, days)
    assert used == resolution
    assert len(rows) == points
    assert all(set(p) == {"ts", "value", "min", "max", "count"} for p in rows)
    since = END - timedelta(days=days)
    want = [r.value for r in history if since <= r.ts < END]
    assert sum(int(p["count"]) for p in rows) == len(want)  # type: ignore[call-overload]
    assert min(float(p["min"]) for p in rows) == min(want)  # type: ignore[arg-type]
    assert max(float(p["max"]) for p in rows) == max(want)  # type: ignore[arg-type]


def test_a_resolution_can_be_asked_for(client: TestClient, history: list[Reading]) -> None:
    used, rows = _get(client, 2, resolution="hour")
    assert (used, len(rows)) == ("hour", 48)
    assert client.get(BASE, params={"resolution": "minute"}).status_code == 422
