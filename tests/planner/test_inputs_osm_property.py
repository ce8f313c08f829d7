"""The extract reader on arbitrary OSM XML (Hypothesis): random nodes, ways and tags, cut
extracts with missing nodes, garbage appended. It gives a CityMap or a PlannerInputError, never
another exception, and what it gives is consistent: every key object's category is a known one,
buildings are valid polygons, and junctions and poles are finite points."""

from __future__ import annotations

import math
from pathlib import Path
from tempfile import TemporaryDirectory
from xml.sax.saxutils import quoteattr

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.planner.catalogs import load_categories
from cityops.planner.osm_inputs import read_city
from cityops.planner.yamldoc import PlannerInputError

CATEGORIES = load_categories()
KEYS = [
    "highway",
    "building",
    "amenity",
    "leisure",
    "bridge",
    "waterway",
    "railway",
    "name",
    "area",
]
VALUES = [
    "primary",
    "residential",
    "yes",
    "school",
    "park",
    "playground",
    "traffic_signals",
    "station",
    "riverbank",
    "footway",
    "no",
    "x",
]

tags = st.dictionaries(
    st.sampled_from(KEYS), st.sampled_from(VALUES) | st.text(max_size=8), max_size=3
)
node = st.tuples(st.floats(-0.002, 0.002), st.floats(-0.002, 0.002), tags)
way = st.tuples(st.lists(st.integers(1, 14), min_size=1, max_size=6), st.booleans(), tags)


def _xml(
    nodes: list[tuple[float, float, dict[str, str]]],
    ways: list[tuple[list[int], bool, dict[str, str]]],
    tail: str,
) -> str:
    def tagxml(t: dict[str, str]) -> str:
        return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in t.items())

    out = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6'>"]
    for i, (dx, dy, t) in enumerate(nodes, start=1):
        out.append(
            f"<node id='{i}' version='1' lat='{42.6 + dy}' lon='{25.4 + dx}'>{tagxml(t)}</node>"
        )
    for j, (refs, closed, t) in enumerate(ways, start=100):
        ids = [*refs, refs[0]] if closed else refs
        nds = "".join(f"<nd ref='{r}'/>" for r in ids)
        out.append(f"<way id='{j}' version='1'>{nds}{tagxml(t)}</way>")
    return "\n".join(out) + "\n</osm>" + tail


@settings(max_examples=60, deadline=None)
@given(
    st.lists(node, max_size=12),
    st.lists(way, max_size=6),
    st.sampled_from(["", "<garbage", "\x00", "<node id='x'/>"]),
)
def test_any_extract_reads_or_is_refused(
    nodes: list[tuple[float, float, dict[str, str]]],
    ways: list[tuple[list[int], bool, dict[str, str]]],
    tail: str,
) -> None:
    refusal: str | None = None
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.osm"
        path.write_text(_xml(nodes, ways, tail), encoding="utf-8")
        try:
            city = read_city(path, CATEGORIES)
        except PlannerInputError as err:
            refusal = str(err)
    if refusal is not None:
        assert refusal.startswith(str(path))
        return
    assert city.streets
    assert all(k.category in CATEGORIES.names for k in city.key_objects)
    assert all(b.is_valid and not b.is_empty for b in city.buildings)
    for x, y in (*city.junctions, *city.poles):
        assert math.isfinite(x)
        assert math.isfinite(y)
