"""The console by role, in headless Chromium against a real server: a liaison sees only the
incidents assigned to its agency (the server filters; the console shows what it gets), an
analyst reads but is offered no action, an auditor sees only the audit view, where a camera
view is listed with who, when and why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cityops.api import routes_live
from cityops.domain.access import Role
from cityops.domain.audit import AuditAction
from cityops.domain.retention import RetentionPolicy
from cityops.services import audit, retention
from tests.browser.chromium import new_page
from tests.browser.conftest import sign_in
from tests.browser.test_console_live import store_incident_quietly
from tests.harness import MosquittoServer
from tests.harness.live_server import LiveServer
from tests.town import MUNI, NEIGHBOUR, TOWN_YAML, neighbour_yaml

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


def assign(server: LiveServer, incident_id: int, agency: str) -> None:
    response = httpx.post(
        server.api(f"/m/{MUNI}/incidents/{incident_id}/assign"),
        json={"agency": agency, "note": None},
        headers=server.headers(),
        timeout=5,
    )
    response.raise_for_status()


def test_liaison_sees_only_its_agencys_incidents(server: LiveServer, fresh_page: Page) -> None:
    police = store_incident_quietly(server, "Fight outside the stadium")
    fire = store_incident_quietly(server, "Smoke from the warehouse")
    store_incident_quietly(server, "Unassigned pothole")
    assign(server, police, "police")
    assign(server, fire, "civil-protection")

    page = fresh_page
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    sign_in(
        page,
        server,
        "petrov",
        display_name="Петров",
        role=Role.LIAISON,
        agency="police",
        expires_at=tomorrow,
    )
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    items = page.get_by_test_id("queue-item")
    expect(items).to_have_count(1)
    expect(items).to_contain_text("Fight outside the stadium")
    expect(page.locator("#user-role")).to_have_text("Agency liaison")
    # a liaison may add notes, not act: no action buttons; no overview, no audit
    items.click()
    expect(page.get_by_test_id("incident-head")).to_have_attribute("data-incident-id", str(police))
    expect(page.locator("#details [data-action]")).to_have_count(0)
    expect(page.locator("#note-text")).to_be_visible()
    expect(page.locator("#tab-overview")).to_be_hidden()
    expect(page.locator("#tab-audit")).to_be_hidden()


def test_analyst_reads_but_is_offered_no_action(server: LiveServer, fresh_page: Page) -> None:
    incident_id = store_incident_quietly(server, "Water main burst")
    page = fresh_page
    sign_in(page, server, "analyst", display_name="Analyst", role=Role.ANALYST)
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    page.get_by_test_id("queue-item").filter(has_text="Water main burst").click()
    head = page.get_by_test_id("incident-head")
    expect(head).to_have_attribute("data-incident-id", str(incident_id))
    expect(page.locator("#details button[data-action]")).to_have_count(0)
    expect(page.locator("#assign-agency")).to_have_count(0)
    expect(page.locator("#note-text")).to_have_count(0)
    # the keyboard's acknowledge does nothing either
    page.locator("#queue-list").focus()
    page.keyboard.press("a")
    expect(head).to_have_attribute("data-status", "new")
    expect(page.locator("#tab-overview")).to_be_visible()
    expect(page.locator("#tab-audit")).to_be_hidden()


def test_auditor_sees_who_saw_which_camera_when_and_why(
    server: LiveServer, fresh_page: Page
) -> None:
    assert server.center is not None
    with server.center.db.begin() as conn:
        audit.record(
            conn,
            actor="Иванова",
            action=AuditAction.VIDEO_UNMASKED,
            municipality=MUNI,
            target="cam-a",
            reason="Разпознаване на извършител по искане на полицията",
        )
        audit.record(
            conn,
            actor="Петров",
            action=AuditAction.VIDEO_SNAPSHOT,
            municipality=MUNI,
            target="cam-b",
        )
    page = fresh_page
    sign_in(page, server, "auditor", display_name="Auditor", role=Role.AUDITOR)
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    # only the audit view: no map and queue, no wall, no overview
    expect(page.locator("#view-audit")).to_be_visible()
    for tab in ("ops", "wall", "overview"):
        expect(page.locator(f"#tab-{tab}")).to_be_hidden()
    rows = page.locator("#audit-rows tr")
    expect(rows).to_have_count(2)
    unmasked = rows.filter(has=page.locator("td", has_text="cam-a"))
    expect(unmasked).to_contain_text("Иванова")
    expect(unmasked).to_contain_text("saw unmasked video")
    expect(unmasked).to_contain_text("Разпознаване на извършител по искане на полицията")
    # filtered to one camera
    page.locator("#audit-camera").fill("cam-b")
    page.locator("#audit-form button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Петров")

    # a long log comes page by page (100 at a time), newest first
    with server.center.db.begin() as conn:
        for i in range(120):
            audit.record(
                conn,
                actor=f"viewer-{i:03d}",
                action=AuditAction.VIDEO_LIVE,
                municipality=MUNI,
                target="cam-c",
            )
    page.locator("#audit-camera").fill("")
    page.locator("#audit-form button[type=submit]").click()
    expect(rows).to_have_count(100)
    expect(rows.first).to_contain_text("viewer-119")
    more = page.locator("#audit-more")
    expect(more).to_be_visible()
    more.click()
    expect(rows).to_have_count(122)
    expect(rows.last).to_contain_text("Иванова")
    expect(more).to_be_hidden()
    # every recorded action, not only camera views: the grant of the auditor's own role too
    page.locator("#audit-kind").select_option("all")
    expect(rows).to_have_count(100)
    more.click()
    expect(rows.filter(has_text="role.changed")).not_to_have_count(0)


@pytest.fixture
def two_towns(tmp_path: Path, mosquitto: MosquittoServer) -> Iterator[LiveServer]:
    """The test town and its neighbour on one installation."""
    with LiveServer(tmp_path, mosquitto.url, [TOWN_YAML, neighbour_yaml(tmp_path)]) as running:
        yield running


def test_switcher_lists_only_own_municipalities_and_a_handover_is_notes_only(
    two_towns: LiveServer, fresh_page: Page, browser: Browser
) -> None:
    server = two_towns
    incident_id = store_incident_quietly(server, "Chemical spill on the boundary road")
    response = httpx.post(
        server.api(f"/m/{MUNI}/incidents/{incident_id}/handover"),
        json={"to": NEIGHBOUR, "reason": "the spill runs towards Next Town"},
        headers=server.headers(),
        timeout=5,
    )
    response.raise_for_status()

    # an operator of the neighbour only: no switcher, the handed-over incident, notes only
    page = fresh_page
    sign_in(page, server, "neighbour", display_name="Съсед", municipality=NEIGHBOUR)
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    expect(page.locator("#muni-select")).to_be_hidden()
    expect(page.locator("#muni-name")).to_have_text("Next Town")
    item = page.get_by_test_id("queue-item").filter(has_text="Chemical spill on the boundary road")
    item.click()
    expect(page.get_by_test_id("handed-over")).to_contain_text(MUNI)
    expect(page.locator("#details button[data-action]")).to_have_count(0)
    expect(page.locator("#note-text")).to_be_visible()

    # an operator of both: the switcher offers exactly the two
    other, errors = new_page(browser)
    try:
        sign_in(other, server, "both", display_name="Двете", municipality=[MUNI, NEIGHBOUR])
        other.goto(server.url)
        expect(other.locator("html")).to_have_attribute("data-ready", "true")
        options = other.locator("#muni-select option")
        expect(options).to_have_count(2)
        assert sorted(options.evaluate_all("os => os.map(o => o.value)")) == sorted(
            [MUNI, NEIGHBOUR]
        )
    finally:
        other.context.close()
    assert not errors


def test_admin_sees_the_retention_jobs_last_run_an_operator_does_not(
    server: LiveServer, fresh_page: Page, browser: Browser
) -> None:
    assert server.center is not None
    settings = server.center.settings
    store = retention.EvidenceStore(settings.evidence_root, settings.evidence_retention_days)
    run = retention.run(server.center.db, MUNI, RetentionPolicy(), store, actor="test")
    assert run.ok

    page = fresh_page
    sign_in(page, server, "admin", display_name="Admin", role=Role.ADMIN)
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    page.locator("#tab-overview").click()
    card = page.get_by_test_id("retention-card")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("retention-last")).to_contain_text("done")
    expect(card).to_contain_text("Snapshots and clips")

    other, errors = new_page(browser)
    try:
        sign_in(other, server, "operator-2", display_name="Operator", role=Role.OPERATOR)
        other.goto(server.url)
        expect(other.locator("html")).to_have_attribute("data-ready", "true")
        other.locator("#tab-overview").click()
        expect(other.locator(".ov-card").first).to_be_visible()
        expect(other.get_by_test_id("retention-card")).to_have_count(0)
    finally:
        other.context.close()
    assert not errors


def test_an_account_without_a_membership_is_told_and_sees_nothing(
    server: LiveServer, fresh_page: Page
) -> None:
    page = fresh_page
    sign_in(page, server, "nobody", display_name="Nobody", role=None)
    page.goto(server.url)
    expect(page.locator(".toast-error")).to_contain_text("no role in any municipality")
    for tab in ("ops", "wall", "overview", "audit"):
        expect(page.locator(f"#tab-{tab}")).to_be_hidden()
    expect(page.get_by_test_id("queue-item")).to_have_count(0)


def test_a_liaisons_console_empties_when_its_time_is_up(
    server: LiveServer, fresh_page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The membership ends while the console is open: the server ends the live feed, the
    console finds the membership gone and starts afresh, showing nothing of the incidents."""
    monkeypatch.setattr(routes_live, "RECHECK_S", 1.0)
    police = store_incident_quietly(server, "Burglary at the pharmacy")
    assign(server, police, "police")
    page = fresh_page
    soon = datetime.now(UTC) + timedelta(seconds=6)
    sign_in(
        page,
        server,
        "brief",
        display_name="Кратък",
        role=Role.LIAISON,
        agency="police",
        expires_at=soon,
    )
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    expect(page.locator(".toast-error")).to_contain_text(
        "no role in any municipality", timeout=20_000
    )
    expect(page.get_by_test_id("queue-item")).to_have_count(0)
    expect(page.locator("#tab-ops")).to_be_hidden()
