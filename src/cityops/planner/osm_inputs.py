"""An OpenStreetMap extract as the planner sees it, in metres (docs/PLANNER.md "Inputs").

Read with pyosmium exactly like ``cityops import-osm`` (``mapdata/osm.py``: the same file types,
the same road classes): buildings become obstacle polygons, highways the streets, squares,
pedestrian areas, parks and playgrounds the public space; objects whose tags match a category
of the categories file become key objects; street lamps, poles and signals are mounting poles;
nodes where three or more street segments meet are junctions (major when two of the streets
are of the file's ``junction_classes``). Everything is projected into one transverse Mercator
centred on the extract (the projection of ``domain/geo.py``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import osmium
import osmium.filter
import osmium.geom
import osmium.io
import osmium.osm
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from cityops.domain.entities import LonLat
from cityops.domain.geo import LocalProjection
from cityops.mapdata.osm import building_class, road_class
from cityops.planner.catalogs import Categories
from cityops.planner.yamldoc import PlannerInputError

SUFFIXES = (
    (".osm.pbf", "pbf"),
    (".pbf", "pbf"),
    (".osm.bz2", "osm.bz2"),
    (".osm.gz", "osm.gz"),
    (".osm", "osm"),
)
_BASE_KEYS = ("highway", "building", "leisure", "place", "amenity", "power", "man_made", "area")
_PUBLIC = {
    ("place", "square"),
    ("leisure", "park"),
    ("leisure", "playground"),
    ("leisure", "garden"),
    ("amenity", "marketplace"),
    ("highway", "pedestrian"),
    ("highway", "footway"),
    ("amenity", "parking"),
}
_POLES = {
    ("highway", "street_lamp"),
    ("power", "pole"),
    ("man_made", "mast"),
    ("highway", "traffic_signals"),
    ("man_made", "utility_pole"),
}


@dataclass(frozen=True)
class KeyObject:
    id: str
    """``osm:n123``, ``osm:w45``, ``osm:r6`` or ``junction:n123``."""
    category: str
    name: str | None
    geometry: BaseGeometry
    """In metres."""


@dataclass(frozen=True)
class CityMap:
    projection: LocalProjection
    bounds: tuple[float, float, float, float]
    """(min lon, min lat, max lon, max lat) of what was read."""
    buildings: tuple[shapely.Polygon, ...]
    streets: tuple[tuple[shapely.LineString, str], ...]
    """Street centre lines in metres, with their road class."""
    public_areas: tuple[shapely.Polygon, ...]
    key_objects: tuple[KeyObject, ...]
    junctions: tuple[tuple[float, float], ...]
    poles: tuple[tuple[float, float], ...]


def _osm_file(path: Path) -> osmium.io.File:
    name = path.name.lower()
    for suffix, fmt in SUFFIXES:
        if name.endswith(suffix):
            return osmium.io.File(str(path), fmt)
    raise PlannerInputError(f"{path}: not an OpenStreetMap extract (.osm, .osm.bz2, .osm.pbf)")


def _tags(obj: osmium.osm.Node | osmium.osm.Way | osmium.osm.Area) -> dict[str, str]:
    return {t.k: t.v for t in obj.tags}


def _polygons(geom: BaseGeometry) -> list[shapely.Polygon]:
    if isinstance(geom, shapely.Polygon):
        return [geom] if not geom.is_empty else []
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, shapely.Polygon)]


class _Reader:
    def __init__(self, categories: Categories) -> None:
        self.categories = categories
        self.buildings: list[BaseGeometry] = []
        self.streets: list[tuple[BaseGeometry, str]] = []
        self.public: list[BaseGeometry] = []
        self.objects: dict[str, tuple[str, str | None, BaseGeometry]] = {}
        self.poles: list[tuple[float, float]] = []
        self.degree: dict[int, int] = defaultdict(int)
        self.major: dict[int, set[int]] = defaultdict(set)
        self.where: dict[int, tuple[float, float]] = {}
        self._wkb = osmium.geom.WKBFactory()

    def node(self, node: osmium.osm.Node) -> None:
        if not node.location.valid():
            return
        tags = _tags(node)
        xy = (node.location.lon, node.location.lat)
        if any((k, v) in _POLES for k, v in tags.items()):
            self.poles.append(xy)
        category = self.categories.classify(tags)
        if category is not None:
            self.objects[f"osm:n{node.id}"] = (category, tags.get("name"), shapely.Point(xy))

    def way(self, way: osmium.osm.Way) -> None:
        tags = _tags(way)
        cls = road_class(tags)
        refs = [(n.ref, n.location) for n in way.nodes if n.location.valid()]
        coords = [(loc.lon, loc.lat) for _, loc in refs]
        if cls is not None and len(coords) >= 2:
            line = shapely.LineString(coords)
            self.streets.append((line, cls))
            major = (
                tags.get("highway", "").removesuffix("_link") in self.categories.junction_classes
            )
            for i, (ref, _) in enumerate(refs):
                self.degree[ref] += 1 if i in (0, len(refs) - 1) else 2
                self.where[ref] = coords[i]
                if major:
                    self.major[ref].add(way.id)
        category = self.categories.classify(tags)
        if category is not None and len(coords) >= 2 and not way.is_closed():
            self.objects.setdefault(
                f"osm:w{way.id}", (category, tags.get("name"), shapely.LineString(coords))
            )

    def area(self, area: osmium.osm.Area) -> None:
        tags = _tags(area)
        try:
            geom: BaseGeometry = shapely.from_wkb(self._wkb.create_multipolygon(area))
        except (RuntimeError, osmium.InvalidLocationError, shapely.errors.GEOSException):
            return  # a broken ring in a cut extract
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        if building_class(tags) is not None:
            self.buildings.append(geom)
            return
        if any((k, v) in _PUBLIC for k, v in tags.items()):
            self.public.append(geom)
        category = self.categories.classify(tags)
        if category is not None:
            fid = f"osm:{'w' if area.from_way() else 'r'}{area.orig_id()}"
            self.objects[fid] = (category, tags.get("name"), geom)


def read_city(path: Path, categories: Categories) -> CityMap:
    """Read an extract; raises :class:`PlannerInputError` when it is missing, unreadable, or
    has no streets to sample or mount on."""
    path = Path(path)
    if not path.is_file():
        raise PlannerInputError(f"{path}: no such file")
    keys = sorted(set(_BASE_KEYS) | categories.keys)
    reader = _Reader(categories)
    try:
        processor = osmium.FileProcessor(_osm_file(path))
        processor.with_areas(osmium.filter.KeyFilter(*keys))
        processor.with_filter(osmium.filter.KeyFilter(*keys))
        for obj in processor:
            if isinstance(obj, osmium.osm.Node):
                reader.node(obj)
            elif isinstance(obj, osmium.osm.Way):
                reader.way(obj)
            elif isinstance(obj, osmium.osm.Area):
                reader.area(obj)
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as err:
        raise PlannerInputError(f"{path}: not a readable OpenStreetMap file: {err}") from None
    if not reader.streets:
        raise PlannerInputError(f"{path}: no streets found (an empty or unrelated extract?)")
    return _project(reader)


def _project(r: _Reader) -> CityMap:
    lines = shapely.MultiLineString([g for g, _ in r.streets])
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in lines.bounds)
    center = LonLat((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
    projection = LocalProjection(center)
    fwd = Transformer.from_crs("EPSG:4326", local_crs(center), always_xy=True)

    def to_m(geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda xy: transform_xy(fwd, xy))

    def pt(lonlat: tuple[float, float]) -> tuple[float, float]:
        x, y = fwd.transform(*lonlat)
        return float(x), float(y)

    junctions = []
    for ref, deg in r.degree.items():
        if deg >= 3:
            junctions.append(pt(r.where[ref]))
            if len(r.major.get(ref, ())) >= 2 and "major_junction" in r.categories.names:
                r.objects[f"junction:n{ref}"] = (
                    "major_junction",
                    None,
                    shapely.Point(r.where[ref]),
                )
    return CityMap(
        projection=projection,
        bounds=(min_lon, min_lat, max_lon, max_lat),
        buildings=tuple(p for g in r.buildings for p in _polygons(to_m(g))),
        streets=tuple((_line(to_m(g)), cls) for g, cls in r.streets),
        public_areas=tuple(p for g in r.public for p in _polygons(to_m(g))),
        key_objects=tuple(
            KeyObject(fid, cat, name, to_m(geom)) for fid, (cat, name, geom) in r.objects.items()
        ),
        junctions=tuple(junctions),
        poles=tuple(pt(p) for p in r.poles),
    )


def local_crs(center: LonLat) -> str:
    """The PROJ definition of ``domain.geo.LocalProjection`` for ``center``."""
    return (
        f"+proj=tmerc +lat_0={center.lat} +lon_0={center.lon} +k=1 +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )


def transform_xy(transformer: Transformer, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Coordinates of shape (n, 2) through a pyproj transformer (one point as scalars: pyproj
    takes a 1-element array for a scalar, which NumPy deprecates)."""
    if len(xy) == 1:
        return np.array([transformer.transform(float(xy[0, 0]), float(xy[0, 1]))])
    a, b = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([a, b]).astype(np.float64)


def _line(geom: BaseGeometry) -> shapely.LineString:
    assert isinstance(geom, shapely.LineString)
    return geom
