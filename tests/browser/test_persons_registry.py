"""The registry of vulnerable people in headless Chromium (docs/AGENCIES.md "SOS of vulnerable
people", the console): an admin registers a child with a photo and a safe area drawn on the map
(and sees the server's refusal of a device already taken), an operator sees the record read-only
without any edit control (each view audited), and a console opened during an SOS episode shows
the person's track at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from cityops.domain.access import Role
from cityops.store import persons_repo
from cityops.store.tables import incidents
from tests.browser.chromium import new_page
from tests.browser.conftest import sign_in
from tests.browser.test_evidence import CSP_WATCH, expect
from tests.browser.test_persons import TOPIC, register_maria, viewed
from tests.harness.live_server import LiveServer
from tests.persons.conftest import INSIDE, OUTSIDE
from tests.town import MUNI

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]


def photo_file(tmp_path: Path) -> Path:
    image = np.full((240, 180, 3), (200, 120, 40), np.uint8)
    ok, png = cv2.imencode(".png", image)
    assert ok
    path = tmp_path / "ana.png"
    path.write_bytes(png.tobytes())
    return path


def fill_person(page: Page, name: str, device: str) -> None:
    form = page.get_by_test_id("persons-form")
    form.get_by_test_id("persons-kind").select_option("child")
    form.get_by_test_id("persons-name").fill(name)
    form.get_by_test_id("persons-guardian_name").fill("Boris K.")
    form.get_by_test_id("persons-guardian_phone").fill("+359 87 555 0101")
    form.get_by_test_id("persons-device_id").fill(device)
    form.get_by_test_id("persons-notes").fill("blue cap")


def register_ana(server: LiveServer, admin: Page, tmp_path: Path) -> int:
    """The admin adds Ana with a drawn rectangle and a photo; her number."""
    assert server.center is not None
    admin.get_by_test_id("tab-persons").click()
    admin.get_by_test_id("persons-add").click()
    form = admin.get_by_test_id("persons-form")
    fill_person(admin, "Ana K.", "tracker-ana")
    # two corners are not an area: the form says so before sending anything
    area = form.get_by_test_id("persons-area-map")
    expect(area).to_have_attribute("data-corners", "0")
    area.click(position={"x": 60, "y": 60})
    area.click(position={"x": 220, "y": 60})
    expect(area).to_have_attribute("data-corners", "2")
    form.get_by_test_id("persons-save").click()
    expect(form.get_by_test_id("persons-error")).to_contain_text("at least 3 corners")
    area.click(position={"x": 220, "y": 200})
    area.click(position={"x": 60, "y": 200})
    expect(area).to_have_attribute("data-corners", "4")
    form.get_by_test_id("persons-photo").set_input_files(str(photo_file(tmp_path)))
    form.get_by_test_id("persons-save").click()
    row = admin.get_by_test_id("persons-row").filter(has_text="Ana K.")
    expect(row).to_have_count(1, timeout=5000)
    expect(row).to_contain_text("4 corners")
    with server.center.db.connect() as conn:
        (ana,) = persons_repo.list_persons(conn, MUNI)
    assert (ana.name, ana.guardian_phone, ana.device_id) == (
        "Ana K.",
        "+359 87 555 0101",
        "tracker-ana",
    )
    assert len(ana.safe_area) == 4
    lons = sorted({round(p.lon, 6) for p in ana.safe_area})
    assert len(lons) == 2  # a rectangle clicked west to east
    assert lons[0] < lons[1]
    expect(row).to_contain_text("yes", timeout=5000)  # the photo went through the photo route
    with server.center.db.connect() as conn:
        assert persons_repo.get(conn, MUNI, ana.id or 0).photo is not None  # type: ignore[union-attr]
    # the list shows no contact
    expect(admin.get_by_test_id("persons-table")).not_to_contain_text("+359")
    assert ana.id is not None
    return ana.id


def refused_for_a_device_taken(admin: Page) -> None:
    """A second person on the same device (area a circle): the SERVER refuses and says why."""
    admin.get_by_test_id("persons-add").click()
    fill_person(admin, "Someone Else", "tracker-ana")
    second = admin.get_by_test_id("persons-form")
    second.get_by_test_id("persons-mode-circle").click()
    second.get_by_test_id("persons-radius").fill("250")
    second.get_by_test_id("persons-area-map").click(position={"x": 150, "y": 130})
    expect(second.get_by_test_id("persons-area-map")).to_have_attribute("data-corners", "32")
    second.get_by_test_id("persons-save").click()
    expect(second.get_by_test_id("persons-error")).to_contain_text(
        "device 'tracker-ana' is already registered"
    )


def operator_reads(server: LiveServer, browser: Browser) -> None:
    """The operator: the tab, the record read-only, no edit control."""
    operator, errors = new_page(browser)
    try:
        sign_in(operator, server)
        operator.add_init_script(CSP_WATCH)
        operator.goto(server.url)
        operator.get_by_test_id("tab-persons").click()
        expect(operator.get_by_test_id("persons-add")).to_be_hidden()
        operator.get_by_test_id("persons-row").filter(has_text="Ana K.").get_by_test_id(
            "persons-open"
        ).click()
        card = operator.get_by_test_id("persons-view")
        expect(card.get_by_test_id("persons-view-guardian")).to_have_text(
            "Boris K. · +359 87 555 0101"
        )
        operator.wait_for_function(
            "(img) => img.complete && img.naturalWidth === 180",
            arg=card.get_by_test_id("persons-view-photo").element_handle(),
        )
        expect(card.get_by_test_id("persons-area-map")).to_have_attribute("data-corners", "4")
        for control in ("persons-form", "persons-save", "persons-remove", "persons-mode-polygon"):
            expect(operator.get_by_test_id(control)).to_have_count(0)
        assert operator.evaluate("window.__csp") == []
    finally:
        operator.context.close()
    assert not errors


def admin_changes_then_removes(server: LiveServer, admin: Page, ana: int) -> None:
    """The admin opens Ana's record (her photo shown), changes the guardian's phone, then
    removes her after confirming."""
    assert server.center is not None
    admin.get_by_test_id("persons-row").filter(has_text="Ana K.").get_by_test_id(
        "persons-open"
    ).click()
    form = admin.get_by_test_id("persons-form")
    expect(form.get_by_test_id("persons-name")).to_have_value("Ana K.")
    expect(form.get_by_test_id("persons-area-map")).to_have_attribute("data-corners", "4")
    admin.wait_for_function(
        "(img) => img.complete && img.naturalWidth === 180",
        arg=form.get_by_test_id("persons-current-photo").element_handle(),
    )
    form.get_by_test_id("persons-guardian_phone").fill("+359 87 555 0202")
    # the field holds the new value before the save is sent: wait for the server's answer
    with admin.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith(f"/persons/{ana}")
    ) as answer:
        form.get_by_test_id("persons-save").click()
    assert answer.value.ok, answer.value.status
    expect(
        admin.get_by_test_id("persons-form").get_by_test_id("persons-guardian_phone")
    ).to_have_value("+359 87 555 0202")
    with server.center.db.connect() as conn:
        changed = persons_repo.get(conn, MUNI, ana)
    assert changed is not None
    assert changed.guardian_phone == "+359 87 555 0202"
    assert len(changed.safe_area) == 4  # the area kept as it was
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_test_id("persons-form").get_by_test_id("persons-remove").click()
    expect(admin.get_by_test_id("persons-row")).to_have_count(0)
    expect(admin.get_by_test_id("persons-form")).to_have_count(0)
    with server.center.db.connect() as conn:
        assert persons_repo.get(conn, MUNI, ana) is None


def test_an_admin_registers_and_an_operator_sees_the_record_read_only(
    server: LiveServer,
    fresh_page: Page,
    browser: Browser,
    tmp_path: Path,
    shot: Callable[[Page, str], Path],
) -> None:
    admin = fresh_page
    sign_in(admin, server, "petrov", display_name="Petrov", role=Role.ADMIN)
    admin.add_init_script(CSP_WATCH)
    admin.goto(server.url)
    ana = register_ana(server, admin, tmp_path)
    refused_for_a_device_taken(admin)
    shot(admin, "refused")
    assert admin.evaluate("window.__csp") == []
    operator_reads(server, browser)
    seen = [(d["what"], t) for a, t, d in viewed(server) if a == "ivanova"]
    assert sorted(seen) == [("details", f"person:{ana}"), ("photo", f"person:{ana}")]
    admin_changes_then_removes(server, admin, ana)


def test_a_console_opened_during_an_episode_shows_the_track_at_once(
    server: LiveServer, page: Page, publish: Any
) -> None:
    assert server.center is not None
    maria = register_maria(server)
    start = datetime.now(UTC) - timedelta(minutes=2)
    publish(f"{TOPIC}/sos", {"lon": INSIDE.lon, "lat": INSIDE.lat, "ts": start.isoformat()})
    for i in (1, 2):
        ts = (start + timedelta(seconds=10 * i)).isoformat()
        publish(
            f"{TOPIC}/position", {"lon": OUTSIDE.lon + i * 0.0004, "lat": OUTSIDE.lat, "ts": ts}
        )
    incident_id = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with server.center.db.connect() as conn:
            q = select(incidents.c.id).where(incidents.c.dedup_key == f"sos|{maria}")
            incident_id = conn.execute(q).scalar()
            points = len(persons_repo.track(conn, MUNI, maria, start - timedelta(minutes=1)))
        if incident_id is not None and points == 3:
            break
        time.sleep(0.1)
    assert incident_id is not None, "no episode"
    assert points == 3, "the episode's points were not stored"

    page.add_init_script(CSP_WATCH)
    page.goto(server.url)  # no new point comes: what shows was asked for at load
    marker = page.locator(f'[data-testid="person-marker"][data-person-id="{maria}"]')
    expect(marker).to_have_attribute("data-points", "3", timeout=5000)
    expect(marker).to_have_attribute("data-incident-id", str(incident_id))
    expect(marker).to_have_attribute("data-state", "outside")
    expect(page.locator("path.person-track")).to_have_count(1)
    assert page.evaluate("window.__csp") == []
    tracks = [d for a, t, d in viewed(server) if a == "ivanova" and t == f"person:{maria}"]
    assert tracks == [{"what": "track", "incident": incident_id}]
