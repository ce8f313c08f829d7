"""Login, logout, the end of a session and the CSRF refusal, in headless Chromium against a real
server: a console without a session shows its login screen; a wrong password is said so; a
session that ends while the operator works brings the login back over the console as it was,
and after signing in again the operator is where they were; a write without the session's
X-CSRF-Token is refused by the server and the console says why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from cityops.api import routes_live
from cityops.services import sessions
from tests.browser.chromium import OPERATOR
from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.test_console_live import store_incident_quietly
from tests.harness.live_server import LiveServer
from tests.town import MUNI

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


def ready(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")


def log_in_on_screen(page: Page, username: str, password: str) -> None:
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()


def incident_status(server: LiveServer, incident_id: int) -> str:
    response = page_api(server, f"/m/{MUNI}/incidents/{incident_id}")
    status: str = response["status"]
    return status


def page_api(server: LiveServer, path: str) -> dict[str, Any]:
    import httpx

    response = httpx.get(server.api(path), headers=server.headers(), timeout=5)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def test_login_wrong_password_then_right_then_logout(server: LiveServer, fresh_page: Page) -> None:
    page = fresh_page
    sign_in(page, server)  # makes the account (and a session the test throws away)
    page.context.clear_cookies()
    page.goto(server.url)
    screen = page.get_by_test_id("login-screen")
    expect(screen).to_be_visible()
    expect(page.locator(".topbar")).to_have_attribute("inert", "")
    # before anyone signs in the console cannot ask the server's language: Bulgarian, switchable
    expect(page.locator("#login-title")).to_have_text("Вход в контролния център")
    screen.locator(".login-lang-btn[data-lang=en]").click()
    expect(page.locator("#login-title")).to_have_text("Sign in to the control center")

    log_in_on_screen(page, "ivanova", "not-the-password")
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    expect(screen).to_be_visible()

    log_in_on_screen(page, "ivanova", PASSWORD)
    expect(screen).to_be_hidden()
    ready(page)
    expect(page.locator("#user-name")).to_have_text(OPERATOR)

    page.locator("#btn-logout").click()
    expect(screen).to_be_visible()
    # the server ended the session: the cookie the browser held opens nothing any more
    assert page.request.get(server.api("/auth/me")).status == 401


def test_session_end_shows_login_over_the_console_and_keeps_the_place(
    server: LiveServer, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the request's 401 is what this test is about: the live feed must not notice first
    monkeypatch.setattr(routes_live, "RECHECK_S", 3600.0)
    incident_id = store_incident_quietly(server, "River over the bank")
    page.goto(server.url)
    ready(page)
    item = page.get_by_test_id("queue-item").filter(has_text="River over the bank")
    item.click()
    head = page.get_by_test_id("incident-head")
    expect(head).to_have_attribute("data-incident-id", str(incident_id))

    # the session ends at the server (idle timeout, or ended elsewhere)
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "cityops_session")
    assert server.center is not None
    with server.center.db.begin() as conn:
        assert sessions.close_session(conn, cookie)

    # the operator's next request is answered 401: the login comes over the console as it is
    # (the incident panel's own requests may get there first: dispatched, not clicked, so the
    # write is sent whether or not the console is already inert behind the login)
    page.locator("#details button[data-action=acknowledge]").dispatch_event("click")
    screen = page.get_by_test_id("login-screen")
    expect(screen).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("session has ended")
    expect(page.locator("#login-username")).to_have_value("ivanova")
    assert incident_status(server, incident_id) == "new"

    log_in_on_screen(page, "ivanova", PASSWORD)
    expect(screen).to_be_hidden()
    # where they were: the same incident open, the live feed on again, and acting works
    expect(head).to_have_attribute("data-incident-id", str(incident_id))
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    page.locator("#details button[data-action=acknowledge]").click()
    expect(head).to_have_attribute("data-status", "acknowledged")
    assert incident_status(server, incident_id) == "acknowledged"


def test_session_end_seen_by_the_live_feed_alone_shows_the_login(
    server: LiveServer, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody clicks: the server ends the live feed of an ended session (it re-reads the
    session every RECHECK_S), the console asks /auth/me, gets 401, shows the login."""
    monkeypatch.setattr(routes_live, "RECHECK_S", 1.0)
    page.goto(server.url)
    ready(page)
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "cityops_session")
    assert server.center is not None
    with server.center.db.begin() as conn:
        assert sessions.close_session(conn, cookie)
    screen = page.get_by_test_id("login-screen")
    expect(screen).to_be_visible(timeout=15_000)
    expect(page.locator("#login-error")).to_contain_text("session has ended")
    log_in_on_screen(page, "ivanova", PASSWORD)
    expect(screen).to_be_hidden()
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")


def test_a_write_without_the_csrf_token_is_refused_and_the_console_says_why(
    server: LiveServer, page: Page
) -> None:
    incident_id = store_incident_quietly(server, "Bridge camera offline")
    page.goto(server.url)
    ready(page)

    def strip_csrf(route: Route) -> None:
        headers = {k: v for k, v in route.request.headers.items() if k.lower() != "x-csrf-token"}
        route.continue_(headers=headers)

    page.route("**/api/v1/m/*/incidents/*/*", strip_csrf)
    page.get_by_test_id("queue-item").filter(has_text="Bridge camera offline").click()
    page.locator("#details button[data-action=acknowledge]").click()
    expect(page.locator(".toast-error")).to_contain_text("X-CSRF-Token")
    expect(page.locator(".toast-error")).to_contain_text("Refused for your safety")
    assert incident_status(server, incident_id) == "new"
    # the session itself is fine: no login screen, and with the header the write goes through
    expect(page.get_by_test_id("login-screen")).to_be_hidden()
    page.unroute("**/api/v1/m/*/incidents/*/*")
    page.locator("#details button[data-action=acknowledge]").click()
    expect(page.get_by_test_id("incident-head")).to_have_attribute("data-status", "acknowledged")
