"""Read an OpenStreetMap extract (.osm, .osm.bz2, .osm.gz, .osm.pbf) into a small base map.

The console draws the base map itself (canvas renderer) so that a control room works without
any tile server. Four layers, each a GeoJSON FeatureCollection in WGS84 (lon, lat):

- ``roads``: highway ways as LineStrings, properties ``class`` (motorway, trunk, primary,
  secondary, tertiary, residential, service, path) and ``name``;
- ``buildings``: building polygons (closed ways and multipolygon relations), ``class`` is the
  value of the ``building`` tag;
- ``water``: ``natural=water`` and ``waterway=riverbank`` polygons, ``waterway=river|stream|
  canal|drain|ditch`` lines;
- ``landuse``: ``landuse=*``, ``leisure=park`` and ``natural=wood`` polygons with ``class``.

Geometries are clipped to the requested bounding box (by default the extract's own header box),
simplified with a tolerance of about half a metre, and rounded to 6 decimals (about 0.1 m).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

import osmium
import osmium.filter
import osmium.geom
import osmium.io
import osmium.osm
import shapely
from shapely.geometry import box as shapely_box
from shapely.geometry.base import BaseGeometry

BBox = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat) in WGS84 degrees."""

LayerName = Literal["roads", "buildings", "water", "landuse"]
LAYER_NAMES: tuple[LayerName, ...] = ("roads", "buildings", "water", "landuse")

Position = list[float]
"""[lon, lat]"""

METRES_PER_DEGREE = 111_320.0
SIMPLIFY_TOLERANCE_DEG = 0.5 / METRES_PER_DEGREE
"""About half a metre at the equator (less east-west at higher latitudes: still invisible)."""
PRECISION_DEG = 1e-6
DECIMALS = 6

_SUFFIX_FORMATS: tuple[tuple[str, str], ...] = (
    (".osm.pbf", "pbf"),
    (".pbf", "pbf"),
    (".osm.bz2", "osm.bz2"),
    (".osm.gz", "osm.gz"),
    (".osm", "osm"),
    (".xml", "osm"),
)

_RELEVANT_KEYS = ("highway", "building", "waterway", "natural", "landuse", "leisure")

ROAD_CLASSES: Mapping[str, str] = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "trunk",
    "trunk_link": "trunk",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "secondary_link": "secondary",
    "tertiary": "tertiary",
    "tertiary_link": "tertiary",
    "residential": "residential",
    "unclassified": "residential",
    "living_street": "residential",
    "road": "residential",
    "busway": "service",
    "service": "service",
    "track": "service",
    "pedestrian": "path",
    "footway": "path",
    "path": "path",
    "cycleway": "path",
    "bridleway": "path",
    "steps": "path",
    "corridor": "path",
}
"""OSM ``highway`` values drawn as roads, mapped to the console's few road classes."""

WATER_LINE_CLASSES = frozenset({"river", "stream", "canal", "drain", "ditch"})


class OsmImportError(Exception):
    """The file cannot be read as OpenStreetMap data (missing, wrong type or malformed)."""


class LineStringGeometry(TypedDict):
    type: Literal["LineString"]
    coordinates: list[Position]


class MultiLineStringGeometry(TypedDict):
    type: Literal["MultiLineString"]
    coordinates: list[list[Position]]


class PolygonGeometry(TypedDict):
    type: Literal["Polygon"]
    coordinates: list[list[Position]]


class MultiPolygonGeometry(TypedDict):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]


Geometry = LineStringGeometry | MultiLineStringGeometry | PolygonGeometry | MultiPolygonGeometry


class Feature(TypedDict):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: dict[str, str | None]


class FeatureCollection(TypedDict):
    type: Literal["FeatureCollection"]
    features: list[Feature]


class BaseMapPayload(TypedDict):
    bounds: list[float]
    layers: dict[str, FeatureCollection]


@dataclass(frozen=True, slots=True)
class BaseMap:
    """The four base-map layers of one extract, and the box they cover."""

    layers: dict[LayerName, FeatureCollection]
    bounds: BBox

    @property
    def stats(self) -> dict[str, int]:
        """Number of features per layer."""
        return {name: len(self.layers[name]["features"]) for name in LAYER_NAMES}

    def to_dict(self) -> BaseMapPayload:
        """The payload of ``GET /api/v1/m/{mid}/basemap``."""
        return {
            "bounds": list(self.bounds),
            "layers": {name: self.layers[name] for name in LAYER_NAMES},
        }


# ---------------------------------------------------------------------------------------------
# Tag classification (pure, no I/O)


def road_class(tags: Mapping[str, str]) -> str | None:
    """The console road class of a way, or None when it is not drawn as a road."""
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes":
        return None
    return ROAD_CLASSES.get(highway)


def water_line_class(tags: Mapping[str, str]) -> str | None:
    waterway = tags.get("waterway")
    return waterway if waterway in WATER_LINE_CLASSES else None


def building_class(tags: Mapping[str, str]) -> str | None:
    building = tags.get("building")
    if building is None or building == "no":
        return None
    return building


def water_area_class(tags: Mapping[str, str]) -> str | None:
    if tags.get("natural") == "water":
        return "water"
    if tags.get("waterway") == "riverbank":
        return "riverbank"
    return None


def landuse_class(tags: Mapping[str, str]) -> str | None:
    landuse = tags.get("landuse")
    if landuse:
        return landuse
    if tags.get("leisure") == "park":
        return "park"
    if tags.get("natural") == "wood":
        return "wood"
    return None


# ---------------------------------------------------------------------------------------------
# Geometry helpers


def _round(value: float) -> float:
    return round(float(value), DECIMALS)


def _line_coords(geom: BaseGeometry) -> list[Position]:
    return [[_round(x), _round(y)] for x, y in geom.coords]


def _polygon_coords(geom: BaseGeometry) -> list[list[Position]]:
    rings = [_line_coords(geom.exterior)]
    rings.extend(_line_coords(ring) for ring in geom.interiors)
    return rings


def _parts(geom: BaseGeometry, kind: Literal["line", "polygon"]) -> list[BaseGeometry]:
    """The non-empty parts of ``geom`` of one dimension (clipping can yield collections)."""
    wanted = "LineString" if kind == "line" else "Polygon"
    if geom.is_empty:
        return []
    if geom.geom_type == wanted:
        return [geom]
    if geom.geom_type in ("Multi" + wanted, "GeometryCollection"):
        found: list[BaseGeometry] = []
        for part in geom.geoms:
            found.extend(_parts(part, kind))
        return found
    return []


def _to_geojson(parts: list[BaseGeometry], kind: Literal["line", "polygon"]) -> Geometry | None:
    if kind == "line":
        lines = [c for c in (_line_coords(p) for p in parts) if len(c) >= 2]
        if not lines:
            return None
        if len(lines) == 1:
            return {"type": "LineString", "coordinates": lines[0]}
        return {"type": "MultiLineString", "coordinates": lines}
    polygons = [c for c in (_polygon_coords(p) for p in parts) if len(c[0]) >= 4]
    if not polygons:
        return None
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


class _Clipper:
    """Clip, simplify and round geometries into GeoJSON; track the extent of what it kept."""

    def __init__(self, clip: BBox | None) -> None:
        self._box = shapely_box(*clip) if clip is not None else None
        if self._box is not None:
            shapely.prepare(self._box)
        self.extent: BBox | None = None

    def _extend(self, geom: BaseGeometry) -> None:
        min_x, min_y, max_x, max_y = (float(v) for v in geom.bounds)
        if self.extent is not None:
            min_x = min(min_x, self.extent[0])
            min_y = min(min_y, self.extent[1])
            max_x = max(max_x, self.extent[2])
            max_y = max(max_y, self.extent[3])
        self.extent = (min_x, min_y, max_x, max_y)

    def geometry(self, geom: BaseGeometry, kind: Literal["line", "polygon"]) -> Geometry | None:
        if geom.is_empty:
            return None
        if kind == "polygon" and not geom.is_valid:
            geom = shapely.make_valid(geom)
        if self._box is not None:
            if not self._box.intersects(geom):
                return None
            if not self._box.contains(geom):
                geom = geom.intersection(self._box)
        geom = geom.simplify(SIMPLIFY_TOLERANCE_DEG, preserve_topology=True)
        geom = shapely.set_precision(geom, PRECISION_DEG)
        geojson = _to_geojson(_parts(geom, kind), kind)
        if geojson is not None:
            self._extend(geom)
        return geojson


# ---------------------------------------------------------------------------------------------
# Reading


def _osm_file(path: Path) -> osmium.io.File:
    name = path.name.lower()
    for suffix, fmt in _SUFFIX_FORMATS:
        if name.endswith(suffix):
            return osmium.io.File(str(path), fmt)
    supported = ", ".join(s for s, _ in _SUFFIX_FORMATS)
    raise OsmImportError(f"{path}: unsupported file type (expected one of {supported})")


def _header_box(processor: osmium.FileProcessor) -> BBox | None:
    box = processor.header.box()
    if not box.valid():
        return None
    bl, tr = box.bottom_left, box.top_right
    if bl.lon >= tr.lon or bl.lat >= tr.lat:
        return None
    return (bl.lon, bl.lat, tr.lon, tr.lat)


def _check_bbox(bbox: BBox) -> BBox:
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
    if not (-180.0 <= min_lon < max_lon <= 180.0 and -90.0 <= min_lat < max_lat <= 90.0):
        raise ValueError(f"bbox must be (min lon, min lat, max lon, max lat), got {bbox!r}")
    return (min_lon, min_lat, max_lon, max_lat)


def _tags(obj: osmium.osm.Way | osmium.osm.Area) -> dict[str, str]:
    return {tag.k: tag.v for tag in obj.tags}


def _way_line(way: osmium.osm.Way) -> BaseGeometry | None:
    """The way as a LineString; nodes missing from a cut extract are skipped."""
    coords: list[tuple[float, float]] = []
    for node in way.nodes:
        loc = node.location
        if loc.valid():
            coords.append((loc.lon, loc.lat))
    if len(coords) < 2:
        return None
    line: BaseGeometry = shapely.LineString(coords)
    return line


class _Collector:
    def __init__(self, clip: BBox | None) -> None:
        self.clipper = _Clipper(clip)
        self.features: dict[LayerName, list[Feature]] = {name: [] for name in LAYER_NAMES}
        self._wkb = osmium.geom.WKBFactory()

    def add(
        self,
        *,
        layer: LayerName,
        fid: str,
        geom: BaseGeometry,
        kind: Literal["line", "polygon"],
        cls: str,
        tags: Mapping[str, str],
    ) -> None:
        geometry = self.clipper.geometry(geom, kind)
        if geometry is None:
            return
        self.features[layer].append(
            {
                "type": "Feature",
                "id": fid,
                "geometry": geometry,
                "properties": {"class": cls, "name": tags.get("name")},
            }
        )

    def way(self, way: osmium.osm.Way) -> None:
        tags = _tags(way)
        road = road_class(tags)
        water = water_line_class(tags)
        if road is None and water is None:
            return
        line = _way_line(way)
        if line is None:
            return
        if road is not None:
            self.add(layer="roads", fid=f"w{way.id}", geom=line, kind="line", cls=road, tags=tags)
        if water is not None:
            self.add(layer="water", fid=f"w{way.id}", geom=line, kind="line", cls=water, tags=tags)

    def area(self, area: osmium.osm.Area) -> None:
        tags = _tags(area)
        targets: list[tuple[LayerName, str]] = []
        building = building_class(tags)
        if building is not None:
            targets.append(("buildings", building))
        water = water_area_class(tags)
        if water is not None:
            targets.append(("water", water))
        landuse = landuse_class(tags)
        if landuse is not None and building is None:
            targets.append(("landuse", landuse))
        if not targets:
            return
        try:
            geom: BaseGeometry = shapely.from_wkb(self._wkb.create_multipolygon(area))
        except (RuntimeError, osmium.InvalidLocationError, shapely.errors.GEOSException):
            return  # a broken ring in a cut extract: leave the feature out
        fid = f"{'w' if area.from_way() else 'r'}{area.orig_id()}"
        for layer, cls in targets:
            self.add(layer=layer, fid=fid, geom=geom, kind="polygon", cls=cls, tags=tags)


def load_osm(path: Path, bbox: BBox | None = None) -> BaseMap:
    """Read an OSM extract into a :class:`BaseMap`.

    ``bbox`` (min lon, min lat, max lon, max lat) clips the map; without it the extract's own
    header box is used when it has one. Raises :class:`OsmImportError` when the file is
    missing, of an unknown type, malformed, or holds nothing to draw.
    """
    path = Path(path)
    clip = _check_bbox(bbox) if bbox is not None else None
    if not path.is_file():
        raise OsmImportError(f"{path}: no such file")
    osm_file = _osm_file(path)
    try:
        processor = osmium.FileProcessor(osm_file)
        if clip is None:
            clip = _header_box(processor)
        relevant = osmium.filter.KeyFilter(*_RELEVANT_KEYS)
        processor.with_areas(osmium.filter.KeyFilter(*_RELEVANT_KEYS)).with_filter(relevant)
        collector = _Collector(clip)
        for obj in processor:
            if isinstance(obj, osmium.osm.Way):
                collector.way(obj)
            elif isinstance(obj, osmium.osm.Area):
                collector.area(obj)
    except OsmImportError:
        raise
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as err:
        raise OsmImportError(f"{path}: not a readable OpenStreetMap file: {err}") from err
    features = collector.features
    bounds = clip if clip is not None else collector.clipper.extent
    if bounds is None:
        raise OsmImportError(f"{path}: no roads, buildings, water or land use found")
    layers: dict[LayerName, FeatureCollection] = {
        name: {"type": "FeatureCollection", "features": features[name]} for name in LAYER_NAMES
    }
    min_lon, min_lat, max_lon, max_lat = bounds
    rounded = (_round(min_lon), _round(min_lat), _round(max_lon), _round(max_lat))
    return BaseMap(layers=layers, bounds=rounded)
