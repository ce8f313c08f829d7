"""A plan stored for a municipality by ``cityops plan --municipality`` (its configured cameras
count as covering, its incidents as hotspots) and read back over the API: the list, one plan as
GeoJSON, nothing of another municipality's, and the plan is immutable text exactly as written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from tests.planner.small_town import lonlat, write_small_town
from tests.town import MUNI, NEIGHBOUR, account, neighbour_yaml, start_center
from typer.testing import CliRunner

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.cli import app
from cityops.domain.access import Role
from cityops.store import plans_repo
from cityops.store import tables as t


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlCenter]:
    data = tmp_path_factory.mktemp("plans")
    started = start_center(data, with_mqtt=False, also=[neighbour_yaml(data)])
    try:
        yield started
    finally:
        started.stop()


CROSSING = (25.3925, 42.6194)
"""The test town's crossing, which its cam-a (98 m west, heading east) looks at."""


def _incident(center: ControlCenter, x: float, y: float) -> None:
    lon, lat = lonlat(x, y, CROSSING)
    now = datetime.now(UTC)
    row = {
        "municipality": MUNI,
        "type": "flood",
        "sector": "disaster",
        "severity": "severe",
        "status": "closed",
        "title": "test",
        "lon": lon,
        "lat": lat,
        "created_at": now,
        "updated_at": now,
        "cameras": [],
    }
    with center.db.begin() as conn:
        conn.execute(insert(t.incidents).values([row] * 5))


def test_a_stored_plan_counts_the_towns_cameras_and_incidents_and_is_served(
    center: ControlCenter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _incident(center, -140.0, 2.0)
    town = write_small_town(tmp_path / "small.osm", CROSSING)
    monkeypatch.setenv("CITYOPS_DATABASE_URL", center.settings.db_url)
    out = tmp_path / "out"
    args = [
        "plan",
        "--osm",
        str(town),
        "--budget",
        "3000",
        "--municipality",
        MUNI,
        "--out",
        str(out),
        "--time-limit",
        "3",
    ]
    unknown = [("nowhere" if a == MUNI else a) for a in args]
    refused = CliRunner().invoke(app, unknown)
    assert refused.exit_code == 2
    assert "'nowhere' is not configured here" in " ".join(refused.output.split())
    assert not out.exists()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "stored as plan" in result.output
    written = json.loads((out / "plan.geojson").read_text())
    assert written["plan"]["baseline"] > 0  # cam-a sees the main street
    kinds = [f["properties"]["kind"] for f in written["features"]]
    assert kinds.count("existing_camera") == kinds.count("existing_view") >= 2
    with center.db.connect() as conn:
        (stored,) = plans_repo.list_plans(conn, MUNI)
        assert plans_repo.list_plans(conn, NEIGHBOUR) == []
        places = plans_repo.incident_places(conn, MUNI)
        assert places.count((*lonlat(-140.0, 2.0, CROSSING), "disaster")) == 5
        assert len(plans_repo.camera_views(conn, MUNI)) >= 2
    reader = account(center.db, "plan-reader", role=Role.ANALYST, installation_admin=False)
    auditor = account(center.db, "plan-auditor", role=Role.AUDITOR, installation_admin=False)
    with TestClient(create_api(center)) as client:
        client.headers["Authorization"] = f"Bearer {reader}"
        listed = client.get(f"/api/v1/m/{MUNI}/plans")
        assert listed.status_code == 200
        (item,) = listed.json()
        assert item["id"] == stored.id
        assert item["cameras"] == written["plan"]["cameras"]
        assert item["coverage"] == pytest.approx(
            written["plan"]["objective"] / written["plan"]["total"]
        )
        one = client.get(f"/api/v1/m/{MUNI}/plans/{stored.id}")
        assert one.status_code == 200
        assert one.headers["content-type"].startswith("application/geo+json")
        assert one.json() == written
        assert client.get(f"/api/v1/m/{MUNI}/plans/{stored.id + 1}").status_code == 404
        assert client.get(f"/api/v1/m/{NEIGHBOUR}/plans/{stored.id}").status_code == 404
        assert client.get(f"/api/v1/m/{MUNI}/plans/0").status_code == 422
        client.headers["Authorization"] = f"Bearer {auditor}"
        assert client.get(f"/api/v1/m/{MUNI}/plans").status_code == 403
    hot = [f for f in written["features"] if f["properties"]["kind"] == "key_object"]
    assert hot  # key objects are listed with their coverage
