"""The console and the live contract in headless Chromium: it recovers from a `resync` (the
server dropped its backlog) without a reload, draws a stale sensor apart from an offline one,
and shows the ingest health banner only while the server reports `degraded`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cityops.api.routes_live import QUEUE_LIMIT
from cityops.domain.entities import CameraHealth, LonLat, Sector, SensorState, Severity
from cityops.domain.incident import Incident, TimelineEntry, TimelineKind
from cityops.services.live import CameraPayload, LiveKind, LiveMessage, SensorPayload
from cityops.store import incidents_repo
from tests.browser.test_console import MUNI, expect, open_console, queue_item
from tests.harness.live_server import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

# the console's stale sensor colour (map.js SENSOR_COLOURS.stale)
AMBER = "#c69026"


def store_incident_quietly(server: LiveServer, title: str) -> int:
    """An incident written straight to the database: the live feed is not told."""
    assert server.center is not None
    now = datetime.now(UTC)
    incident = Incident(
        municipality=MUNI,
        type="flood",
        sector=Sector.DISASTER,
        severity=Severity.EXTREME,
        title=title,
        created_at=now,
        updated_at=now,
        location=LonLat(23.3219, 42.6977),
        rule_id="flood-level",
        dedup_key=f"test|{title}",
    )
    incident.add_entry(TimelineEntry(at=now, kind=TimelineKind.CREATED, actor="test", text=""))
    with server.center.db.begin() as conn:
        return incidents_repo.insert_incident(conn, incident, [])


def note_quietly(server: LiveServer, incident_id: int, text: str) -> None:
    """A note on the incident's timeline, written straight to the database."""
    assert server.center is not None
    with server.center.db.begin() as conn:
        record = incidents_repo.get_incident(conn, MUNI, incident_id, with_timeline=False)
        assert record is not None
        entry = TimelineEntry(
            at=datetime.now(UTC), kind=TimelineKind.NOTE, actor="Петров", text=text
        )
        incidents_repo.add_timeline(conn, record.incident, entry)


def test_resync_refetches_what_the_feed_dropped_without_a_reload(
    server: LiveServer, page: Page
) -> None:
    assert server.center is not None
    first = store_incident_quietly(server, "Dam gate stuck")
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    open_console(page, server)
    known = queue_item(page, "Dam gate stuck")
    expect(known).to_have_count(1)
    known.click()
    head = page.get_by_test_id("incident-head")
    expect(head).to_have_attribute("data-incident-id", str(first))
    page.evaluate("window.__notReloaded = true")

    # while the console is connected: a new incident and a note it is not told about ...
    store_incident_quietly(server, "Levee breach upstream")
    note_quietly(server, first, "Екипът е на място")
    missed = queue_item(page, "Levee breach upstream")
    page.wait_for_timeout(500)
    expect(missed).to_have_count(0)
    # ... then more messages in one go than the feed queues for a client: the server drops
    # them all (the cameras never turn "tampered") and sends `resync`
    flood = [
        LiveMessage(MUNI, LiveKind.CAMERA, CameraPayload(id="cam-a", health=CameraHealth.TAMPERED))
    ] * (QUEUE_LIMIT + 1)
    server.center.live.publish_many(flood)

    expect(missed).to_have_count(1, timeout=5000)  # refetched
    timeline = page.locator("#details [data-testid=timeline-entry][data-kind=note]")
    expect(timeline).to_contain_text("Екипът е на място")  # the open incident too
    assert page.evaluate("window.__notReloaded") is True, "the console reloaded"
    assert any("resync" in line for line in console), console
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    # cam-a as stored (the health monitor's word), none of the dropped messages applied
    stored = {
        c["id"]: c["health"]
        for c in httpx.get(server.api(f"/m/{MUNI}/cameras"), headers=server.headers()).json()
    }
    assert stored["cam-a"] != "tampered"
    page.keyboard.press("2")
    badge = page.locator('.wall-tile[data-camera="cam-a"] .badge')
    expect(badge).to_have_class(f"badge health-{stored['cam-a']}")


SENSOR_ON_MAP = "(id) => window.__cityops.sensorOnMap(id)"


def test_a_stale_sensor_is_drawn_apart_from_an_offline_one(server: LiveServer, page: Page) -> None:
    assert server.center is not None
    open_console(page, server)
    last = datetime.now(UTC) - timedelta(minutes=25)
    payloads = [
        SensorPayload(id="river-1", value=2.4, ts=last, state=SensorState.OK),
        # no reading since: the contract's state change without one (value and ts null)
        SensorPayload(id="river-1", value=None, ts=None, state=SensorState.STALE),
        SensorPayload(id="river-2", value=None, ts=None, state=SensorState.OFFLINE),
    ]
    for payload in payloads:
        server.center.live.publish(LiveMessage(MUNI, LiveKind.SENSOR, payload))
    page.wait_for_function(
        f"() => ({SENSOR_ON_MAP})('river-1')?.state === 'stale'"
        f" && ({SENSOR_ON_MAP})('river-2')?.state === 'offline'",
        timeout=5000,
    )
    stale = page.evaluate(SENSOR_ON_MAP, "river-1")
    offline = page.evaluate(SENSOR_ON_MAP, "river-2")
    assert stale["color"] == AMBER
    assert stale["color"] != offline["color"]
    legend = page.locator("#map-legend")
    expect(legend).to_contain_text("No data")
    expect(legend).to_contain_text("Offline")

    # the sensor's panel: the last value kept, and for how long nothing came
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + stale["x"], box["y"] + stale["y"])
    details = page.locator("#details")
    expect(details.locator(".d-title")).to_have_text("River gauge 1")
    expect(details.locator(".badge.sstate-stale")).to_have_text("No data")
    expect(details.get_by_test_id("sensor-stale")).to_have_text("Stale: no data for 25 min")
    expect(details.locator(".big-value")).to_have_text("2.4 m")
    page.locator(".lang-btn[data-lang=bg]").click()
    expect(details.get_by_test_id("sensor-stale")).to_have_text("Няма данни от 25 мин")


def fulfil_health(body: dict[str, Any]) -> Any:
    def handle(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    return handle


def test_the_health_banner_shows_only_while_ingest_is_degraded(
    server: LiveServer, page: Page
) -> None:
    open_console(page, server)
    banner = page.get_by_test_id("health-banner")
    expect(banner).to_have_attribute("data-status", "ok")
    expect(banner).to_be_hidden()
    assert httpx.get(server.api("/health"), timeout=5).json()["status"] == "ok"

    degraded = {
        "status": "degraded",
        "reasons": ["mqtt_disconnected", "queue 93% full"],
        "mqtt_connected": False,
        "ingest_backlog": 120_000,
        "municipalities": [MUNI],
    }
    page.route("**/api/v1/health", fulfil_health(degraded))
    expect(banner).to_be_visible(timeout=12_000)  # the next poll (every 10 s)
    expect(banner).to_contain_text("Data intake degraded")
    expect(banner).to_contain_text("no connection to the MQTT broker")
    expect(banner).to_contain_text("queue 93% full")  # a reason the console has no words for

    page.locator(".lang-btn[data-lang=bg]").click()
    expect(banner).to_contain_text("Приемането на данни е нарушено")
    expect(banner).to_contain_text("няма връзка с MQTT брокера")

    page.unroute("**/api/v1/health")
    expect(banner).to_be_hidden(timeout=12_000)
