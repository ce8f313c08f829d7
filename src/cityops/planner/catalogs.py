"""The planner's configuration files: which OSM tags make a key object of which category, the
camera models on offer, and mounting sites a user lists (docs/PLANNER.md "Inputs"). The
defaults ship in ``planner/defaults/``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cityops.planner.model import CameraModel
from cityops.planner.yamldoc import Doc, PlannerInputError, load, mapping, number, parse

DEFAULT_RADIUS_M = 60.0

TagPattern = Mapping[str, str]


@dataclass(frozen=True)
class Category:
    name: str
    patterns: tuple[TagPattern, ...]
    radius_m: float


@dataclass(frozen=True)
class Categories:
    categories: tuple[Category, ...]
    junction_classes: frozenset[str]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.categories)

    def radius(self, name: str) -> float:
        return next((c.radius_m for c in self.categories if c.name == name), DEFAULT_RADIUS_M)

    def classify(self, tags: Mapping[str, str]) -> str | None:
        """The first category one of whose patterns the tags match."""
        for category in self.categories:
            for pattern in category.patterns:
                if all(k in tags and (v == "*" or tags[k] == v) for k, v in pattern.items()):
                    return category.name
        return None

    @property
    def keys(self) -> frozenset[str]:
        """Every tag key some pattern needs (to filter the extract)."""
        return frozenset(k for c in self.categories for p in c.patterns for k in p)


@dataclass(frozen=True)
class UserSite:
    id: str
    lon: float
    lat: float
    line: str
    """Where it was listed (file:line), for errors."""


def _default(name: str) -> Doc:
    text = resources.files("cityops.planner").joinpath(f"defaults/{name}").read_text()
    return parse(text, f"default {name}")


def _text(doc: Doc, key: tuple[str | int, ...], value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        raise doc.error(key, f"{'.'.join(map(str, key))} must be a non-empty text")
    return str(value)


def read_categories(doc: Doc) -> Categories:
    top = mapping(doc, (), doc.data)
    cats = mapping(doc, ("categories",), top.get("categories"))
    found: list[Category] = []
    for name, body in cats.items():
        spec = mapping(doc, ("categories", name), body)
        raw = spec.get("tags", [])
        if not isinstance(raw, list):
            raise doc.error(("categories", name, "tags"), "tags must be a list of mappings")
        patterns = []
        for i, pattern in enumerate(raw):
            key = ("categories", name, "tags", i)
            items = mapping(doc, key, pattern).items()
            patterns.append({str(k): _text(doc, (*key, k), v) for k, v in items})
        radius = spec.get("radius_m", DEFAULT_RADIUS_M)
        radius_m = number(doc, ("categories", name, "radius_m"), radius, minimum=1.0)
        found.append(Category(name, tuple(patterns), radius_m))
    junctions = top.get("junction_classes", [])
    if not isinstance(junctions, list):
        raise doc.error(("junction_classes",), "junction_classes must be a list")
    classes = frozenset(_text(doc, ("junction_classes", i), v) for i, v in enumerate(junctions))
    return Categories(tuple(found), classes)


def load_categories(path: Path | None = None) -> Categories:
    return read_categories(load(path) if path else _default("categories.yaml"))


def read_models(doc: Doc) -> tuple[CameraModel, ...]:
    top = mapping(doc, (), doc.data)
    raw = top.get("models")
    if not isinstance(raw, list) or not raw:
        raise doc.error(("models",), "models must be a non-empty list")
    models: list[CameraModel] = []
    for i, item in enumerate(raw):
        spec = mapping(doc, ("models", i), item)
        mid = _text(doc, ("models", i, "id"), spec.get("id"))
        if any(m.id == mid for m in models):
            raise doc.error(("models", i, "id"), f"model {mid!r} is listed twice")
        ptz = spec.get("ptz", False)
        if not isinstance(ptz, bool):
            raise doc.error(("models", i, "ptz"), "ptz must be true or false")
        fov = number(doc, ("models", i, "fov_deg"), spec.get("fov_deg", 360.0), minimum=1.0)
        if fov > 360.0:
            raise doc.error(("models", i, "fov_deg"), "fov_deg must be at most 360")
        step = spec.get("heading_step_deg", 30.0)
        step_deg = number(doc, ("models", i, "heading_step_deg"), step, minimum=1.0)
        models.append(
            CameraModel(
                id=mid,
                fov_deg=360.0 if ptz else fov,
                range_m=number(doc, ("models", i, "range_m"), spec.get("range_m"), minimum=1.0),
                cost=number(doc, ("models", i, "cost"), spec.get("cost"), minimum=0.01),
                ptz=ptz,
                heading_step_deg=min(step_deg, 360.0),
            )
        )
    return tuple(models)


def load_models(path: Path | None = None) -> tuple[CameraModel, ...]:
    return read_models(load(path) if path else _default("cameras.yaml"))


def read_sites(doc: Doc) -> tuple[UserSite, ...]:
    """``sites: [{id: pole-17, lon: 25.39, lat: 42.62}, ...]``"""
    raw = mapping(doc, (), doc.data).get("sites")
    if not isinstance(raw, list):
        raise doc.error(("sites",), "sites must be a list of {id, lon, lat}")
    sites = []
    for i, item in enumerate(raw):
        spec = mapping(doc, ("sites", i), item)
        lon = number(doc, ("sites", i, "lon"), spec.get("lon"), minimum=-180.0)
        lat = number(doc, ("sites", i, "lat"), spec.get("lat"), minimum=-90.0)
        if lon > 180.0 or lat > 90.0:
            raise doc.error(("sites", i), "lon/lat out of range")
        sid = _text(doc, ("sites", i, "id"), spec.get("id", f"user-{i + 1}"))
        sites.append(UserSite(sid, lon, lat, f"{doc.name}:{doc.lines.get(('sites', i), '?')}"))
    return tuple(sites)


def load_sites(path: Path) -> tuple[UserSite, ...]:
    return read_sites(load(path))


__all__ = ["Categories", "PlannerInputError", "UserSite", "load_categories", "load_models"]
