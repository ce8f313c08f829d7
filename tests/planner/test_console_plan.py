"""The console's planner layer in headless Chromium: off by default (no request for plans until
it is switched on), then the newest stored plan's proposed cameras, fields of view and
uncovered key objects on the map, with no JavaScript error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect
from tests.browser.conftest import browser, fresh_page, page, server  # noqa: F401
from tests.planner.small_town import write_small_town
from tests.town import MUNI

from cityops.planner.plan import PlanInputs, run_plan
from cityops.planner.report import write_outputs
from cityops.store import plans_repo

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from tests.harness.live_server import LiveServer


def test_the_plan_layer_shows_the_newest_plan_when_switched_on(
    page: Page,  # noqa: F811
    server: LiveServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    town = write_small_town(tmp_path / "small.osm", (25.3925, 42.6194))
    result = run_plan(PlanInputs(osm=town, budget=3_000.0, time_limit_s=3.0))
    geo = write_outputs(tmp_path / "out", result, "test plan")
    assert server.center is not None
    with server.center.db.begin() as conn:
        plans_repo.save(
            conn, MUNI, name="test plan", geojson=geo, created_by="test", now=datetime.now(UTC)
        )
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    assert not any("/plans" in u for u in requested)  # nothing loaded while the layer is off
    page.locator(".leaflet-control-layers").hover()
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="Camera plan")
    toggle.locator("input").check()
    cameras = geo["plan"]["cameras"]
    expect(page.locator("#map")).to_have_attribute("data-plan-cameras", str(cameras))
    assert any(u.endswith(f"/m/{MUNI}/plans") for u in requested)
    uncovered = [f for f in geo["features"] if f["properties"].get("uncovered")]
    assert uncovered  # the small town's park and playground stay out of a 3,000 plan
    expect(page.locator("#map")).to_have_attribute("data-plan-uncovered", str(len(uncovered)))
    expect(page.locator("#map")).to_have_attribute("data-plan-views", str(cameras))
    page.screenshot(path=str(tmp_path / "console-plan.png"))
