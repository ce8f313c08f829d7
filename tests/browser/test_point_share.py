"""Sharing a place from the map in headless Chromium against a real server on Mosquitto: an
operator right-clicks a point, chooses "Share cameras here", sees the circle and the cameras a
share would hold previewed as the radius changes, shares, and gets the link once; the share is
drawn on the map with the agency and the time left and is extended and revoked from there. The
agency opens the link in a browser of its own and sees only the cameras in the circle. An
analyst (no shares.manage) gets no menu entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cityops.domain.access import Role
from tests.browser.chromium import new_page
from tests.browser.conftest import sign_in
from tests.browser.test_console import auth, open_console
from tests.harness.live_server import LiveServer
from tests.town import MUNI

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

TOKEN = re.compile(r"#([A-Za-z0-9_-]{40,})$")
CSP_WATCH = (
    "window.__csp = [];"
    " document.addEventListener('securitypolicyviolation',"
    " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)
PLACE = (42.6194, 25.3918)
"""41 m east of cam-a, which looks east at it; cam-b (115 m to the north-east, looking south)
sees it too; cam-school does not."""


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


@pytest.fixture
def recipient(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """The agency's own browser context: nobody signed in, its CSP violations kept."""
    p, errors = new_page(browser)
    p.add_init_script(CSP_WATCH)
    yield p, errors
    p.context.close()


def right_click(page: Page, lat: float, lon: float) -> None:
    """Centre the map on the place and open the map's context menu there."""
    point = page.evaluate("([lat, lon]) => window.__cityops.mapPoint(lat, lon)", [lat, lon])
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"], button="right")


def active_shares(server: LiveServer) -> list[dict[str, Any]]:
    answer = httpx.get(
        server.api(f"/m/{MUNI}/shares"), params={"active": "true"}, headers=auth(server), timeout=5
    )
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()
    return result


def share_from_the_map(page: Page, server: LiveServer) -> tuple[dict[str, Any], str]:
    """The operator shares the place with the police for a robbery, within 100 m: the share as
    the server holds it and the link shown once."""
    map_box = page.locator("#map")
    right_click(page, *PLACE)
    page.get_by_test_id("share-here-item").click()
    form = page.get_by_test_id("share-here")
    # the policy's radius (200 m) holds both cameras that see the place; they are previewed
    radius = form.get_by_test_id("share-radius")
    expect(radius).to_have_value("200")
    expect(map_box).to_have_attribute("data-share-preview", "cam-a cam-b")
    expect(form.get_by_test_id("share-hint")).to_have_attribute("data-cameras", "2")
    # never beyond the server's limit (2 km)
    values = [float(v) for v in radius.locator("option").evaluate_all("os => os.map(o => o.value)")]
    assert max(values) == 2000
    # 100 m: only cam-a (41 m away); cam-b is 115 m away
    radius.select_option("100")
    expect(map_box).to_have_attribute("data-share-preview", "cam-a")
    expect(form.get_by_test_id("share-hint")).to_have_attribute("data-cameras", "1")
    form.get_by_test_id("share-agency").select_option("police")
    form.get_by_test_id("share-purpose").select_option("robbery")
    form.get_by_test_id("share-submit").click()
    link = page.get_by_test_id("share-link-input")
    expect(link).to_have_value(TOKEN)
    expect(page.get_by_test_id("share-made-cameras")).to_have_attribute("data-cameras", "cam-a")
    [stored] = active_shares(server)
    assert stored["incident_id"] is None
    assert (stored["agency"], stored["purpose"], stored["cameras"]) == (
        "police",
        "robbery",
        ["cam-a"],
    )
    assert stored["radius_m"] == 100
    assert abs(stored["lat"] - PLACE[0]) < 1e-4
    assert abs(stored["lon"] - PLACE[1]) < 1e-4
    return stored, link.input_value()


def extend_and_revoke(page: Page, server: LiveServer, stored: dict[str, Any]) -> None:
    """From the share's label on the map: kept 2 h from now, then revoked."""
    map_box = page.locator("#map")
    label = page.get_by_test_id("point-share")
    page.locator(".share-here-popup .leaflet-popup-close-button").click()
    expect(map_box).not_to_have_attribute("data-share-preview", re.compile(".*"))
    label.click()
    popup = page.get_by_test_id("point-share-popup")
    row = popup.get_by_test_id("share")
    expect(row).to_have_attribute("data-status", "active")
    before = datetime.fromisoformat(stored["expires_at"])
    row.get_by_test_id("share-extend-by").select_option("120")
    row.get_by_test_id("share-extend").click()
    page.wait_for_function(
        "() => { const l = document.querySelector('[data-testid=point-share]');"
        " return l && /1:5\\d:\\d\\d|2:00:00/.test(l.textContent); }",
        timeout=10_000,
    )
    assert datetime.fromisoformat(active_shares(server)[0]["expires_at"]) > before
    # the share was drawn anew: its old popup closed (Leaflet fades it out for 200 ms)
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    label.click()
    revoke = page.get_by_test_id("point-share-popup").get_by_test_id("share-revoke")
    revoke.click()
    expect(revoke).to_have_attribute("data-armed", "true")
    revoke.click()
    expect(map_box).to_have_attribute("data-point-shares", "0")
    expect(label).to_have_count(0)
    assert active_shares(server) == []


def test_operator_shares_a_place_from_the_map(
    server: LiveServer, fresh_page: Page, recipient: tuple[Page, list[str]]
) -> None:
    page = fresh_page
    page.add_init_script(CSP_WATCH)
    sign_in(page, server)
    open_console(page, server)
    # the map tool offers the same for the map's centre (keyboard users)
    tool = page.get_by_test_id("share-here-tool")
    expect(tool).to_be_visible()
    expect(tool).to_have_text("Share cameras here")
    stored, link = share_from_the_map(page, server)
    map_box = page.locator("#map")
    # the share is on the map: its label says the agency and the time left
    expect(map_box).to_have_attribute("data-point-shares", "1")
    label = page.get_by_test_id("point-share")
    expect(label).to_have_attribute("data-cameras", "cam-a")
    expect(label).to_contain_text("Police")
    expect(label).to_contain_text("left")

    # the agency sees only the camera in the circle
    agency, errors = recipient
    token = TOKEN.search(link)
    assert token is not None
    agency.goto(f"{server.url}/share.html#{token.group(1)}")
    expect(agency.get_by_test_id("share-view")).to_be_visible()
    cards = agency.get_by_test_id("shared-camera")
    expect(cards).to_have_count(1)
    assert cards.first.get_attribute("data-camera") == "cam-a"

    extend_and_revoke(page, server, stored)
    screen = agency.get_by_test_id("share-screen")
    expect(screen).to_have_attribute("data-reason", "revoked", timeout=15_000)
    # the map tool opens the same form for the map's centre, previewing the policy's circle
    page.get_by_test_id("share-here-tool").click()
    expect(page.get_by_test_id("share-here").get_by_test_id("share-submit")).to_be_visible()
    expect(map_box).to_have_attribute("data-share-preview-radius", "200")
    assert page.evaluate("window.__csp") == []
    assert agency.evaluate("window.__csp") == []
    assert errors == []


def test_an_analyst_gets_no_menu_entry(server: LiveServer, fresh_page: Page) -> None:
    """An analyst has no shares.manage: a right click offers nothing, the map tool is not shown,
    no shared place is drawn."""
    sign_in(fresh_page, server, "analyst", role=Role.ANALYST)
    open_console(fresh_page, server)
    right_click(fresh_page, *PLACE)
    fresh_page.wait_for_timeout(500)
    expect(fresh_page.get_by_test_id("share-here-item")).to_have_count(0)
    expect(fresh_page.get_by_test_id("map-menu")).to_have_count(0)
    expect(fresh_page.get_by_test_id("share-here-tool")).to_be_hidden()
    expect(fresh_page.locator("#map")).to_have_attribute("data-point-shares", "0")
