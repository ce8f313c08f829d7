"""An SOS episode in headless Chromium: a child's device posts an SOS and then positions over
MQTT; the console's queue gets ONE incident, the map follows the person's track live, the
incident's person panel shows the photo, the guardian's contact and the notes (each view
audited), and "Forward to police" gives the share's link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from cityops.services import persons
from cityops.store.tables_audit import audit_log
from tests.browser.test_evidence import CSP_WATCH, expect
from tests.harness.live_server import LiveServer
from tests.persons.conftest import INSIDE, OUTSIDE, child

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]
TOPIC = "cityops/testtown/persons/tracker-1"
LIVE = 30_000
"""How long a live change may take to show (ms): generous, a loaded machine is slow, and every
wait ends as soon as its condition holds."""

MOVED = """([selector, x, y]) => {
  const el = document.querySelector(selector);
  if (!el) return false;
  const box = el.getBoundingClientRect();
  return box.width > 0 && (Math.abs(box.x - x) > 0.5 || Math.abs(box.y - y) > 0.5);
}"""
"""Whether the element ``selector`` finds now stands elsewhere than (x, y) on the page (it is
looked up on each poll: a redraw replaces the marker's element)."""


def register_maria(server: LiveServer) -> int:
    center = server.center
    assert center is not None
    rt = center.runtimes["testtown"]
    image = np.full((200, 160, 3), (60, 90, 200), np.uint8)
    ok, png = cv2.imencode(".png", image)
    assert ok
    now = datetime.now(UTC)
    with center.db.begin() as conn:
        maria = persons.register(conn, rt, child(), actor="test", now=now)
        assert maria.id is not None
        persons.set_photo(
            conn,
            rt,
            maria.id,
            png.tobytes(),
            actor="test",
            now=now,
            data_dir=center.settings.data_dir,
        )
    return maria.id


def where(marker: Any) -> tuple[float, float]:
    """The marker's place on the page (the locator finds it again: a redraw replaces it)."""
    expect(marker).to_be_visible(timeout=LIVE)
    box = marker.bounding_box(timeout=LIVE)
    assert box is not None
    return (box["x"], box["y"])


def viewed(server: LiveServer) -> list[tuple[str, str, Any]]:
    assert server.center is not None
    with server.center.db.connect() as conn:
        q = select(audit_log.c.actor, audit_log.c.target, audit_log.c.detail)
        rows = conn.execute(q.where(audit_log.c.action == "person.viewed"))
        return [(r.actor, r.target, r.detail) for r in rows]


def test_an_sos_episode_is_followed_live_and_forwarded_to_police(
    server: LiveServer, page: Page, publish: Any
) -> None:
    maria = register_maria(server)
    page.add_init_script(CSP_WATCH)
    page.goto(server.url)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    start = datetime.now(UTC) - timedelta(seconds=30)
    publish(f"{TOPIC}/sos", {"lon": INSIDE.lon, "lat": INSIDE.lat, "ts": start.isoformat()})
    item = page.get_by_test_id("queue-item").filter(has_text="SOS: Maria P.")
    expect(item).to_have_count(1, timeout=LIVE)
    selector = f'[data-testid="person-marker"][data-person-id="{maria}"]'
    marker = page.locator(selector)
    expect(marker).to_have_attribute("data-points", "1", timeout=LIVE)
    expect(marker).to_have_attribute("data-state", "sos", timeout=LIVE)
    before = where(marker)
    for i in range(1, 4):  # carried away, out of the safe area
        ts = (start + timedelta(seconds=5 * i)).isoformat()
        place = {"lon": OUTSIDE.lon + i * 0.0004, "lat": OUTSIDE.lat, "ts": ts}
        publish(f"{TOPIC}/position", place)
    expect(marker).to_have_attribute("data-points", "4", timeout=LIVE)
    expect(marker).to_have_attribute("data-state", "outside", timeout=LIVE)
    # the marker moved with her (waited for: the page may draw it a moment after its points)
    page.wait_for_function(MOVED, arg=[selector, *before], timeout=LIVE)
    track = page.locator("path.person-track")
    expect(track).to_have_count(1, timeout=LIVE)
    # four points, three segments
    expect(track).to_have_attribute("d", re.compile(r"^[^L]*(L[^L]*){3}$"), timeout=LIVE)
    expect(item).to_have_count(1)  # still ONE incident

    item.click()
    section = page.get_by_test_id("person-section")
    expect(section.get_by_test_id("person-name")).to_have_text("Maria P.")
    expect(section.get_by_test_id("person-guardian-phone")).to_have_text("+359 88 123 4567")
    expect(section.get_by_test_id("person-notes")).to_have_text("red jacket")
    photo = section.get_by_test_id("person-photo")
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth === 160",
        arg=photo.element_handle(timeout=LIVE),
        timeout=LIVE,
    )
    section.get_by_test_id("person-forward").click()
    link = section.get_by_test_id("person-share-link")
    expect(link).to_be_visible(timeout=LIVE)
    assert "/share.html#" in (link.input_value() or "")
    expect(page.get_by_test_id("incident-head")).to_be_visible()

    assert page.evaluate("window.__csp") == []
    seen = viewed(server)
    assert ("ivanova", f"person:{maria}") in {(a, t) for a, t, _ in seen}
    whats = sorted(d["what"] for a, _, d in seen if a == "ivanova")
    assert whats.count("details") == 1  # fetched once, though the panel re-rendered live
    assert whats.count("photo") == 1
    assert whats.count("track") == 1  # the first live point fetched it; no second fetch
