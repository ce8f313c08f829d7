"""The operator console in headless Chromium against a real server on Mosquitto: live
incidents in the queue and on the map, the operator's actions (clicks and keys) stored with
the operator's Cyrillic name, Bulgarian and back, and a sensor's colour changing live."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cityops.api.app import STATIC
from cityops.domain.access import Role
from tests.browser.chromium import OPERATOR
from tests.browser.conftest import PASSWORD
from tests.harness import MosquittoServer
from tests.harness.live_server import LiveServer
from tests.town import TOWN_YAML, account

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

STATIC_I18N = STATIC / "i18n"
MUNI = "testtown"
# the console's sensor colours (map.js SENSOR_COLOURS)
GREEN = "#3fb950"
RED = "#ff4d4f"

Publish = Callable[[str, object], None]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


# --- scenarios published over MQTT, as devices and cameras would


def publish_flood(publish: Publish, sensor: str = "river-1", value: float = 3.1) -> None:
    """Readings above 2.8 m, one a minute for the last 12 minutes: rule flood-level ("> 2.8 m
    for 10min") raises."""
    start = datetime.now(UTC) - timedelta(minutes=12)
    readings = [
        {"value": value, "unit": "m", "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(13)
    ]
    publish(f"cityops/{MUNI}/sensors/{sensor}/readings", {"readings": readings})


def publish_accident(publish: Publish) -> None:
    """Three events from the two cameras on the crossing within a minute: rule accident."""
    now = datetime.now(UTC)
    for i, (camera, kind) in enumerate(
        [("cam-a", "collision"), ("cam-b", "stopped_vehicle"), ("cam-a", "crowd")]
    ):
        event = {
            "id": f"{camera}-{now.timestamp():.0f}-{i}",
            "kind": kind,
            "confidence": 0.9,
            "ts": (now - timedelta(seconds=40 - 10 * i)).isoformat(),
        }
        publish(f"cityops/{MUNI}/cameras/{camera}/events", event)


# --- helpers


def open_console(page: Page, server: LiveServer) -> None:
    """Load the console and wait until its queue and map are drawn and the live feed is on."""
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")


_HEADERS: dict[int, dict[str, str]] = {}


def auth(server: LiveServer) -> dict[str, str]:
    """A bearer token of an admin of the test town (one per server) for the API checks."""
    if id(server) not in _HEADERS:
        _HEADERS[id(server)] = server.headers()
    return _HEADERS[id(server)]


def api_incidents(server: LiveServer) -> list[dict[str, Any]]:
    response = httpx.get(
        server.api(f"/m/{MUNI}/incidents"), params={"limit": 100}, headers=auth(server), timeout=5
    )
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def api_incident(server: LiveServer, incident_id: int) -> dict[str, Any]:
    response = httpx.get(
        server.api(f"/m/{MUNI}/incidents/{incident_id}"), headers=auth(server), timeout=5
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def queue_item(page: Page, title: str) -> Locator:
    return page.get_by_test_id("queue-item").filter(has_text=title)


def translations(lang: str) -> dict[str, str]:
    result: dict[str, str] = json.loads((STATIC_I18N / f"{lang}.json").read_text("utf-8"))
    return result


SENSOR_PIXEL_JS = """
(id) => {
  const s = window.__cityops.sensorOnMap(id);
  if (!s || !s.shown) return null;
  const canvas = document.querySelector('.leaflet-sensor-pane canvas');
  const map = document.getElementById('map').getBoundingClientRect();
  const box = canvas.getBoundingClientRect();
  const x = Math.round((map.left + s.x - box.left) * canvas.width / box.width);
  const y = Math.round((map.top + s.y - box.top) * canvas.height / box.height);
  const inside = s.x > 0 && s.y > 0 && s.x < map.width && s.y < map.height;
  const d = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
  return {state: s.state, fill: s.fillColor, inside, rgba: [d[0], d[1], d[2], d[3]]};
}
"""


def sensor_drawn_as(page: Page, sensor: str, state: str, colour: str, timeout: float) -> None:
    """Wait until the sensor's marker is in ``state`` and its centre pixel on the map's canvas
    is ``colour`` (#rrggbb)."""
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    page.wait_for_function(
        f"""([id, state, fill, want]) => {{
          const got = ({SENSOR_PIXEL_JS})(id);
          return got && got.inside && got.state === state && got.fill === fill
            && got.rgba[3] > 200
            && got.rgba.slice(0, 3).every((v, i) => Math.abs(v - want[i]) < 12);
        }}""",
        arg=[sensor, state, colour, want],
        timeout=timeout,
    )


# --- fixtures


# --- tests


def test_mqtt_scenario_appears_live_in_the_queue_and_on_the_map(
    server: LiveServer, page: Page, publish: Publish, shot: Callable[[Page, str], Any]
) -> None:
    open_console(page, server)
    expect(page.get_by_test_id("queue-item")).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    publish_flood(publish, "river-1")
    publish_accident(publish)

    flood = queue_item(page, "River level high at River gauge 1")
    accident = queue_item(page, "Possible traffic accident")
    expect(flood).to_have_count(1, timeout=3000)
    expect(accident).to_have_count(1, timeout=3000)
    expect(page.get_by_test_id("queue-item")).to_have_count(2)
    expect(page.locator("#queue-count")).to_have_text("2")
    for item in (flood, accident):
        expect(item).to_have_attribute("data-status", "new")
        expect(item).to_have_attribute("data-severity", "severe")
        expect(item).to_contain_text("New")
    expect(flood).to_contain_text("Civil Protection")
    expect(accident).to_contain_text("Traffic Police")
    assert page.evaluate("window.__notReloaded") is True, "the console reloaded"

    stored = {i["type"]: i for i in api_incidents(server)}
    assert set(stored) == {"flood", "traffic_accident"}
    for incident in stored.values():
        marker = page.locator(
            f'[data-testid="incident-marker"][data-incident-id="{incident["id"]}"]'
        )
        expect(marker).to_be_visible()
        expect(marker).to_have_attribute("data-severity", "severe")
        expect(marker).to_have_attribute("data-status", "new")
    # the two places are kilometres apart: two markers, no cluster
    expect(page.get_by_test_id("incident-cluster")).to_have_count(0)
    # the river gauge that raised is red on the map
    sensor_drawn_as(page, "river-1", "alarm", RED, timeout=3000)
    shot(page, "map-and-queue")


def sign_in_on_the_login_screen(page: Page, username: str) -> None:
    """A browser without a session: the console shows its login screen; the operator signs in."""
    screen = page.get_by_test_id("login-screen")
    expect(screen).to_be_visible()
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    expect(screen).to_be_hidden()
    expect(page.locator("#user-name")).to_have_text(OPERATOR)


def work_through(page: Page, item: Locator, shot: Callable[[Page, str], Any]) -> None:
    """Acknowledge (key a), open (Enter), assign an agency, dispatch and resolve (clicks)."""
    incident_id = item.get_attribute("data-id")
    page.keyboard.press("j")  # selects the first incident of the queue
    expect(item).to_have_attribute("aria-selected", "true")
    page.keyboard.press("a")
    expect(item).to_have_attribute("data-status", "acknowledged")
    page.keyboard.press("Enter")
    head = page.get_by_test_id("incident-head")
    expect(head).to_have_attribute("data-incident-id", str(incident_id))
    expect(head).to_have_attribute("data-status", "acknowledged")
    details = page.locator("#details")
    dispatch = details.locator("button[data-action=dispatch]")
    expect(dispatch).to_be_disabled()  # no agency assigned yet

    page.locator("#assign-agency").select_option("civil-protection")
    details.locator("button[data-action=assign]").click()
    expect(head).to_contain_text("Civil Protection")
    timeline = details.get_by_test_id("timeline-entry")
    expect(timeline.and_(page.locator("[data-kind=assigned]"))).to_contain_text(OPERATOR)
    expect(dispatch).to_be_enabled()
    shot(page, "incident-view")
    dispatch.click()
    expect(head).to_have_attribute("data-status", "dispatched")
    details.locator("button[data-action=resolve]").click()
    expect(head).to_have_attribute("data-status", "resolved")
    expect(page.get_by_test_id("incident-status")).to_have_text("Resolved")
    expect(item).to_have_count(0)  # resolved is no longer open: it leaves the queue
    for status in ("acknowledged", "dispatched", "resolved"):
        entry = timeline.and_(page.locator(f'[data-kind=status][data-to="{status}"]'))
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text(OPERATOR)
    expect(timeline.and_(page.locator("[data-kind=created]"))).to_have_count(1)


def cancel_with_reason(page: Page, item: Locator, reason: str) -> None:
    """Open the incident and cancel it: the dialog will not confirm without a reason."""
    incident_id = item.get_attribute("data-id")
    item.click()
    head = page.get_by_test_id("incident-head")
    expect(head).to_have_attribute("data-incident-id", str(incident_id))
    page.locator("#details button[data-action=cancel]").click()
    dialog = page.locator("#dlg-cancel")
    expect(dialog).to_be_visible()
    confirm = page.locator("#cancel-confirm")
    expect(confirm).to_be_disabled()
    page.locator("#cancel-reason").fill("   ")
    expect(confirm).to_be_disabled()
    page.locator("#cancel-reason").fill(reason)
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(dialog).to_be_hidden()
    expect(head).to_have_attribute("data-status", "cancelled")
    cancelled = page.locator(
        '#details [data-testid=timeline-entry][data-kind=status][data-to="cancelled"]'
    )
    expect(cancelled).to_contain_text(reason)
    expect(cancelled).to_contain_text(OPERATOR)
    expect(item).to_have_count(0)


def test_an_incident_opened_from_the_queue_is_revealed_from_its_cluster(
    server: LiveServer, page: Page, publish: Publish, shot: Callable[[Page, str], Any]
) -> None:
    open_console(page, server)
    # river-1 jumps from 2.0 m to 3.1 m and stays: "rising fast" and "level high" at one place
    start = datetime.now(UTC) - timedelta(minutes=13)
    readings = [{"value": 2.0, "unit": "m", "ts": start.isoformat()}] + [
        {"value": 3.1, "unit": "m", "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(1, 14)
    ]
    publish(f"cityops/{MUNI}/sensors/river-1/readings", {"readings": readings})
    flood = queue_item(page, "River level high at River gauge 1")
    rising = queue_item(page, "River rising fast at River gauge 1")
    expect(flood).to_have_count(1, timeout=3000)
    expect(rising).to_have_count(1, timeout=3000)
    cluster = page.get_by_test_id("incident-cluster")
    expect(cluster).to_have_count(1)
    expect(cluster).to_have_attribute("data-count", "2")
    flood_id = flood.get_attribute("data-id")
    marker = page.locator(f'[data-testid="incident-marker"][data-incident-id="{flood_id}"]')
    expect(marker).to_have_count(0)

    flood.click()
    expect(page.get_by_test_id("incident-head")).to_have_attribute("data-incident-id", flood_id)
    expect(marker).to_be_visible(timeout=8000)  # the map zoomed in and spread the cluster
    shot(page, "cluster-revealed")


def test_operator_works_an_incident_through_the_ui_and_the_server_stores_it(
    server: LiveServer,
    fresh_page: Page,
    publish: Publish,
    shot: Callable[[Page, str], Any],
) -> None:
    page = fresh_page
    assert server.center is not None
    account(
        server.center.db,
        "ivanova",
        display_name=OPERATOR,
        role=Role.OPERATOR,
        installation_admin=False,
        password=PASSWORD,
    )
    page.goto(server.url)
    sign_in_on_the_login_screen(page, "ivanova")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")

    publish_flood(publish, "river-1")
    flood = queue_item(page, "River level high at River gauge 1")
    expect(flood).to_have_count(1, timeout=3000)
    flood_id = int(flood.get_attribute("data-id") or 0)
    work_through(page, flood, shot)

    publish_accident(publish)
    accident = queue_item(page, "Possible traffic accident")
    expect(accident).to_have_count(1, timeout=3000)
    accident_id = int(accident.get_attribute("data-id") or 0)
    reason = "Учение: не е истинска катастрофа"
    cancel_with_reason(page, accident, reason)

    # what the server stored, with the signed-in account's display name as the actor
    stored = api_incident(server, flood_id)
    assert stored["status"] == "resolved"
    assert stored["assigned_agency"] == "civil-protection"
    moves = [(e["to_status"], e["actor"]) for e in stored["timeline"] if e["kind"] == "status"]
    assert moves == [
        ("acknowledged", OPERATOR),
        ("dispatched", OPERATOR),
        ("resolved", OPERATOR),
    ]
    assigned = [e for e in stored["timeline"] if e["kind"] == "assigned"]
    assert [e["actor"] for e in assigned] == [OPERATOR]
    stored = api_incident(server, accident_id)
    assert stored["status"] == "cancelled"
    cancel = [e for e in stored["timeline"] if e["to_status"] == "cancelled"]
    assert [(e["actor"], e["text"]) for e in cancel] == [(OPERATOR, reason)]


def test_bulgarian_and_back(
    server: LiveServer, page: Page, publish: Publish, shot: Callable[[Page, str], Any]
) -> None:
    en, bg = translations("en"), translations("bg")
    keys = [
        "view.ops",
        "view.wall",
        "view.overview",
        "queue.title",
        "summary.title",
        "summary.sensor_alarms",
        "filter.sector",
        "filter.agency",
        "sound.off",
        "status.new",
    ]
    assert all(en[k] != bg[k] for k in keys)
    open_console(page, server)
    publish_flood(publish, "river-1")
    expect(page.get_by_test_id("queue-item")).to_have_count(1, timeout=3000)
    body = page.locator("body")

    def shows(lang: dict[str, str], other: dict[str, str]) -> None:
        for key in keys:
            expect(body).to_contain_text(lang[key])
        text = body.inner_text()
        left = [other[k] for k in keys if other[k] in text]
        assert not left, f"strings of the other language still shown: {left}"

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#muni-name")).to_have_text("Test Town")
    shows(en, bg)

    page.locator(".lang-btn[data-lang=bg]").click()
    expect(page.locator("html")).to_have_attribute("lang", "bg")
    expect(page.locator("#muni-name")).to_have_text("Тестово")
    expect(page.locator(".lang-btn[data-lang=bg]")).to_have_attribute("aria-pressed", "true")
    shows(bg, en)
    expect(page).to_have_title(f"Тестово · {bg['app.title']}")
    shot(page, "bulgarian")

    # the choice is remembered across a reload; the incident view is Bulgarian too
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    shows(bg, en)
    page.get_by_test_id("queue-item").click()
    incident_type = page.locator("#details .facts dd").first  # the first fact is the type
    expect(incident_type).to_have_text(bg["type.flood"])
    # the rule's Bulgarian title, with the gauge's Bulgarian name
    expect(page.locator("#details .d-title")).to_contain_text("Високо ниво на реката при Водомер 1")
    expect(page.get_by_test_id("queue-item")).to_contain_text("Високо ниво на реката")
    # with an incident open, its view replaces the situation summary
    keys = [k for k in keys if not k.startswith("summary.")]
    keys += ["incident.type", "incident.sop", "action.acknowledge", "action.assign"]
    shows(bg, en)

    # and the `l` key switches back, the open incident with it
    page.locator("#queue-list").focus()
    page.keyboard.press("l")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#muni-name")).to_have_text("Test Town")
    expect(incident_type).to_have_text(en["type.flood"])
    expect(page.locator("#details .d-title")).to_have_text("River level high at River gauge 1")
    shows(en, bg)


def test_sensor_colour_on_the_map_follows_live_readings(
    server: LiveServer, page: Page, publish: Publish
) -> None:
    open_console(page, server)
    first = page.evaluate("window.__cityops.sensorOnMap('river-2')")
    assert first["state"] == "unknown"
    assert first["shown"]
    alarms = page.locator(".sum-tile").filter(has_text="Sensor alarms").locator(".sum-value")
    expect(alarms).to_have_text("0")

    # a normal level: unknown -> ok (green)
    ts = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    publish(f"cityops/{MUNI}/sensors/river-2/readings", {"value": 2.0, "unit": "m", "ts": ts})
    sensor_drawn_as(page, "river-2", "ok", GREEN, timeout=3000)

    # above 2.8 m for more than 10 minutes: ok -> alarm (red)
    publish_flood(publish, "river-2", value=3.0)
    sensor_drawn_as(page, "river-2", "alarm", RED, timeout=3000)
    expect(alarms).to_have_text("1")
    # the other gauges did not change
    other = page.evaluate("window.__cityops.sensorOnMap('river-1')")
    assert other["state"] == "unknown"


def test_camera_wall_and_overview(
    server: LiveServer, page: Page, publish: Publish, shot: Callable[[Page, str], Any]
) -> None:
    publish_flood(publish, "river-1")
    publish_accident(publish)
    open_console(page, server)
    expect(page.get_by_test_id("queue-item")).to_have_count(2)

    page.keyboard.press("2")
    expect(page.locator("#view-wall")).to_be_visible()
    expect(page.locator("#view-ops")).to_be_hidden()
    tiles = page.locator(".wall-tile")
    expect(tiles).to_have_count(3)
    for name in ("Crossing west", "Crossing north", "School yard"):
        expect(tiles.filter(has_text=name)).to_have_count(1)
    expect(page.locator("#wall-count")).to_have_text("3 of 3 cameras")
    page.locator("#wall-search").fill("school")
    expect(tiles).to_have_count(1)
    page.locator("#wall-search").fill("")
    expect(tiles).to_have_count(3)
    page.locator("#wall-search").blur()
    shot(page, "camera-wall")

    page.keyboard.press("3")
    overview = page.locator("#overview-body")
    expect(overview).to_be_visible()
    open_total = overview.locator(".sum-tile").filter(has_text="Open incidents")
    expect(open_total.locator(".sum-value")).to_have_text("2")
    expect(overview.locator("li.sector-disaster .bar-value")).to_have_text("1")
    expect(overview.locator("li.sector-transport .bar-value")).to_have_text("1")
    shot(page, "overview")

    page.keyboard.press("1")
    expect(page.locator("#view-ops")).to_be_visible()


TILE_IMAGE_JS = """
(id) => {
  const img = document.querySelector(`.wall-tile[data-camera="${id}"] img`);
  if (!img || !img.complete || !img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const mean = (x0, y0, x1, y1) => {
    const d = ctx.getImageData(x0 * canvas.width, y0 * canvas.height,
      (x1 - x0) * canvas.width, (y1 - y0) * canvas.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
    return sum / (d.length / 4) / 3;
  };
  // cam-school's privacy mask covers x 0..0.3, y 0..0.2 of the frame
  return {width: img.naturalWidth, masked: mean(0.02, 0.02, 0.28, 0.18),
          rest: mean(0.1, 0.4, 0.9, 0.95)};
}
"""


@pytest.mark.shared_data
def test_camera_wall_shows_masked_snapshots_and_live_health(
    tmp_path: Path,
    mosquitto: MosquittoServer,
    shared_data: Path,
    page: Page,
    shot: Callable[[Page, str], Any],
) -> None:
    """Recorded clips stand in for the cameras: the wall shows their frames with the privacy
    mask applied, and each camera turns online through the live feed."""
    with LiveServer(
        tmp_path, mosquitto.url, [TOWN_YAML], video_dir=shared_data / "video"
    ) as server:
        open_console(page, server)
        page.keyboard.press("2")
        tiles = page.locator(".wall-tile")
        expect(tiles).to_have_count(3)
        for camera in ("cam-a", "cam-b", "cam-school"):
            tile = page.locator(f'.wall-tile[data-camera="{camera}"]')
            expect(tile.locator(".badge")).to_have_text("Online", timeout=15_000)
            expect(tile).not_to_have_class("missing")
        image = page.wait_for_function(TILE_IMAGE_JS, arg="cam-school", timeout=15_000)
        school = image.json_value()
        assert school["width"] > 0
        assert school["masked"] < 8, f"privacy mask not applied: {school}"
        assert school["rest"] > 30, f"the frame itself is dark: {school}"
        shot(page, "camera-wall-clips")
        stored = httpx.get(server.api(f"/m/{MUNI}/cameras"), headers=auth(server), timeout=5).json()
        assert {c["id"]: c["health"] for c in stored} == {
            "cam-a": "online",
            "cam-b": "online",
            "cam-school": "online",
        }
        # The camera's own view plays the MJPEG live stream, and closing it ends the stream.
        page.locator('.wall-tile[data-camera="cam-school"]').click()
        live = page.locator("#details img[data-live]")
        expect(live).to_have_attribute("src", re.compile(r"/cameras/cam-school/live\.mjpg$"))
        page.wait_for_function(
            "() => { const i = document.querySelector('#details img[data-live]');"
            " return i && i.naturalWidth > 0; }",
            timeout=15_000,
        )
        page.keyboard.press("Escape")
        expect(page.locator("#details img[data-live]")).to_have_count(0)


def test_cameras_without_video_are_not_asked_for_snapshots(server: LiveServer, page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if "/snapshot" in r.url else None)
    open_console(page, server)
    page.keyboard.press("2")
    expect(page.locator('.wall-tile[data-camera="cam-b"]')).to_have_class(re.compile("missing"))
    cams = {
        c["id"]: c["has_video"]
        for c in httpx.get(server.api(f"/m/{MUNI}/cameras"), headers=auth(server)).json()
    }
    assert cams == {"cam-a": True, "cam-b": False, "cam-school": False}
    assert not [u for u in requested if "/cameras/cam-b/" in u]
