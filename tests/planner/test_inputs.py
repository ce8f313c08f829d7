"""The planner's inputs: survey, categories, camera models and listed sites (errors located by
file and line; outside input never raises anything but PlannerInputError), the extract read
into metres, demand, hotspots and candidate sites on a small town of known geometry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.planner.small_town import BUILDINGS, SCHOOL, lonlat, write_small_town

from cityops.domain.entities import LonLat
from cityops.domain.geo import LocalProjection
from cityops.planner.candidates import (
    MIN_GAP_M,
    STREET_SIDE_M,
    generate_sites,
    on_public_space,
)
from cityops.planner.catalogs import UserSite, load_categories, read_models, read_sites
from cityops.planner.demand import sample_demand
from cityops.planner.hotspots import Incident, hotspot_weights, incidents_from
from cityops.planner.model import SECTORS
from cityops.planner.osm_inputs import read_city
from cityops.planner.survey import load_survey, read_survey
from cityops.planner.yamldoc import PlannerInputError, parse

CATEGORIES = load_categories()


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_town(tmp_path_factory.mktemp("town") / "small.osm")


def _survey_error(text: str) -> str:
    with pytest.raises(PlannerInputError) as caught:
        read_survey(parse(text, "survey.yaml"), CATEGORIES.names)
    return str(caught.value)


def test_survey_unknown_category_is_named_with_its_line() -> None:
    text = "weights:\n  school: {safety: 1}\n  casino: {safety: 2}\n"
    message = _survey_error(text)
    assert message.startswith("survey.yaml:3: ")
    assert "unknown category 'casino'" in message


def test_survey_negative_weight_is_named_with_its_line() -> None:
    text = "weights:\n  school:\n    safety: 1\n    transport: -2\n"
    message = _survey_error(text)
    assert message.startswith("survey.yaml:4: ")
    assert "weights.school.transport must be >= 0" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weights:\n  school: {traffic: 1}\n", "unknown sector 'traffic'"),
        ("weights:\n  school: {safety: yes}\n", "must be a number"),
        ("weights:\n  school: {safety: .nan}\n", "must be finite"),
        ("weights:\n  school: {safety: 0}\n", "every weight is 0"),
        (
            "sectors: {safety: 0, transport: 0, disasters: 0}\nweights:\n  school: {safety: 1}\n",
            "at least one sector",
        ),
        ("school: {safety: 1}\n", "unknown section 'school'"),
        ("", "the file is empty"),
        ("weights: [1, 2\n", "not valid YAML"),
        ("weights:\n  school: {safety: 1}\n  school: {safety: 2}\n", "duplicate key"),
    ],
)
def test_survey_refusals(text: str, expected: str) -> None:
    assert expected in _survey_error(text)


def test_default_survey_weighs_every_category_and_missing_sectors_weigh_zero() -> None:
    survey = load_survey(None, CATEGORIES.names)
    assert set(survey.weights) == set(CATEGORIES.names)
    text = "weights:\n  school: {safety: 4}\n"
    own = read_survey(parse(text, "s.yaml"), CATEGORIES.names)
    assert own.weight("school") == {"safety": 4.0, "transport": 0.0, "disasters": 0.0}
    assert own.weight("park") == dict.fromkeys(SECTORS, 0.0)
    assert own.sector_priority == dict.fromkeys(SECTORS, 1.0)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(JSONISH.map(lambda v: json.dumps(v, allow_nan=True)), st.text(max_size=200)))
def test_any_file_gives_a_survey_models_sites_or_a_planner_input_error(text: str) -> None:
    for read in (
        lambda d: read_survey(d, CATEGORIES.names),
        read_models,
        read_sites,
    ):
        try:
            read(parse(text, "x.yaml"))
        except PlannerInputError as err:
            message = str(err)
        else:
            continue
        assert message.startswith("x.yaml")


def test_camera_models_refuse_bad_values_with_lines() -> None:
    text = (
        "models:\n  - {id: a, fov_deg: 90, range_m: 30, cost: 100}\n"
        "  - {id: a, range_m: 3, cost: 1}\n"
    )
    with pytest.raises(PlannerInputError, match=r"x.yaml:3: model 'a' is listed twice"):
        read_models(parse(text, "x.yaml"))
    with pytest.raises(PlannerInputError, match="must be at most 360"):
        read_models(parse("models: [{id: a, fov_deg: 400, range_m: 3, cost: 1}]", "x.yaml"))
    ptz = read_models(parse("models: [{id: p, fov_deg: 60, range_m: 50, cost: 9, ptz: true}]", "m"))
    assert ptz[0].ptz
    assert ptz[0].fov_deg == 360.0


def test_categories_match_tag_patterns_in_order() -> None:
    assert CATEGORIES.classify({"amenity": "school", "name": "x"}) == "school"
    assert CATEGORIES.classify({"highway": "traffic_signals"}) == "traffic_signals"
    assert CATEGORIES.classify({"bridge": "yes", "highway": "primary"}) == "bridge"
    assert CATEGORIES.classify({"bridge": "yes"}) is None  # a bridge that carries no street
    assert CATEGORIES.classify({"amenity": "bench"}) is None


def test_the_extract_in_metres(town: Path) -> None:
    city = read_city(town, CATEGORIES)
    assert len(city.buildings) == len(BUILDINGS)
    kinds = {k.category for k in city.key_objects}
    assert {"school", "playground", "park", "traffic_signals", "major_junction"} <= kinds
    # the crossing of the primary and the secondary street, at the extract's centre
    assert len(city.junctions) == 1
    assert np.allclose(city.junctions[0], (0.0, 0.0), atol=0.05)
    # the same projection as domain.geo's LocalProjection
    ref = LocalProjection(city.projection.center)
    x, y = ref.to_xy(LonLat(*lonlat(60.0, 50.0)))
    ne = next(b for b in city.buildings if b.contains(shapely.Point(36, 31)))
    assert ne.bounds == pytest.approx((12.0, 12.0, x, y), abs=0.05)
    school = next(k for k in city.key_objects if k.category == "school")
    corners = [ref.to_xy(LonLat(*lonlat(x, y))) for x, y in (SCHOOL[:2], SCHOOL[2:])]
    assert school.geometry.bounds == pytest.approx([*corners[0], *corners[1]], abs=0.01)


def test_demand_lies_outside_buildings_and_spreads_each_object_weight(town: Path) -> None:
    city = read_city(town, CATEGORIES)
    text = "weights:\n  school: {safety: 6, transport: 3}\n"
    survey = read_survey(parse(text, "s.yaml"), CATEGORIES.names)
    demand = sample_demand(city, CATEGORIES, survey)
    pts = shapely.points([(p.x, p.y) for p in demand])
    for b in city.buildings:
        assert not shapely.within(pts, b).any()
    total = {s: sum(p.weights[s] for p in demand) for s in SECTORS}
    assert total == pytest.approx({"safety": 6.0, "transport": 3.0, "disasters": 0.0})
    school = shapely.box(*SCHOOL)
    assert all(school.distance(shapely.Point(p.x, p.y)) <= 60.0 + 1e-6 for p in demand)


def test_an_incident_adds_its_weight_once_spread_by_the_kernel() -> None:
    pts = np.array([(x, 0.0) for x in range(-200, 201, 10)], dtype=np.float64)
    hot = hotspot_weights(pts, [Incident(0.0, 0.0, "transport")], {"transport": 2.0})
    assert hot[:, SECTORS.index("transport")].sum() == pytest.approx(2.0)
    assert hot[:, SECTORS.index("safety")].sum() == 0.0
    near, far = hot[20, 1], hot[24, 1]  # at 0 m and at 40 m
    assert near > far > 0.0
    assert hot[0, 1] == 0.0  # 200 m away: beyond the kernel's reach
    rows = [(25.39, 42.62, "disaster"), (25.39, 42.62, "environment")]
    found = incidents_from(rows, lambda lon, lat: (1.0, 2.0))
    assert found == [Incident(1.0, 2.0, "disasters")]


def test_sites_are_never_inside_buildings_and_a_listed_one_is_kept(town: Path) -> None:
    city = read_city(town, CATEGORIES)
    survey = load_survey(None, CATEGORIES.names)
    demand = sample_demand(city, CATEGORIES, survey)
    listed = [UserSite("mast-1", *lonlat(-5.0, -5.0), "sites.yaml:2")]
    sites = generate_sites(city, demand, 80.0, listed)
    assert sites[0].id == "mast-1"
    assert sites[0].kind == "user"
    kinds = {s.kind for s in sites}
    assert {"pole", "street", "corner"} <= kinds  # the junction is merged into mast-1 (7 m)
    pts = shapely.points([(s.x, s.y) for s in sites])
    for b in city.buildings:
        assert not shapely.within(pts, b).any()
    assert on_public_space(city, np.array([(s.x, s.y) for s in sites])).all()
    streets = shapely.MultiLineString([line for line, _ in city.streets])
    yard = np.array([[30.0, 55.0]])  # behind block-ne, 55 m from the main street, 35 m from side
    assert streets.distance(shapely.Point(yard[0])) > STREET_SIDE_M
    assert not on_public_space(city, yard).any()
    gaps = [np.hypot(a.x - b.x, a.y - b.y) for i, a in enumerate(sites) for b in sites[i + 1 :]]
    assert min(gaps) >= MIN_GAP_M
    inside = [UserSite("roof", *lonlat(30.0, 30.0), "sites.yaml:7")]
    with pytest.raises(PlannerInputError, match=r"sites.yaml:7: site 'roof' is inside a building"):
        generate_sites(city, demand, 80.0, inside)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.osm.pbf", b"\x00\x01not a pbf at all" * 50, "not a readable OpenStreetMap"),
        ("broken.osm", b"<osm><node id='1' lat='x' lon='y'", "not a readable OpenStreetMap"),
        ("empty.osm", b"<?xml version='1.0'?><osm version='0.6'></osm>", "no streets found"),
        ("broken.osm.bz2", b"BZh91AY&SYgarbage", "not a readable OpenStreetMap"),
        ("town.geojson", b"{}", "not an OpenStreetMap extract"),
    ],
)
def test_bad_extracts_are_refused_clearly(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PlannerInputError, match=expected):
        read_city(path, CATEGORIES)
