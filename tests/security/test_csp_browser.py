"""The console works under its Content-Security-Policy in headless Chromium: the login
screen, signing in on it, the map (Leaflet, marker clusters), a live incident, its details with
the chart (uPlot), the camera wall, the overview and the audit view raise no CSP violation. And
the policy is really enforced: an injected inline script is refused (and seen as a violation)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cityops.domain.access import Membership, Role
from cityops.services import accounts
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, new_page
from tests.harness.live_server import LiveServer
from tests.town import MUNI, TOWN_YAML

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser]

PASSWORD = "csp-check-password-1"
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${where}`);
});
"""


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for this module (module-scoped like tests/browser's: Playwright's sync
    API cannot run twice at once); skipped without it, failed under CI=true."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: apt-get install chromium (or run `make test`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path, None, [TOWN_YAML]) as running:
        assert running.center is not None
        with running.center.db.begin() as conn:
            uid = accounts.create_user(
                conn,
                username="csp",
                display_name="CSP Check",
                password=PASSWORD,
                installation_admin=True,
                now=datetime.now(UTC),
            )
            accounts.grant(
                conn,
                uid,
                Membership(MUNI, Role.ADMIN, None, None, False),
                granted_by="test",
                now=datetime.now(UTC),
            )
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    p, errors = new_page(browser)
    p.context.add_init_script(WATCH_CSP)
    console: list[str] = []
    p.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    p.console_csp = console  # type: ignore[attr-defined]
    yield p
    p.context.close()
    assert not errors, f"uncaught JavaScript errors in the console: {errors}"


def log_in(page: Page, server: LiveServer) -> str:
    r = page.context.request.post(
        server.api("/auth/login"), data={"username": "csp", "password": PASSWORD}
    )
    assert r.status == 200, r.text()
    csrf: str = r.json()["csrf"]
    return csrf


def flood(page: Page, server: LiveServer, csrf: str) -> None:
    """River readings above 2.8 m for 12 minutes through HTTP ingest (rule flood-level)."""
    start = datetime.now(UTC) - timedelta(minutes=12)
    readings = [
        {"sensor": "river-1", "value": 3.1, "ts": (start + timedelta(minutes=i)).isoformat()}
        for i in range(13)
    ]
    r = page.context.request.post(
        server.api(f"/m/{MUNI}/readings"),
        data={"readings": readings},
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert r.status == 200, r.text()


def violations(page: Page) -> list[str]:
    seen: list[str] = page.evaluate("window.__csp")
    return seen + page.console_csp  # type: ignore[attr-defined]


def test_the_console_runs_under_its_policy(page: Page, server: LiveServer) -> None:
    response = page.goto(server.url)
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_test_id("login-screen")).to_be_visible()
    page.locator("#login-username").fill("csp")
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    csrf = page.context.request.get(server.api("/auth/me")).json()["csrf"]
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator("#map.leaflet-container")).to_be_visible()
    expect(page.locator("#map .leaflet-pane canvas").first).to_be_attached()
    flood(page, server, csrf)
    item = page.get_by_test_id("queue-item").filter(has_text="River level high")
    expect(item).to_have_count(1, timeout=5000)
    expect(page.get_by_test_id("incident-marker")).to_have_count(1)
    item.click()
    expect(page.locator("#details-body")).to_contain_text("River level high")
    page.keyboard.press("2")
    expect(page.locator("#view-wall")).to_be_visible()
    page.keyboard.press("3")
    expect(page.locator("#view-overview")).to_be_visible()
    page.keyboard.press("4")  # an admin reads the audit: the auditor's view
    expect(page.locator("#view-audit")).to_be_visible()
    page.keyboard.press("1")
    page.wait_for_timeout(500)  # late image and chart loads report their violations too
    assert violations(page) == []


def test_an_injected_inline_script_is_refused(page: Page, server: LiveServer) -> None:
    """The check above can fail: what the policy refuses is seen."""
    log_in(page, server)
    page.goto(server.url)
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    ran = page.evaluate(
        """() => new Promise((done) => {
             const s = document.createElement('script');
             s.textContent = 'window.__inline = true';
             document.head.append(s);
             const d = document.createElement('div');
             d.innerHTML = '<img src="x" onerror="window.__inline = true">';
             document.body.append(d);
             setTimeout(() => done(window.__inline === true), 300);
           })"""
    )
    assert ran is False
    found = violations(page)
    assert any(v.startswith("script-src") for v in found), found
