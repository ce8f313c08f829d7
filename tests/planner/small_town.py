"""A small OpenStreetMap extract the planner tests write themselves (OSM XML), with known
geometry: two crossing main streets with traffic signals at the crossing, a side street, a
school, a playground, a park, a street lamp, and buildings - one of them standing between the
crossing and the school's corner so that line of sight matters.

Coordinates are given in metres east/north of ORIGIN and converted with a flat approximation
(good to centimetres over 300 m)."""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

ORIGIN = (25.39, 42.62)
M_PER_DEG_LAT = 111_132.0


def lonlat(x: float, y: float, origin: tuple[float, float] = ORIGIN) -> tuple[float, float]:
    lon = origin[0] + x / (M_PER_DEG_LAT * math.cos(math.radians(origin[1])))
    return round(lon, 7), round(origin[1] + y / M_PER_DEG_LAT, 7)


Rect = tuple[float, float, float, float]

BUILDINGS: dict[str, Rect] = {
    "block-ne": (12.0, 12.0, 60.0, 50.0),
    "block-nw": (-70.0, 12.0, -12.0, 60.0),
    "block-sw": (-60.0, -50.0, -12.0, -12.0),
    "block-se": (12.0, -45.0, 40.0, -12.0),
    "block-far": (60.0, -60.0, 110.0, -12.0),
}
SCHOOL: Rect = (70.0, 12.0, 120.0, 60.0)
PLAYGROUND: Rect = (-110.0, -60.0, -75.0, -15.0)
PARK: Rect = (-120.0, 15.0, -80.0, 60.0)
STREETS: dict[str, tuple[str, list[tuple[float, float]]]] = {
    "main": ("primary", [(-150.0, 0.0), (0.0, 0.0), (150.0, 0.0)]),
    "cross": ("secondary", [(0.0, -120.0), (0.0, 0.0), (0.0, 120.0)]),
    "side": ("residential", [(65.0, 0.0), (65.0, 80.0)]),
}


class _Writer:
    def __init__(self, origin: tuple[float, float]) -> None:
        self.origin = origin
        self.nodes: dict[tuple[float, float], int] = {}
        self.node_tags: dict[int, dict[str, str]] = {}
        self.ways: list[tuple[int, list[int], dict[str, str]]] = []

    def node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        key = (x, y)
        if key not in self.nodes:
            self.nodes[key] = len(self.nodes) + 1
        nid = self.nodes[key]
        if tags:
            self.node_tags.setdefault(nid, {}).update(tags)
        return nid

    def way(self, points: list[tuple[float, float]], tags: dict[str, str]) -> None:
        self.ways.append((1000 + len(self.ways), [self.node(x, y) for x, y in points], tags))

    def rect(self, r: Rect, tags: dict[str, str]) -> None:
        x0, y0, x1, y1 = r
        self.way([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], tags)

    def xml(self) -> str:
        out = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='test'>"]
        for (x, y), nid in self.nodes.items():
            lon, lat = lonlat(x, y, self.origin)
            tags = self.node_tags.get(nid, {})
            body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
            out.append(f"<node id='{nid}' version='1' lat='{lat}' lon='{lon}'>{body}</node>")
        for wid, refs, tags in self.ways:
            nds = "".join(f"<nd ref='{r}'/>" for r in refs)
            body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
            out.append(f"<way id='{wid}' version='1'>{nds}{body}</way>")
        out.append("</osm>")
        return "\n".join(out)


def write_small_town(path: Path, origin: tuple[float, float] = ORIGIN) -> Path:
    """The town with its crossing at ``origin`` (lon, lat)."""
    w = _Writer(origin)
    w.node(0.0, 0.0, {"highway": "traffic_signals"})
    w.node(-40.0, 5.0, {"highway": "street_lamp"})
    for name, (cls, pts) in STREETS.items():
        w.way(pts, {"highway": cls, "name": name})
    for name, r in BUILDINGS.items():
        w.rect(r, {"building": "yes", "name": name})
    w.rect(SCHOOL, {"amenity": "school", "name": "Test school"})
    w.rect(PLAYGROUND, {"leisure": "playground"})
    w.rect(PARK, {"leisure": "park", "name": "Test park"})
    path.write_text(w.xml(), encoding="utf-8")
    return path
