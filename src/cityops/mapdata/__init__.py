"""Offline base map for the operator console, built from OpenStreetMap extracts."""

from cityops.mapdata.osm import (
    LAYER_NAMES,
    BaseMap,
    Feature,
    FeatureCollection,
    OsmImportError,
    load_osm,
)

__all__ = [
    "LAYER_NAMES",
    "BaseMap",
    "Feature",
    "FeatureCollection",
    "OsmImportError",
    "load_osm",
]
