"""The survey: how much each category of key object matters to each sector (safety, transport,
disasters), as collected from the people responsible for them (docs/PLANNER.md "Inputs").

The file is YAML::

    sectors:  {safety: 1, transport: 1, disasters: 1}       # optional priorities (default 1)
    weights:
      school: {safety: 5, transport: 3, disasters: 3}       # category -> sector -> weight >= 0
    hotspots: {safety: 3, transport: 3, disasters: 3}       # optional: incident density's weight

A category the categories file does not define, an unknown sector, a negative or non-numeric
weight is an error naming the file and line."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cityops.planner.model import SECTORS
from cityops.planner.yamldoc import Doc, PlannerInputError, load, mapping, number, parse


@dataclass(frozen=True)
class Survey:
    weights: Mapping[str, Mapping[str, float]]
    """Category -> sector -> weight (every sector present)."""
    sector_priority: Mapping[str, float]
    hotspots: Mapping[str, float]
    source: str

    def weight(self, category: str) -> dict[str, float]:
        return dict(self.weights.get(category, dict.fromkeys(SECTORS, 0.0)))

    @property
    def heaviest(self) -> float:
        """The largest weight of any category in any sector (hotspots are scaled to it)."""
        return max((w for ws in self.weights.values() for w in ws.values()), default=0.0)


def _sectors(doc: Doc, key: tuple[str, ...], value: object, default: float) -> dict[str, float]:
    given = mapping(doc, key, value)
    for name in given:
        if name not in SECTORS:
            raise doc.error(
                (*key, name), f"unknown sector {name!r} (sectors: {', '.join(SECTORS)})"
            )
    return {s: number(doc, (*key, s), given[s]) if s in given else default for s in SECTORS}


def read_survey(doc: Doc, categories: Collection[str]) -> Survey:
    top = mapping(doc, (), doc.data)
    for name in top:
        if name not in ("sectors", "weights", "hotspots"):
            raise doc.error((name,), f"unknown section {name!r} (sectors, weights, hotspots)")
    if "weights" not in top:
        raise doc.error((), "the survey has no `weights` section")
    weights: dict[str, dict[str, float]] = {}
    for category, row in mapping(doc, ("weights",), top["weights"]).items():
        if category not in categories:
            known = ", ".join(sorted(categories))
            raise doc.error(
                ("weights", category), f"unknown category {category!r} (known: {known})"
            )
        weights[category] = _sectors(doc, ("weights", category), row, 0.0)
    priority = _sectors(doc, ("sectors",), top.get("sectors", {}), 1.0)
    if not any(priority.values()):
        raise doc.error(("sectors",), "at least one sector needs a priority above 0")
    hotspots = _sectors(doc, ("hotspots",), top.get("hotspots", {}), 0.0)
    if not any(w for ws in weights.values() for w in ws.values()) and not any(hotspots.values()):
        raise doc.error(("weights",), "every weight is 0: nothing would be worth covering")
    return Survey(weights, priority, hotspots, doc.name)


def load_survey(path: Path | None, categories: Collection[str]) -> Survey:
    """The survey in ``path``, or the default one shipped with CityOps."""
    if path is None:
        text = resources.files("cityops.planner").joinpath("defaults/survey.yaml").read_text()
        return read_survey(parse(text, "default survey.yaml"), categories)
    return read_survey(load(path), categories)


__all__ = ["PlannerInputError", "Survey", "load_survey", "read_survey"]
