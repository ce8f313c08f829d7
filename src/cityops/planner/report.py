"""The plan as an HTML report that opens offline (docs/PLANNER.md "Report"): a map drawn by the
console's vendored Leaflet (copied next to the report, no network), the chosen cameras, coverage
per sector before and after, the coverage curve as inline SVG, the cost.

``write_outputs`` writes the whole result into a fresh directory and renames it into place, so
a failure leaves the previous output (or nothing), never half of one."""

from __future__ import annotations

import json
import shutil
import tempfile
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from cityops.planner.geojson import basemap_geojson, plan_geojson
from cityops.planner.model import SECTORS
from cityops.planner.plan import PlanResult
from cityops.planner.yamldoc import PlannerInputError

LEAFLET = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "leaflet"
MARKER = "plan.geojson"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole > 0 else "–"


def _heading(h: float | None) -> str:
    return "PTZ" if h is None else f"{h:.0f}°"


def _money(v: float) -> str:
    return f"{v:,.0f}"


def curve_svg(
    curve: list[dict[str, Any]], total: float, width: int = 640, height: int = 260
) -> str:
    """Coverage (share of all weighted demand) against budget, with the proven bound dashed."""
    if not curve or total <= 0:
        return "<p class='note'>no coverage curve</p>"
    left, bottom, top, right = 56, 36, 12, 16
    w, h = width - left - right, height - top - bottom
    bmax = max(c["budget"] for c in curve) or 1.0

    def xy(budget: float, value: float) -> str:
        return f"{left + w * budget / bmax:.1f},{top + h * (1 - min(value / total, 1.0)):.1f}"

    line = " ".join(xy(c["budget"], c["objective"]) for c in curve)
    bound = " ".join(xy(c["budget"], c["upper_bound"]) for c in curve)
    ticks = "".join(
        f"<text x='{left - 6}' y='{top + h * (1 - f) + 4:.1f}' text-anchor='end'>{f:.0%}</text>"
        for f in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    xticks = "".join(
        f"<text x='{left + w * c['budget'] / bmax:.1f}' y='{top + h + 16}' "
        f"text-anchor='middle'>{_money(c['budget'])}</text>"
        for c in curve[:: max(1, len(curve) // 5)]
    )
    dots = "".join(
        f"<circle cx='{xy(c['budget'], c['objective']).split(',')[0]}' "
        f"cy='{xy(c['budget'], c['objective']).split(',')[1]}' r='3' fill='#1565c0'>"
        f"<title>{_money(c['budget'])}: {_pct(c['objective'], total)}</title></circle>"
        for c in curve
    )
    return (
        f"<svg class='curve' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='coverage against budget'>"
        f"<line class='axis' x1='{left}' y1='{top + h}' x2='{left + w}' y2='{top + h}'/>"
        f"<line class='axis' x1='{left}' y1='{top}' x2='{left}' y2='{top + h}'/>"
        f"<polyline class='bound' points='{bound}'/><polyline class='line' points='{line}'/>"
        f"{dots}{ticks}{xticks}"
        f"<text x='{left + w / 2}' y='{height - 4}' text-anchor='middle'>budget</text></svg>"
    )


def render_html(geo: dict[str, Any], title: str) -> str:
    s = geo["plan"]
    cams = [f["properties"] for f in geo["features"] if f["properties"]["kind"] == "camera"]
    keys = [f["properties"] for f in geo["features"] if f["properties"]["kind"] == "key_object"]
    rows = "".join(
        f"<tr><td>{c['rank']}</td><td>{escape(c['site'])} ({escape(c['site_kind'])})</td>"
        f"<td>{escape(c['model'])}</td>"
        f"<td>{_heading(c['heading_deg'])}</td>"
        + "".join(f"<td>{c['gain'].get(k, 0.0):.2f}</td>" for k in SECTORS)
        + f"<td>{_money(c['cost'])}</td></tr>"
        for c in cams
    )
    sectors = "".join(
        f"<tr><td>{k}</td><td>{s['sector_priority'].get(k, 0):g}</td>"
        f"<td>{_pct(s['covered_before'].get(k, 0), s['sector_totals'].get(k, 0))}</td>"
        f"<td>{_pct(s['covered_after'].get(k, 0), s['sector_totals'].get(k, 0))}</td></tr>"
        for k in SECTORS
    )
    uncovered = [k for k in keys if k["uncovered"]]
    missing = "".join(
        f"<li>{escape(k['name'] or k['category'])} ({escape(k['category'])}): "
        f"{k['covered']:.0%}</li>"
        for k in uncovered[:50]
    )
    gap = "proven optimal" if s["gap"] <= 1e-9 else f"within {s['gap']:.2%} of the proven bound"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="assets/leaflet.css"><link rel="stylesheet" href="assets/report.css">
</head><body>
<h1>{escape(title)}</h1>
<p class="meta">{s["cameras"]} cameras for {_money(s["cost"])} of a budget of {_money(s["budget"])};
coverage {_pct(s["objective"], s["total"])} of the weighted demand (existing cameras
{_pct(s["baseline"], s["total"])}); {gap} ({escape(s["method"])}, upper bound
{_pct(s["upper_bound"], s["total"])}).</p>
<div id="map"></div>
<h2>Chosen cameras</h2>
<table id="cameras"><thead><tr><th>#</th><th>site</th><th>model</th><th>heading</th>
{"".join(f"<th>gain {k}</th>" for k in SECTORS)}<th>cost</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>Coverage per sector</h2>
<table id="sectors"><thead><tr><th>sector</th><th>priority</th><th>before</th><th>after</th></tr>
</thead><tbody>{sectors}</tbody></table>
<h2>Coverage against budget</h2>
{curve_svg(s["curve"], s["total"])}
<p class="note">Solid: the coverage the planner found for each budget; dashed: the proven upper
bound (no plan within that budget covers more).</p>
<h2>Key objects still not covered ({len(uncovered)} of {len(keys)})</h2>
<ul id="uncovered">{missing}</ul>
<p class="note">{s["demand_points"]} demand points, {s["sites"]} candidate sites,
{s["candidates"]} site-model-heading choices, {s["seconds"]:.1f} s. Map data © OpenStreetMap
contributors (ODbL).</p>
<script src="assets/leaflet.js"></script><script src="plan-data.js"></script>
<script src="assets/report.js"></script>
</body></html>
"""


def _write_dir(target: Path, result: PlanResult, geo: dict[str, Any], title: str) -> None:
    (target / "assets").mkdir()
    (target / MARKER).write_text(json.dumps(geo, ensure_ascii=False), encoding="utf-8")
    data = {"plan": geo, "basemap": basemap_geojson(result)}
    js = "window.CITYOPS_PLAN = " + json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    (target / "plan-data.js").write_text(js + ";\n", encoding="utf-8")
    (target / "report.html").write_text(render_html(geo, title), encoding="utf-8")
    shutil.copy(LEAFLET / "leaflet.js", target / "assets" / "leaflet.js")
    shutil.copy(LEAFLET / "leaflet.css", target / "assets" / "leaflet.css")
    shutil.copytree(LEAFLET / "images", target / "assets" / "images")
    here = resources.files("cityops.planner").joinpath("report_assets")
    for name in ("report.js", "report.css"):
        (target / "assets" / name).write_text(here.joinpath(name).read_text(), encoding="utf-8")


def write_outputs(out: Path, result: PlanResult, title: str) -> dict[str, Any]:
    """Write plan.geojson, report.html and their assets into ``out`` all at once; an existing
    ``out`` is replaced only when it holds an earlier plan (else refused)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise PlannerInputError(f"{out}: exists and does not hold an earlier plan; not replaced")
    out.parent.mkdir(parents=True, exist_ok=True)
    geo = plan_geojson(result)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would make the report unreadable to a web server
    old: Path | None = None
    try:
        _write_dir(tmp, result, geo, title)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{tmp.name}")
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return geo
