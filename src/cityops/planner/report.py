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
from cityops.planner.report_text import TEXT, Lang
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
    curve: list[dict[str, Any]],
    total: float,
    tr: dict[str, str],
    width: int = 640,
    height: int = 260,
) -> str:
    """Coverage (share of all weighted demand) against budget, with the proven bound dashed."""
    if not curve or total <= 0:
        return f"<p class='note'>{escape(tr['no_curve'])}</p>"
    left, bottom, top, right = 56, 36, 12, 16
    w, h = width - left - right, height - top - bottom
    bmax = max(c["budget"] for c in curve) or 1.0

    def x(budget: float) -> str:
        return f"{left + w * budget / bmax:.1f}"

    def y(value: float) -> str:
        return f"{top + h * (1 - min(value / total, 1.0)):.1f}"

    line = " ".join(f"{x(c['budget'])},{y(c['objective'])}" for c in curve)
    bound = " ".join(f"{x(c['budget'])},{y(c['upper_bound'])}" for c in curve)
    ticks = "".join(
        f"<text x='{left - 6}' y='{top + h * (1 - f) + 4:.1f}' text-anchor='end'>{f:.0%}</text>"
        for f in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    xticks = "".join(
        f"<text x='{x(c['budget'])}' y='{top + h + 16}' text-anchor='middle'>"
        f"{_money(c['budget'])}</text>"
        for c in curve[:: max(1, len(curve) // 5)]
    )
    dots = "".join(
        f"<circle cx='{x(c['budget'])}' cy='{y(c['objective'])}' r='3' fill='#1565c0'>"
        f"<title>{_money(c['budget'])}: {_pct(c['objective'], total)}</title></circle>"
        for c in curve
    )
    return (
        f"<svg class='curve' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='{escape(tr['curve'])}'>"
        f"<line class='axis' x1='{left}' y1='{top + h}' x2='{left + w}' y2='{top + h}'/>"
        f"<line class='axis' x1='{left}' y1='{top}' x2='{left}' y2='{top + h}'/>"
        f"<polyline class='bound' points='{bound}'/><polyline class='line' points='{line}'/>"
        f"{dots}{ticks}{xticks}<text x='{left + w / 2}' y='{height - 4}' "
        f"text-anchor='middle'>{escape(tr['budget'])}</text></svg>"
    )


def _tables(geo: dict[str, Any], tr: dict[str, str]) -> tuple[str, str]:
    s = geo["plan"]
    cams = [f["properties"] for f in geo["features"] if f["properties"]["kind"] == "camera"]
    rows = "".join(
        f"<tr><td>{c['rank']}</td><td>{escape(c['site'])} ({escape(c['site_kind'])})</td>"
        f"<td>{escape(c['model'])}</td><td>{_heading(c['heading_deg'])}</td>"
        + "".join(f"<td>{c['gain'].get(k, 0.0):.2f}</td>" for k in SECTORS)
        + f"<td>{_money(c['cost'])}</td></tr>"
        for c in cams
    )
    head = "".join(f"<th>{escape(tr['gain'].format(sector=tr[k]))}</th>" for k in SECTORS)
    cameras = (
        f"<table id='cameras'><thead><tr><th>#</th><th>{tr['site']}</th><th>{tr['model']}</th>"
        f"<th>{tr['heading']}</th>{head}<th>{tr['cost']}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    body = "".join(
        f"<tr><td>{escape(tr[k])}</td><td>{s['sector_priority'].get(k, 0):g}</td>"
        f"<td>{_pct(s['covered_before'].get(k, 0), s['sector_totals'].get(k, 0))}</td>"
        f"<td>{_pct(s['covered_after'].get(k, 0), s['sector_totals'].get(k, 0))}</td></tr>"
        for k in SECTORS
    )
    sectors = (
        f"<table id='sectors'><thead><tr><th>{tr['sector']}</th><th>{tr['priority']}</th>"
        f"<th>{tr['before']}</th><th>{tr['after']}</th></tr></thead><tbody>{body}</tbody></table>"
    )
    return cameras, sectors


def render_html(geo: dict[str, Any], title: str, lang: Lang = "en") -> str:
    tr = TEXT[lang]
    s = geo["plan"]
    keys = [f["properties"] for f in geo["features"] if f["properties"]["kind"] == "key_object"]
    uncovered = [k for k in keys if k["uncovered"]]
    missing = "".join(
        f"<li>{escape(k['name'] or k['category'])} ({escape(k['category'])}): "
        f"{k['covered']:.0%}</li>"
        for k in uncovered[:50]
    )
    gap = tr["optimal"] if s["gap"] <= 1e-9 else tr["gap"].format(gap=f"{s['gap']:.2%}")
    summary = tr["summary"].format(
        cameras=s["cameras"],
        cost=_money(s["cost"]),
        budget=_money(s["budget"]),
        coverage=_pct(s["objective"], s["total"]),
        baseline=_pct(s["baseline"], s["total"]),
        gap=gap,
        method=s["method"],
        bound=_pct(s["upper_bound"], s["total"]),
    )
    footer = tr["footer"].format(
        points=s["demand_points"],
        sites=s["sites"],
        candidates=s["candidates"],
        seconds=f"{s['seconds']:.1f}",
    )
    cameras, sectors = _tables(geo, tr)
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="assets/leaflet.css"><link rel="stylesheet" href="assets/report.css">
</head><body>
<h1>{escape(title)}</h1>
<p class="meta">{escape(summary)}</p>
<div id="map"></div>
<h2>{tr["chosen"]}</h2>
{cameras}
<h2>{tr["per_sector"]}</h2>
{sectors}
<h2>{tr["curve"]}</h2>
{curve_svg(s["curve"], s["total"], tr)}
<p class="note">{escape(tr["curve_note"])}</p>
<h2>{escape(tr["uncovered"].format(n=len(uncovered), total=len(keys)))}</h2>
<ul id="uncovered">{missing}</ul>
<p class="note">{escape(footer)}</p>
<script src="assets/leaflet.js"></script><script src="plan-data.js"></script>
<script src="assets/report.js"></script>
</body></html>
"""


def _write_dir(
    target: Path, result: PlanResult, geo: dict[str, Any], title: str, lang: Lang
) -> None:
    (target / "assets").mkdir()
    (target / MARKER).write_text(json.dumps(geo, ensure_ascii=False), encoding="utf-8")
    labels = {k: TEXT[lang][k] for k in TEXT[lang] if k.startswith("layer_")}
    data = {"plan": geo, "basemap": basemap_geojson(result), "labels": labels}
    js = "window.CITYOPS_PLAN = " + json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    (target / "plan-data.js").write_text(js + ";\n", encoding="utf-8")
    (target / "report.html").write_text(render_html(geo, title, lang), encoding="utf-8")
    shutil.copy(LEAFLET / "leaflet.js", target / "assets" / "leaflet.js")
    shutil.copy(LEAFLET / "leaflet.css", target / "assets" / "leaflet.css")
    shutil.copytree(LEAFLET / "images", target / "assets" / "images")
    here = resources.files("cityops.planner").joinpath("report_assets")
    for name in ("report.js", "report.css"):
        (target / "assets" / name).write_text(here.joinpath(name).read_text(), encoding="utf-8")


def write_outputs(out: Path, result: PlanResult, title: str, lang: Lang = "en") -> dict[str, Any]:
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
        _write_dir(tmp, result, geo, title, lang)
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
