"""``cityops plan`` as a user runs it: the GeoJSON and the offline HTML report (rendered in
headless Chromium from file://, without network, with no console error), refusals of bad input
that exit non-zero and write nothing, and a plan stored for a municipality."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect
from tests.browser.chromium import new_page
from tests.browser.conftest import browser  # noqa: F401  (the shared Chromium fixture)
from tests.planner.small_town import write_small_town
from typer.testing import CliRunner

from cityops.cli import app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

runner = CliRunner()


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_town(tmp_path_factory.mktemp("town") / "small.osm")


@pytest.fixture(scope="module")
def planned(town: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "out"
    result = runner.invoke(
        app,
        ["plan", "--osm", str(town), "--budget", "4000", "--out", str(out), "--time-limit", "4"],
    )
    assert result.exit_code == 0, result.output
    assert "cameras, cost" in result.output
    assert out.stat().st_mode & 0o777 == 0o755  # readable like any directory, not mkdtemp's 0700
    return out


def test_the_geojson_names_each_camera_with_heading_view_gain_and_cost(planned: Path) -> None:
    geo = json.loads((planned / "plan.geojson").read_text())
    s = geo["plan"]
    cams = [f for f in geo["features"] if f["properties"]["kind"] == "camera"]
    views = [f for f in geo["features"] if f["properties"]["kind"] == "view"]
    assert len(cams) == len(views) == s["cameras"] >= 1
    assert sum(f["properties"]["cost"] for f in cams) == pytest.approx(s["cost"])
    assert s["cost"] <= 4000
    for f in cams:
        p = f["properties"]
        assert f["geometry"]["type"] == "Point"
        assert set(p["gain"]) == {"safety", "transport", "disasters"}
        assert p["heading_deg"] is None or 0 <= p["heading_deg"] < 360
    for f in views:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    gains = sum(f["properties"]["gain_weighted"] for f in cams)
    assert gains == pytest.approx(s["objective"] - s["baseline"], rel=1e-3)
    assert [c["budget"] for c in s["curve"]][-1] == 4000
    assert s["objective"] <= s["upper_bound"] + 1e-6


def test_the_report_opens_offline_in_chromium(
    planned: Path,
    browser: Browser,  # noqa: F811
) -> None:
    assert "https://" not in (planned / "report.html").read_text()
    page, errors = new_page(browser)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((planned / "report.html").as_uri())
    geo = json.loads((planned / "plan.geojson").read_text())
    cameras = geo["plan"]["cameras"]
    page.wait_for_function(f"() => document.body.dataset.mapReady === '{cameras}'")
    assert page.locator("#cameras tbody tr").count() == cameras
    assert page.locator("#sectors tbody tr").count() == 3
    assert page.locator("svg.curve polyline.line").count() == 1
    assert page.locator("#map canvas").count() >= 1  # buildings, views, cameras drawn
    assert page.locator("#map .leaflet-control-layers").count() == 1
    page.screenshot(path=str(planned.parent / "report.png"), full_page=True)
    assert errors == []
    assert console == []
    assert all(u.startswith("file://") for u in requests), requests
    page.context.close()


@pytest.mark.parametrize(
    "relative",
    ["osm/osmnx_West-Oakland.osm.bz2", "osm/osmnx_planet_10.068,48.135_10.071,48.137.osm"],
)
def test_the_report_of_a_real_extract_renders(
    shared_data: Path,
    tmp_path: Path,
    relative: str,
    browser: Browser,  # noqa: F811
) -> None:
    extract = shared_data / relative
    if not extract.is_file():
        pytest.skip(f"{extract} is not there (../shared/data/SOURCES.md)")
    out = tmp_path / "out"
    args = ["plan", "--osm", str(extract), "--budget", "6000", "--out", str(out)]
    result = runner.invoke(app, [*args, "--time-limit", "3"])
    assert result.exit_code == 0, result.output
    cameras = json.loads((out / "plan.geojson").read_text())["plan"]["cameras"]
    page, errors = new_page(browser)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto((out / "report.html").as_uri())
    page.wait_for_function(f"() => document.body.dataset.mapReady === '{cameras}'")
    assert page.locator("#cameras tbody tr").count() == cameras
    assert errors == []
    assert console == []
    page.context.close()


def test_the_report_in_bulgarian(town: Path, tmp_path: Path, browser: Browser) -> None:  # noqa: F811
    out = tmp_path / "bg"
    args = ["plan", "--osm", str(town), "--budget", "2500", "--out", str(out), "--lang", "bg"]
    result = runner.invoke(app, [*args, "--time-limit", "3"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert '<html lang="bg">' in html
    assert "План за видеонаблюдение: small.osm, бюджет 2,500" in html
    assert "Покритие по сектори" in html
    assert "Chosen cameras" not in html
    page, errors = new_page(browser)
    page.goto((out / "report.html").as_uri())
    page.wait_for_function("() => document.body.dataset.mapReady !== undefined")
    page.locator(".leaflet-control-layers").hover()
    expect(page.locator(".leaflet-control-layers-overlays")).to_contain_text("предложени камери")
    assert errors == []
    page.context.close()


def _refused(args: list[str], out: Path) -> str:
    result = runner.invoke(app, ["plan", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    return " ".join(result.output.split())


def test_bad_inputs_exit_non_zero_and_write_nothing(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    corrupt = tmp_path / "corrupt.osm.pbf"
    corrupt.write_bytes(b"\x00garbage" * 100)
    assert "not a readable OpenStreetMap" in _refused(
        ["--osm", str(corrupt), "--budget", "5000"], out
    )
    empty = tmp_path / "empty.osm"
    empty.write_text("<?xml version='1.0'?><osm version='0.6'></osm>")
    assert "no streets found" in _refused(["--osm", str(empty), "--budget", "5000"], out)
    survey = tmp_path / "survey.yaml"
    survey.write_text("weights:\n  school: {safety: 1}\n  casino: {safety: 9}\n")
    said = _refused(["--osm", str(town), "--survey", str(survey), "--budget", "5000"], out)
    assert f"{survey}:3: unknown category 'casino'" in said
    survey.write_text("weights:\n  school: {safety: -1}\n")
    said = _refused(["--osm", str(town), "--survey", str(survey), "--budget", "5000"], out)
    assert f"{survey}:2: weights.school.safety must be >= 0" in said
    said = _refused(["--osm", str(town), "--budget", "999"], out)
    assert "budget 999 is below the cheapest camera (1200)" in said
    assert "--budget" in _refused(["--osm", str(town)], out)


def test_an_output_directory_that_is_not_a_plan_is_not_replaced(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("keep me")
    result = runner.invoke(
        app,
        ["plan", "--osm", str(town), "--budget", "1500", "--out", str(out), "--time-limit", "2"],
    )
    assert result.exit_code == 2
    assert "does not hold an earlier plan" in " ".join(result.output.split())
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]


def test_mclp_prints_json_through_the_optimiser(shared_data: Path, tmp_path: Path) -> None:
    swain = shared_data / "mclp" / "swain55.txt"
    if not swain.is_file():
        pytest.skip(f"{swain} is not there (../shared/data/SOURCES.md)")
    args = ["plan", "mclp", str(swain), "--radius", "5", "--sites", "2", "--exact"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output.strip().splitlines()[-1])
    assert answer["covered"] == 366.0  # tests/planner/test_mclp.py: by enumeration
    assert answer["upper_bound"] == pytest.approx(366.0)
    assert len(answer["chosen"]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("55\n1 2\n")
    refused = runner.invoke(app, ["plan", "mclp", str(bad), "--radius", "5", "--sites", "2"])
    assert refused.exit_code == 2
    assert "instance refused" in refused.output
