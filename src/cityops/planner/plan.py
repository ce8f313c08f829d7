"""A whole planning run: extract, survey, models, incidents and existing cameras in; the chosen
cameras, their views and the coverage curve out (docs/PLANNER.md "Command"). Pure apart from
reading the input files; the caller (``cityops plan``) writes the results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely

from cityops.domain.entities import LonLat
from cityops.planner import optimize
from cityops.planner.candidates import generate_sites
from cityops.planner.catalogs import Categories, UserSite, load_categories, load_models
from cityops.planner.coverage import coverage_matrix
from cityops.planner.demand import sample_demand
from cityops.planner.hotspots import Incident, incidents_from
from cityops.planner.model import (
    CameraModel,
    CoverageMatrix,
    CurvePoint,
    DemandPoint,
    ExistingCamera,
    Plan,
    Site,
)
from cityops.planner.osm_inputs import CityMap, KeyObject, read_city
from cityops.planner.survey import Survey, load_survey
from cityops.planner.visibility import Obstacles, view_polygon
from cityops.planner.yamldoc import PlannerInputError

Step = Callable[[str], None]
CURVE_POINTS = 8


@dataclass(frozen=True)
class PlanInputs:
    osm: Path
    budget: float
    survey: Path | None = None
    models: Path | None = None
    categories: Path | None = None
    sites: Sequence[UserSite] = ()
    incidents: Sequence[tuple[float, float, str]] = ()
    """(lon, lat, incident sector) of past incidents."""
    existing: Sequence[tuple[float, float, float, float, float]] = ()
    """(lon, lat, heading, fov, range) of the cameras already there."""
    street_every_m: float = 40.0
    time_limit_s: float = 20.0


@dataclass(frozen=True)
class ChosenView:
    site: Site
    model: CameraModel
    heading_deg: float | None
    view: shapely.Polygon
    """In metres."""
    gain: dict[str, float]
    gain_weighted: float
    cost: float


@dataclass(frozen=True)
class PlanResult:
    city: CityMap
    survey: Survey
    models: tuple[CameraModel, ...]
    demand: tuple[DemandPoint, ...]
    sites: tuple[Site, ...]
    matrix: CoverageMatrix
    plan: Plan
    chosen: tuple[ChosenView, ...]
    curve: tuple[CurvePoint, ...]
    key_covered: dict[str, float] = field(default_factory=dict)
    """Key object id -> share of its demand seen after the plan (0..1)."""
    existing: tuple[tuple[ExistingCamera, shapely.Polygon], ...] = ()
    """The cameras already there, with what each sees (metres)."""

    def key_object(self, oid: str) -> KeyObject:
        return next(k for k in self.city.key_objects if k.id == oid)


def check_budget(budget: float, models: Sequence[CameraModel]) -> None:
    cheapest = min(m.cost for m in models)
    if not budget >= cheapest:
        raise PlannerInputError(
            f"budget {budget:g} is below the cheapest camera ({cheapest:g}): nothing can be bought"
        )


def curve_budgets(budget: float, cheapest: float, n: int = CURVE_POINTS) -> list[float]:
    """``n`` budgets from the cheapest camera up to ``budget`` (the last is ``budget``)."""
    return sorted({round(float(b), 2) for b in np.linspace(cheapest, budget, n)})


def run_plan(inputs: PlanInputs, step: Step = lambda _: None) -> PlanResult:
    """Everything from the files to the chosen cameras; raises PlannerInputError on bad input
    (before any heavy work where it can be told early)."""
    step("reading configuration")
    categories: Categories = load_categories(inputs.categories)
    survey = load_survey(inputs.survey, categories.names)
    models = load_models(inputs.models)
    check_budget(inputs.budget, models)
    step("reading the extract")
    city = read_city(inputs.osm, categories)

    def to_xy(lon: float, lat: float) -> tuple[float, float]:
        return city.projection.to_xy(LonLat(lon, lat))

    incidents: list[Incident] = incidents_from(inputs.incidents, to_xy)
    step("sampling demand")
    demand = sample_demand(city, categories, survey, incidents)
    if not demand:
        raise PlannerInputError(f"{inputs.osm}: no demand: no key object or street has a weight")
    reach = max(m.range_m for m in models)
    sites = generate_sites(city, demand, reach, inputs.sites, every_m=inputs.street_every_m)
    if not sites:
        raise PlannerInputError(f"{inputs.osm}: no mounting site within reach of the demand")
    step("computing visibility")
    obstacles = Obstacles(city.buildings)
    existing = [
        ExistingCamera(*to_xy(lon, lat), heading, fov, rng)
        for lon, lat, heading, fov, rng in inputs.existing
    ]
    matrix = coverage_matrix(demand, sites, models, obstacles, existing)
    step("optimising")
    priority = dict(survey.sector_priority)
    plan = optimize.solve(matrix, priority, inputs.budget, time_limit_s=inputs.time_limit_s)
    step("coverage curve")
    cheapest = min(m.cost for m in models)
    curve = optimize.coverage_curve(
        matrix,
        priority,
        curve_budgets(inputs.budget, cheapest),
        method="heuristic",
        time_limit_s=max(1.0, inputs.time_limit_s / 8),
    )
    step("views")
    site_by_id = {s.id: s for s in sites}
    model_by_id = {m.id: m for m in models}
    chosen = []
    for c in plan.chosen:
        site, model = site_by_id[c.candidate.site_id], model_by_id[c.candidate.model_id]
        heading = c.candidate.heading_deg
        view = view_polygon(site.x, site.y, heading, model.fov_deg, model.range_m, obstacles)
        chosen.append(
            ChosenView(site, model, heading, view, dict(c.gain), c.gain_weighted, c.candidate.cost)
        )
    result = PlanResult(
        city,
        survey,
        models,
        tuple(demand),
        tuple(sites),
        matrix,
        plan,
        tuple(chosen),
        tuple(curve),
        existing=tuple(
            (e, view_polygon(e.x, e.y, e.heading_deg, e.fov_deg, e.range_m, obstacles))
            for e in existing
        ),
    )
    return _with_key_coverage(result, categories)


def covered_after(result: PlanResult) -> npt.NDArray[np.bool_]:
    """Per demand point: seen by an existing camera or a chosen one."""
    seen = result.matrix.already_covered.copy()
    index = {c: j for j, c in enumerate(result.matrix.candidates)}
    for c in result.plan.chosen:
        col = result.matrix.covers[:, [index[c.candidate]]].toarray().ravel()
        seen |= col.astype(bool)
    return seen


def _with_key_coverage(result: PlanResult, categories: Categories) -> PlanResult:
    seen = covered_after(result)
    pts = shapely.points([(p.x, p.y) for p in result.demand])
    tree = shapely.STRtree(pts)
    weight = result.matrix.weights.sum(axis=1)
    shares = {}
    for obj in result.city.key_objects:
        if not any(result.survey.weight(obj.category).values()):
            continue
        near = tree.query(
            obj.geometry, predicate="dwithin", distance=categories.radius(obj.category)
        )
        total = float(weight[near].sum())
        shares[obj.id] = float(weight[near][seen[near]].sum()) / total if total > 0 else 0.0
    result.key_covered.update(shares)
    return result
